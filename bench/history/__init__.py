"""The history of every run: a store (SQLite or PostgreSQL), its series, their change points and a page."""
