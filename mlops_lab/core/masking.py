"""Hiding secrets before a value is shown or stored.

Two kinds of secret reach us: passwords inside store URIs (shown by ``mlops-lab info``,
``/health`` and error messages) and notebook parameters whose *names* say they are
credentials (never logged to MLflow in clear).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# A name is secret when one of its words (split on _ - . or camelCase) is one of these.
_SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "key",
        "apikey",
        "credential",
        "credentials",
        "auth",
        "private",
    }
)
_WORD_SPLIT = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")


def mask_uri(uri: str | None) -> str | None:
    """Replace the password in ``scheme://user:password@host/...`` with ``***``."""
    if not uri or "@" not in uri:
        return uri
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{user}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def is_secret_name(name: str) -> bool:
    """True when a parameter name looks like a credential (``api_key``, ``dbPassword``)."""
    words = [w.lower() for w in _WORD_SPLIT.split(name) if w]
    return any(w in _SECRET_WORDS for w in words) or "password" in name.lower()


def mask_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``params`` with every credential-looking value replaced by ``***``."""
    return {k: (MASK if is_secret_name(str(k)) else v) for k, v in params.items()}
