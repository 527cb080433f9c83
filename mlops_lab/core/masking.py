"""Hiding secrets before a value is shown or stored.

Two kinds of secret reach us: passwords inside URIs (store URIs shown by ``mlops-lab
info``, ``/health`` and error messages; a DSN a notebook logs as a param) and notebook
variables whose *names* say they are credentials (never logged to MLflow in clear).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
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


# ``scheme://user:password@``: the userinfo of a URI anywhere inside a longer text.
_URI_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@?#'\"]*:)(?P<password>[^\s@/?#'\"]+)@"
)


def uri_passwords(text: str) -> list[str]:
    """The passwords of the URIs inside ``text`` (``postgresql://u:pw@h/db`` gives ``pw``)."""
    return [m["password"] for m in _URI_PASSWORD.finditer(text) if m["password"] != MASK]


def mask_uri_passwords(text: str) -> str:
    """``text`` with the password of every URI in it replaced by ``***``.

    Unlike :func:`mask_uri`, the URI may be anywhere in the text (``dsn=postgresql://...``,
    a line of code, an error message).
    """
    if "://" not in text:
        return text
    return _URI_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)


def is_secret_name(name: str) -> bool:
    """True when a parameter name looks like a credential (``api_key``, ``dbPassword``)."""
    words = [w.lower() for w in _WORD_SPLIT.split(name) if w]
    return any(w in _SECRET_WORDS for w in words) or "password" in name.lower()


def mask_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``params`` with every credential-looking value replaced by ``***``."""
    return {k: (MASK if is_secret_name(str(k)) else v) for k, v in params.items()}


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``secrets`` and every URI password masked.

    For values known to be secret (a job's credential-looking parameters), wherever they
    show up: printed by a cell, echoed in a traceback, written into a notebook. Longer
    secrets are replaced first, so one that contains another is masked whole.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_uri_passwords(text)


def secret_spellings(secrets: Iterable[str]) -> list[str]:
    """Every way Python code or output spells ``secrets``: as is, in a ``repr``, and as
    papermill writes a string parameter (``unicode_escape`` plus ``\\"``), longest first.
    """
    spellings: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        escaped = secret.encode("unicode_escape").decode("utf-8")
        spellings.update({secret, repr(secret)[1:-1], escaped, escaped.replace('"', '\\"')})
    return sorted(spellings, key=len, reverse=True)


def json_spellings(secrets: Iterable[str]) -> list[str]:
    """Every way ``secrets`` can be spelled inside a notebook's JSON text.

    Each of :func:`secret_spellings`, as is and escaped as a JSON string (with and
    without ``ensure_ascii``): masking the JSON text with all of them leaves none readable.
    """
    spellings: set[str] = set()
    for form in secret_spellings(secrets):
        spellings.update({form, json.dumps(form, ensure_ascii=False)[1:-1], json.dumps(form)[1:-1]})
    return sorted(spellings, key=len, reverse=True)
