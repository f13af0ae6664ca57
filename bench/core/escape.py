"""Names from results files shown safely: in a terminal, in Markdown, in a plot and as a file name.

A results file may carry any string as a benchmark, machine, backend, profile or architecture name.  Shown
as they are, a newline forges a row or a heading, a ``|`` a column, ``<`` HTML, ``$...$`` mathtext in a plot,
an escape sequence drives the terminal.  Each function here shows the string itself, character for
character, in a form that cannot do any of that.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

#: characters that are never shown raw: control, format (bidi overrides, zero-width), line and paragraph
_INVISIBLE = ("Cc", "Cf", "Zl", "Zp")
#: Markdown's active characters, as HTML character references (GitHub renders them literally)
_MARKDOWN = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "`": "&#96;",
    "\\": "&#92;",
    "*": "&#42;",
    "$": "&#36;",
    "~": "&#126;",
}
#: names shown as code spans as they are (what built-in names look like)
_PLAIN = re.compile(r"[A-Za-z0-9_.:/+=\-\[\], ]*")


def _visible(char: str) -> str:
    """A control or format character as the escape Python would write for it (``\\n``, ``\\x1b``)."""
    return repr(char)[1:-1] if unicodedata.category(char) in _INVISIBLE else char


def terminal(text) -> str:
    """``text`` with every control and format character written as its escape: safe to print."""
    return "".join(_visible(char) for char in str(text))


def markdown(text) -> str:
    """``text`` as Markdown text (a table cell or prose) that renders as the string itself."""
    shown = "".join(_MARKDOWN.get(char, char) for char in terminal(text))
    return shown.replace("](", "]&#40;")  # brackets stay (benchmark names hold them); no link forms


def code(text) -> str:
    """``text`` as a code span where that shows it literally; otherwise as :func:`markdown` text."""
    text = str(text)
    return f"`{text}`" if _PLAIN.fullmatch(text) and "`" not in text else markdown(text)


def span(shown: str) -> str:
    """A name already passed through :func:`markdown` as a code span, where that shows it literally (a code
    span shows character references as typed, so an escaped name stays plain text)."""
    return shown if "&" in shown else f"`{shown}`"


def markdown_strings(value):
    """``value`` (parsed JSON) with every string in it, keys included, passed through :func:`markdown`: a
    results file ready for a Markdown report, whose names then need no escaping where they are used."""
    if isinstance(value, str):
        return markdown(value)
    if isinstance(value, dict):
        return {markdown(key): markdown_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [markdown_strings(item) for item in value]
    return value


def plot_text(text) -> str:
    """A name for a plot's title or label, from its raw or :func:`markdown` form: the string itself, control
    characters written as escapes (the plots turn mathtext off, so ``$`` is a dollar sign)."""
    return terminal(html.unescape(str(text)))


def file_name(*parts, suffix: str = "") -> str:
    """A file name for ``parts``: readable, at most 100 characters, and distinct for distinct parts (a digest
    of the parts themselves, so names that differ only in punctuation get files of their own)."""
    joined = "\x1f".join(map(str, parts))
    readable = re.sub(r"[^A-Za-z0-9]+", "-", joined).strip("-")[:80] or "x"
    return f"{readable}-{hashlib.sha256(joined.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}{suffix}"


def markdown_table(frame, *, index: bool = False) -> str:
    """A pandas frame as a Markdown table (tabulate), every header and text cell shown by :func:`markdown`."""
    shown = frame.rename(columns=markdown)
    shown = shown.apply(lambda column: column.map(lambda v: markdown(v) if isinstance(v, str) else v))
    if index:
        shown.index = shown.index.map(lambda v: markdown(v) if isinstance(v, str) else v)
    return shown.to_markdown(index=index)
