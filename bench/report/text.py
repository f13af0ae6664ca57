"""Prose of a report, wrapped: the first screen must read without scrolling sideways."""

from __future__ import annotations

import textwrap

WIDTH = 150  # no line of a report's first screen may pass 160 characters


def wrap(text: str) -> list[str]:
    """``text`` as lines of at most WIDTH characters, never breaking a file name or a figure."""
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False, break_long_words=False)
