"""Probing a store URI: does whatever it names answer, within a timeout?

Shared by ``/health`` and ``mlops-lab info`` (which report every store) and by the MLflow
connection (which refuses to wait on a tracking server that does not answer). A probe
says what it checked: a store that answered, one that is not created yet and one whose
scheme we cannot check are three different answers, not one "ok". ``mlops-lab info`` also
probes the Dask scheduler job executions run on, when the settings name one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text


class StoreState(StrEnum):
    """What a health check found for one store."""

    ANSWERED = "answered"  # checked: it answers (and its schema is current, where we check it)
    NOT_CREATED = "not_created"  # an embedded store created on first use
    NOT_CHECKED = "not_checked"  # a scheme we cannot check
    DOWN = "down"  # checked: it does not answer
    BROKEN = "broken"  # it answers, but its schema is outdated or damaged

    @property
    def ok(self) -> bool:
        return self in (StoreState.ANSWERED, StoreState.NOT_CREATED, StoreState.NOT_CHECKED)


@dataclass(frozen=True)
class Probe:
    state: StoreState
    message: str


def probe_uri(uri: str, timeout: float) -> Probe:
    """What the store at ``uri`` answered; raise ``OSError``/``RuntimeError`` when it does not."""
    scheme = urlsplit(uri).scheme.split("+")[0]
    if scheme == "sqlite":
        return _probe_sqlite(uri, timeout)
    if scheme in ("http", "https"):
        return _probe_http(uri, timeout)
    if scheme in ("postgresql", "mysql", "mssql"):
        return _probe_sql(uri, timeout)
    if scheme in ("", "file"):
        path = Path(urlsplit(uri).path if scheme else uri)
        if path.is_dir():
            return Probe(StoreState.ANSWERED, "folder exists")
        return Probe(StoreState.NOT_CREATED, "folder will be created on first use")
    return Probe(StoreState.NOT_CHECKED, f"not checked (mlops-lab cannot probe '{scheme}:' URIs)")


def _probe_sqlite(uri: str, timeout: float) -> Probe:
    path = Path(uri.split(":///", 1)[1]) if ":///" in uri else None
    if path is None or not path.exists():
        return Probe(StoreState.NOT_CREATED, "database will be created on first use")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError):
            raise  # locked, unreadable: it does not answer
        return Probe(
            StoreState.BROKEN,
            f"not a readable SQLite database ({exc}). Restore it from a backup, or, if it "
            "holds nothing you need, move the file away (a new one is created on first use).",
        )
    finally:
        connection.close()
    return Probe(StoreState.ANSWERED, "answered")


def _probe_http(uri: str, timeout: float) -> Probe:
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Probe(StoreState.ANSWERED, f"answered HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        if exc.code < 500:
            return Probe(StoreState.ANSWERED, f"answered HTTP {exc.code}")
        raise RuntimeError(f"answered HTTP {exc.code}") from exc


def _probe_sql(uri: str, timeout: float) -> Probe:
    engine = create_engine(uri, connect_args={"connect_timeout": int(timeout)})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    return Probe(StoreState.ANSWERED, "answered")


def probe_dask_scheduler(address: str, timeout: float) -> Probe:
    """How many workers and threads the Dask scheduler at ``address`` has; raise
    ``OSError``/``TimeoutError`` when it does not answer.

    The scheduler is asked for its identity over one connection (no client is registered
    with it), so probing a busy cluster costs it nothing.
    """
    identity = asyncio.run(asyncio.wait_for(_dask_identity(address, timeout), timeout))
    workers, threads = int(identity.get("n_workers", 0)), int(identity.get("total_threads", 0))
    if not workers:
        return Probe(
            StoreState.ANSWERED,
            "scheduler answered, but no worker is connected: executions stay queued until one is",
        )
    return Probe(StoreState.ANSWERED, f"scheduler answered: {cluster_size(workers, threads)}")


def cluster_size(workers: int, threads: int) -> str:
    """``2 workers, 4 threads`` (``1 worker, 1 thread``): a Dask cluster's size in words."""
    return (
        f"{workers} worker{'' if workers == 1 else 's'}, "
        f"{threads} thread{'' if threads == 1 else 's'}"
    )


async def _dask_identity(address: str, timeout: float) -> dict[str, Any]:
    from distributed.core import rpc

    async with rpc(address, timeout=timeout, connection_args={}) as scheduler:
        identity: dict[str, Any] = await scheduler.identity(n_workers=0)
        return identity
