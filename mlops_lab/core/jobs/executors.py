"""Where claimed executions run: behind one small interface, so the runner does not care.

:class:`LocalExecutor` (the default) keeps warm worker processes on this machine;
:class:`~mlops_lab.core.jobs.dask_executor.DaskExecutor` hands the same claimed executions
to a Dask cluster (``executor = "dask://host:port"``). :func:`executor_for` picks one from
the settings, importing Dask only when they ask for it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import Unavailable
from mlops_lab.core.health import missing_executor_extra
from mlops_lab.core.jobs.store import Claimed, JobStore

log = logging.getLogger("mlops_lab.jobs")

WORKER_STOP_S = 10.0
"""How long a stopping worker gets to cancel its attempt and record it before SIGKILL."""


@dataclass(frozen=True)
class Finished:
    """An execution that left its worker: done (``died`` None) or lost with its worker."""

    execution_id: str
    died: str | None = None


class Executor(ABC):
    """Runs claimed executions; reports each one that leaves it."""

    @abstractmethod
    def free(self) -> int:
        """How many more executions it can start now."""

    @abstractmethod
    def start(self, claimed: Claimed) -> None: ...

    @abstractmethod
    def poll(self, timeout: float) -> list[Finished]:
        """Wait up to ``timeout`` seconds for executions to leave; return those that did."""

    @abstractmethod
    def busy(self) -> int: ...

    @abstractmethod
    def ready(self) -> bool:
        """True once every worker has started (and can take an execution)."""

    @abstractmethod
    def shutdown(self) -> None: ...


def executor_for(settings: Settings, store: JobStore) -> Executor:
    """The executor the ``executor`` setting names: the local pool or a Dask cluster.

    Raises:
        Unavailable: Dask is asked for but not installed (the message names the extra).
    """
    address = settings.dask_scheduler
    if address is None:
        return LocalExecutor(settings, settings.job_concurrency, settings.kernel_pool)
    require_executor(settings)
    from mlops_lab.core.jobs.dask_executor import DaskExecutor

    return DaskExecutor(settings, store, address)


def require_executor(settings: Settings) -> None:
    """Refuse, before a runner starts, an executor whose packages are not installed.

    Cheap (nothing is imported), so a face can call it before it queues anything.

    Raises:
        Unavailable: naming the extra to install, or the setting to change.
    """
    missing = missing_executor_extra(settings)
    if missing is not None:
        raise Unavailable(missing)


@dataclass
class _Slot:
    process: BaseProcess
    connection: Connection
    ready: bool = False
    execution_id: str | None = None


class LocalExecutor(Executor):
    """``workers`` warm processes; the first ``kernel_pool`` of them keep a kernel started.

    Workers are spawned (not forked: the runner holds threads and database connections)
    and replaced when one dies; a dead worker's execution is reported as lost. They are
    started one after the other: on a small machine the first job of a new runner starts
    sooner when the first worker does not share the cores with the others' imports.
    """

    def __init__(self, settings: Settings, workers: int, kernel_pool: int) -> None:
        self._settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._workers = workers
        self._kernel_pool = kernel_pool
        self._slots = [self._spawn(kernel_pool > 0)]

    def _spawn(self, keep_kernel: bool) -> _Slot:
        from mlops_lab.core.jobs.worker import worker_main

        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=worker_main,
            args=(theirs, str(self._settings.root), keep_kernel),  # the environment is inherited
            name="mlops-lab-worker",
            daemon=False,
        )
        process.start()
        theirs.close()
        return _Slot(process, ours)

    def free(self) -> int:
        return sum(1 for s in self._slots if s.ready and s.execution_id is None)

    def busy(self) -> int:
        return sum(1 for s in self._slots if s.execution_id is not None)

    def ready(self) -> bool:
        return len(self._slots) == self._workers and all(s.ready for s in self._slots)

    def start(self, claimed: Claimed) -> None:
        slot = next(s for s in self._slots if s.ready and s.execution_id is None)
        slot.execution_id = claimed.execution.id
        slot.connection.send(claimed)

    def poll(self, timeout: float) -> list[Finished]:
        waitables: list[object] = [s.connection for s in self._slots]
        waitables += [s.process.sentinel for s in self._slots]
        wait(waitables, timeout)  # type: ignore[arg-type]
        finished: list[Finished] = []
        for index, slot in enumerate(self._slots):
            while self._readable(slot):
                try:
                    message = slot.connection.recv()
                except (EOFError, OSError):
                    break
                if message[0] == "ready":
                    slot.ready = True
                    if len(self._slots) < self._workers:
                        index = len(self._slots)
                        self._slots.append(self._spawn(index < self._kernel_pool))
                elif message[0] == "done":
                    finished.append(Finished(message[1]))
                    slot.execution_id = None
            if not slot.process.is_alive():
                finished.extend(self._replace(index))
        return finished

    @staticmethod
    def _readable(slot: _Slot) -> bool:
        try:
            return slot.connection.poll()
        except (EOFError, OSError):
            return False

    def _replace(self, index: int) -> list[Finished]:
        slot = self._slots[index]
        lost = []
        if slot.execution_id is not None:
            code = slot.process.exitcode
            lost.append(
                Finished(
                    slot.execution_id,
                    died=f"its worker process (pid {slot.process.pid}) exited with code {code}",
                )
            )
            log.warning("mlops-lab: worker %s died running %s", slot.process.pid, slot.execution_id)
        slot.connection.close()
        self._slots[index] = self._spawn(index < self._kernel_pool)
        return lost

    def shutdown(self) -> None:
        """Idle workers leave at once; busy ones cancel their attempt, record it, then go."""
        for slot in self._slots:
            with contextlib.suppress(OSError, ValueError):
                slot.connection.send(None)
            if slot.execution_id is not None and slot.process.pid:
                slot.process.terminate()  # SIGTERM: the worker cancels and records it
        for slot in self._slots:
            slot.process.join(WORKER_STOP_S)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(2)
            slot.connection.close()
