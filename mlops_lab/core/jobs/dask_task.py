"""What a Dask worker runs for one claimed execution: the same :class:`Worker` code as the
local pool (papermill, a fresh kernel, the attempt's MLflow run, the output notebook).

A Dask worker is a process someone else started (``dask worker``, dask-kubernetes,
dask-jobqueue), so everything the attempt needs travels with the task: the project root
and the variables that name its stores. Each Dask worker process keeps one
:class:`Worker` per project (its store connection and its warm kernel), built by the
first task and reused by the next ones.

Dask starts a task again on another worker when the worker running it dies. A notebook
must not run twice, so the task first takes its attempt in our store
(:meth:`JobStore.take_attempt`); the copy started again finds it taken and returns
without running anything, and the runner reports the execution lost.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.jobs.store import Claimed
from mlops_lab.core.jobs.worker import Worker

log = logging.getLogger("mlops_lab.jobs")

BEGAN_TOPIC = "mlops-lab-attempt-began"
"""The Dask event topic on which a task says it took its attempt; the scheduler adds the
address of the worker it runs on, which the runner watches."""


@dataclass(frozen=True)
class TaskOutcome:
    """What a task tells the runner: whether it ran the attempt, and on which Dask worker."""

    execution_id: str
    ran: bool
    """False when the attempt had been taken before (a copy Dask started again)."""
    worker: str


_workers: dict[tuple[str, tuple[tuple[str, str], ...]], Worker] = {}
_workers_lock = threading.Lock()


def run_claimed(claimed: Claimed, root: str, environment: dict[str, str]) -> TaskOutcome:
    """Run one claimed attempt on this Dask worker and record it in our store.

    Args:
        claimed: what the runner claimed (execution, job, values in clear).
        root: the project root, the same path on every host (a shared filesystem).
        environment: the runner's ``Settings.store_environment()``, so this process finds
            the same stores whatever its own environment says.
    """
    from distributed import get_worker

    dask_worker = get_worker()
    here = worker_label(str(dask_worker.name), dask_worker.address)
    worker = _worker_for(root, environment)
    execution = claimed.execution
    if not worker.store.take_attempt(execution.id, execution.attempt):
        log.warning(
            "mlops-lab: attempt %s of %s was taken before; Dask started it again after "
            "its worker was lost, and it is not run twice",
            execution.attempt,
            execution.id,
        )
        return TaskOutcome(execution.id, ran=False, worker=here)
    dask_worker.log_event(BEGAN_TOPIC, {"execution_id": execution.id, "attempt": execution.attempt})
    worker.run(claimed)
    return TaskOutcome(execution.id, ran=True, worker=here)


def _worker_for(root: str, environment: dict[str, str]) -> Worker:
    """This process's :class:`Worker` for the project (built once, then shared by its threads)."""
    key = (root, tuple(sorted(environment.items())))
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            settings = resolve_settings(root, environ={**os.environ, **environment})
            worker = _workers[key] = Worker(settings, keep_kernel=True)
        return worker


def worker_label(name: str, address: str) -> str:
    """How a Dask worker is named in logs and errors: its name, and its address if other."""
    return address if name == address else f"{name} ({address})"
