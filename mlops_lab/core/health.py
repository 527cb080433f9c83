"""Does each store answer? Probed in parallel, each bounded by a timeout.

A tracking server that hangs must not hang JupyterLab or the sidebar: every probe runs
in a worker thread and is reported as not answering once ``timeout`` has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from mlops_lab.core.config import Setting, Settings
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.probes import probe_uri
from mlops_lab.core.store import LabStore
from mlops_lab.core.version import __version__

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
