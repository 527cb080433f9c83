"""Probing a store URI: does whatever it names answer, within a timeout?

Shared by ``/health`` and ``mlops-lab info`` (which report every store) and by the MLflow
connection (which refuses to wait on a tracking server that does not answer).
"""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text


def probe_uri(uri: str, timeout: float) -> str:
    """Return a short success message, or raise ``OSError``/``RuntimeError`` with the cause."""
    scheme = urlsplit(uri).scheme.split("+")[0]
    if scheme == "sqlite":
        return _probe_sqlite(uri, timeout)
    if scheme in ("http", "https"):
        return _probe_http(uri, timeout)
    if scheme in ("postgresql", "mysql", "mssql"):
        return _probe_sql(uri, timeout)
    if scheme in ("", "file"):
        path = Path(urlsplit(uri).path if scheme else uri)
        return "folder exists" if path.is_dir() else "folder will be created on first use"
    return f"not checked (scheme '{scheme}')"


def _probe_sqlite(uri: str, timeout: float) -> str:
    path = Path(uri.split(":///", 1)[1]) if ":///" in uri else None
    if path is None or not path.exists():
        return "database will be created on first use"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        connection.close()
    return "answered"


def _probe_http(uri: str, timeout: float) -> str:
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return f"answered HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        if exc.code < 500:
            return f"answered HTTP {exc.code}"
        raise RuntimeError(f"answered HTTP {exc.code}") from exc


def _probe_sql(uri: str, timeout: float) -> str:
    engine = create_engine(uri, connect_args={"connect_timeout": int(timeout)})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    return "answered"
