"""Does each store answer? Probed in parallel, each bounded by a timeout.

A tracking server that hangs must not hang JupyterLab or the sidebar: every probe runs
in a worker thread and is reported as not answering once ``timeout`` has passed.
"""

from __future__ import annotations

import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text

from mlops_lab.config import Setting, Settings
from mlops_lab.masking import mask_uri
from mlops_lab.store import LabStore
from mlops_lab.version import __version__

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class StoreStatus:
    name: str
    uri: str
    ok: bool
    message: str


@dataclass(frozen=True)
class HealthReport:
    version: str
    tracking_uri: str
    mlflow_ui_url: str | None
    settings: list[Setting]
    stores: list[StoreStatus]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stores)


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


def _run_probes(
    probes: dict[str, tuple[str, Callable[[], str]]], timeout: float
) -> list[StoreStatus]:
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="mlops-health")
    started = time.monotonic()
    futures = {name: (uri, pool.submit(fn)) for name, (uri, fn) in probes.items()}
    statuses = []
    for name, (uri, future) in futures.items():
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            message = future.result(timeout=remaining)
            ok = True
        except FutureTimeout:
            ok, message = False, f"did not answer within {timeout:g} s"
        except Exception as exc:  # any failure of a store is reported, never raised
            ok, message = False, f"does not answer: {_reason(exc)}"
        statuses.append(StoreStatus(name=name, uri=mask_uri(uri) or "", ok=ok, message=message))
    pool.shutdown(wait=False, cancel_futures=True)
    return statuses


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "orig", None) or exc
    return mask_uri(str(reason)) or exc.__class__.__name__


def check_health(
    settings: Settings, lab_store: LabStore | None = None, timeout: float = DEFAULT_TIMEOUT
) -> HealthReport:
    """Probe the tracking store, the registry (when it differs) and our own store."""
    probes: dict[str, tuple[str, Callable[[], str]]] = {
        "tracking": (settings.tracking_uri, lambda: probe_uri(settings.tracking_uri, timeout)),
        "registry": (settings.registry_uri, lambda: probe_uri(settings.registry_uri, timeout)),
    }

    def ping_lab() -> str:
        (lab_store or LabStore(settings.store_url)).ping()
        return "answered"

    probes["lab"] = (settings.store_url, ping_lab)
    return HealthReport(
        version=__version__,
        tracking_uri=mask_uri(settings.tracking_uri) or "",
        mlflow_ui_url=settings.mlflow_ui_url,
        settings=settings.describe(),
        stores=_run_probes(probes, timeout),
    )
