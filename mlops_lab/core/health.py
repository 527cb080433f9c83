"""Does each store answer, and is its schema the one we expect? Probed in parallel, bounded.

A tracking server that hangs must not hang JupyterLab or the sidebar: every probe runs
in a worker thread and is reported as not answering once ``timeout`` has passed. Each
store's :class:`StoreState` says what was checked: a store not created yet or one whose
scheme cannot be probed is not reported as answering, and an MLflow database whose schema
is outdated or damaged by an interrupted migration is reported as broken, since MLflow
fails on it with a traceback.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from mlops_lab.core.config import Setting, Settings
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.mlflow import schema
from mlops_lab.core.probes import Probe, StoreState, probe_dask_scheduler, probe_uri
from mlops_lab.core.store import LabStore
from mlops_lab.core.version import __version__

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class StoreStatus:
    name: str
    uri: str
    state: StoreState
    message: str
    ok: bool = field(init=False)
    """True unless the store is down or broken (a store not created or not checked is ok)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", self.state.ok)


@dataclass(frozen=True)
class HealthReport:
    version: str
    tracking_uri: str
    mlflow_ui_url: str | None
    settings: list[Setting]
    stores: list[StoreStatus]
    executor: StoreStatus | None = None
    """Where job executions run and whether it answers; only when asked for (``info``)."""

    @property
    def ok(self) -> bool:
        checked = [*self.stores, *([self.executor] if self.executor else [])]
        return all(s.ok for s in checked)


def _run_probes(
    probes: dict[str, tuple[str, Callable[[], Probe]]], timeout: float
) -> list[StoreStatus]:
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="mlops-health")
    started = time.monotonic()
    futures = {name: (uri, pool.submit(fn)) for name, (uri, fn) in probes.items()}
    statuses = []
    for name, (uri, future) in futures.items():
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            probe = future.result(timeout=remaining)
        except FutureTimeout:
            probe = Probe(StoreState.DOWN, f"did not answer within {timeout:g} s")
        except Exception as exc:  # any failure of a store is reported, never raised
            probe = Probe(StoreState.DOWN, f"does not answer: {_reason(exc)}")
        statuses.append(
            StoreStatus(
                name=name, uri=mask_uri(uri) or "", state=probe.state, message=probe.message
            )
        )
    pool.shutdown(wait=False, cancel_futures=True)
    return statuses


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "orig", None) or exc
    return mask_uri(str(reason)) or exc.__class__.__name__


def probe_mlflow(uri: str, timeout: float) -> Probe:
    """Probe an MLflow store; for a SQL database, also compare its schema with MLflow's."""
    probe = probe_uri(uri, timeout)
    if probe.state is not StoreState.ANSWERED or not schema.is_sql(uri):
        return probe
    check = schema.inspect_settled(uri, timeout / 2)  # half: waiting must not look like DOWN
    if check is None:
        return Probe(StoreState.NOT_CREATED, "being created or migrated by another process")
    if check.state is schema.SchemaState.EMPTY:
        return Probe(
            StoreState.NOT_CREATED, "database has no MLflow tables yet: created on first use"
        )
    problem = check.problem(uri, subject="The database")
    if problem is not None:
        return Probe(StoreState.BROKEN, problem)
    return Probe(StoreState.ANSWERED, f"answered, schema current (revision {check.revision})")


def check_health(
    settings: Settings,
    lab_store: LabStore | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    executor: bool = False,
) -> HealthReport:
    """Probe the tracking store, the registry and our own store, and with ``executor``
    where job executions run (a Dask scheduler is asked how many workers it has).

    The executor is left out unless asked for: the server's ``/health`` is polled by every
    open JupyterLab, and a cluster's state is the job runner's business, not the page's.
    """
    probes: dict[str, tuple[str, Callable[[], Probe]]] = {
        "tracking": (settings.tracking_uri, lambda: probe_mlflow(settings.tracking_uri, timeout)),
        "registry": (settings.registry_uri, lambda: probe_mlflow(settings.registry_uri, timeout)),
    }

    def ping_lab() -> Probe:
        (lab_store or LabStore(settings.store_url)).ping()
        return Probe(StoreState.ANSWERED, "answered, schema current")

    probes["lab"] = (settings.store_url, ping_lab)
    if executor:
        probes["executor"] = (settings.executor, lambda: probe_executor(settings, timeout))
    statuses = _run_probes(probes, timeout)
    return HealthReport(
        version=__version__,
        tracking_uri=mask_uri(settings.tracking_uri) or "",
        mlflow_ui_url=settings.mlflow_ui_url,
        settings=settings.describe(),
        stores=[s for s in statuses if s.name != "executor"],
        executor=next((s for s in statuses if s.name == "executor"), None),
    )


def probe_executor(settings: Settings, timeout: float) -> Probe:
    """Where job executions run: the local pool, or a Dask scheduler and how many workers
    and threads it has (raises when the scheduler does not answer, as a store's probe does)."""
    address = settings.dask_scheduler
    if address is None:
        return Probe(
            StoreState.ANSWERED,
            f"worker processes on this machine: {settings.job_concurrency} at once, "
            f"{settings.kernel_pool} warm kernels",
        )
    missing = missing_executor_extra(settings)
    if missing is not None:
        return Probe(StoreState.DOWN, missing)
    return probe_dask_scheduler(address, timeout)


def missing_executor_extra(settings: Settings) -> str | None:
    """What to install for the ``executor`` setting to work; None when nothing is missing.

    Cheap (nothing is imported): the runner says it before it starts, and ``info`` too.
    """
    if settings.dask_scheduler is None or importlib.util.find_spec("distributed") is not None:
        return None
    return (
        f"executor = {settings.executor!r} needs Dask distributed, which is not installed "
        "in this Python environment: pip install 'mlops-lab[cluster]' (here and on every Dask "
        "worker), or set executor = 'local'."
    )
