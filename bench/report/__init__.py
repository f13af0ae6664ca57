"""Turning benchmark results into the Markdown API-choice report (tables, capability matrix, plots)."""
