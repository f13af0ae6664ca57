"""Passwords kept inside the process: every message, page and file shows a store's URL through :func:`redact`.

A password reaches the suite in a URL's user part (``user:pw@host``), in its query (``?password=``,
``?sslpassword=``, ``?pwd=``, any parameter whose name says password, secret or token) or in an environment
variable (``PGPASSWORD`` and the like).  :func:`redact` masks each form wherever it appears in a text, so a driver's
error message that echoes a connection string is safe to show as well.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

MASK = "***"
#: names of environment variables that hold a secret (PGPASSWORD, DB_TOKEN, ...; not PWD, the working folder)
_SECRET_NAME = re.compile(r"passw(or)?d|passphrase|secret|token|credential|api[_-]?key", re.IGNORECASE)
#: names of URL and connection-string parameters that hold a secret
_SECRET_PARAMETER = re.compile(r"pwd|.*passw(or)?d|passphrase|.*secret.*|.*token.*|.*api[_-]?key", re.IGNORECASE)
#: ``scheme://user:password@`` (the password may hold any character but ``@`` and ``/``)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@/\s]*)(?=@)")
#: ``name=value`` in a query string or a libpq keyword string
_PARAMETER = re.compile(r"(?P<head>(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)\s*=\s*)(?P<secret>'[^']*'|[^&;\s]*)")


def _secrets_in_environment() -> list[str]:
    return [value for name, value in os.environ.items() if _SECRET_NAME.search(name) and len(value) >= 3]


def redact(text) -> str:
    """``text`` with every password it may hold replaced by ``***``: URL user parts, secret-named
    parameters, and the values of secret-named environment variables (also percent-decoded)."""
    text = str(text)
    found = []

    def user_part(match: re.Match) -> str:
        found.append(match["secret"])
        return match["head"] + MASK

    def parameter(match: re.Match) -> str:
        if not _SECRET_PARAMETER.fullmatch(match["name"]):
            return match[0]
        found.append(match["secret"].strip("'"))
        return match["head"] + MASK

    text = _USERINFO.sub(user_part, text)
    text = _PARAMETER.sub(parameter, text)
    for secret in {*found, *_secrets_in_environment()}:
        for form in {secret, unquote(secret)}:
            if len(form) >= 3:
                text = text.replace(form, MASK)
    return text
