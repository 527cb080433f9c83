"""The Dask executor: claimed executions run as tasks on a Dask cluster we do not manage.

Whatever started the cluster (``dask scheduler`` and ``dask worker`` by hand, a
``LocalCluster``, dask-kubernetes, dask-jobqueue), the runner only connects to its
scheduler as a client. Each execution is one task, :func:`dask_task.run_claimed`, which
writes its progress and final state to our store itself, as a local worker does.

What this side adds is what Dask does not say on its own: when a Dask worker dies or
leaves while it runs an execution, the execution is reported lost once (FAILED
``WorkerDied`` naming the worker, or retried as its job says) and never run again by
Dask behind our back. A task that takes its attempt says so on the
:data:`~mlops_lab.core.jobs.dask_task.BEGAN_TOPIC` event topic, which the scheduler
stamps with the worker's address; when that worker leaves the cluster, the runner
cancels the task and reports the execution lost. A copy Dask started meanwhile finds the
attempt taken and returns without running it, which the runner reports the same way
(that covers a worker that died before its event got out). A task whose worker left
before it began is left to Dask, which runs it elsewhere: that is its first run.

A scheduler that does not answer leaves the executor with no room: executions stay
QUEUED, the runner's log says why, and it tries again every ``RECONNECT_S``. One lost
while executions ran takes them with it (its workers stop): they are reported lost.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import MlopsError, one_line
from mlops_lab.core.jobs.dask_task import BEGAN_TOPIC, TaskOutcome, run_claimed, worker_label
from mlops_lab.core.jobs.entities import ExecutionState
from mlops_lab.core.jobs.executors import WORKER_STOP_S, Executor, Finished
from mlops_lab.core.jobs.store import Claimed, JobStore
from mlops_lab.core.probes import cluster_size

log = logging.getLogger("mlops_lab.jobs")

CONNECT_TIMEOUT_S = 5.0
"""How long one attempt to reach the scheduler may take."""
RECONNECT_S = 5.0
"""How long the runner waits before trying an unreachable scheduler again."""
WATCH_S = 0.5
"""How often the list of the cluster's workers is read."""
POLL_S = 0.1
"""How often a stopping executor looks whether its cancelled executions have ended."""
TASK_PREFIX = "mlops-lab-execution"


@dataclass
class _InFlight:
    claimed: Claimed
    future: Any  # distributed.Future
    worker: str | None = None
    """The address of the Dask worker that took the attempt, once it said so."""


@dataclass(frozen=True)
class ClusterView:
    """The cluster as the scheduler last described it: its workers and their threads."""

    workers: dict[str, str]
    """Worker address -> how it is named in messages."""
    threads: int


class DaskExecutor(Executor):
    """Runs claimed executions as tasks on the Dask cluster whose scheduler is ``address``."""

    def __init__(self, settings: Settings, store: JobStore, address: str) -> None:
        self._settings = settings
        self._store = store
        self._address = address
        self._client: Any = None  # distributed.Client once connected
        self._next_connect = 0.0
        self._last_error: str | None = None
        self._view = ClusterView({}, 0)
        self._names: dict[str, str] = {}
        """Every worker seen, by address: a departed one is still named in its error."""
        self._next_watch = 0.0
        self._in_flight: dict[str, _InFlight] = {}
        self._done: queue.SimpleQueue[str] = queue.SimpleQueue()
        """Execution ids whose task ended, put there by the client's own thread."""
        self._began: queue.SimpleQueue[tuple[str, int, str]] = queue.SimpleQueue()
        """(execution id, attempt, worker address) of the tasks that took their attempt."""
        self._unsent: list[Finished] = []
        """Executions whose task could not be submitted, reported by the next poll."""
        self._connect()

    # -- the Executor interface ---------------------------------------------------------------

    def free(self) -> int:
        """The cluster's worker threads not taken by this executor's tasks."""
        if self._client is None:
            return 0
        return max(0, self._view.threads - len(self._in_flight))

    def busy(self) -> int:
        return len(self._in_flight)

    def ready(self) -> bool:
        """True once connected to a scheduler that has at least one worker."""
        return self._client is not None and self._view.threads > 0

    def start(self, claimed: Claimed) -> None:
        execution = claimed.execution
        try:
            future = self._client.submit(
                run_claimed,
                claimed,
                str(self._settings.root),
                self._settings.store_environment(),
                key=f"{TASK_PREFIX}-{execution.id}-{execution.attempt}",
                pure=False,
                retries=0,
            )
        except Exception as exc:  # the client broke since free() said there was room
            self._store.take_attempt(execution.id, execution.attempt)
            why = f"it could not be sent to the Dask scheduler {self._address}: {one_line(exc)}"
            self._unsent.append(Finished(execution.id, died=why))
            return
        self._in_flight[execution.id] = _InFlight(claimed, future)
        future.add_done_callback(lambda _: self._done.put(execution.id))

    def poll(self, timeout: float) -> list[Finished]:
        finished, self._unsent = self._unsent, []
        if self._client is None:
            time.sleep(timeout)
            self._connect()
            return finished
        finished += self._wait(timeout)
        self._note_began()
        if time.monotonic() >= self._next_watch:
            finished += self._watch()
            self._next_watch = time.monotonic() + WATCH_S
        return finished

    def shutdown(self) -> None:
        """Cancel the executions still running, as the local pool does, then leave.

        The workers are not ours to stop: each running attempt is asked to cancel through
        the store (its worker checks the flag every 0.25 s) and records itself CANCELLED;
        the runner waits up to ``WORKER_STOP_S`` for them. An execution left RUNNING by a
        runner that is gone would otherwise be failed by the next runner while its
        notebook still runs on the cluster.
        """
        for execution_id in list(self._in_flight):
            with contextlib.suppress(MlopsError):  # it ended meanwhile
                self._store.request_cancel(execution_id)
        deadline = time.monotonic() + WORKER_STOP_S
        while self._in_flight and self._client is not None and time.monotonic() < deadline:
            self._wait(min(POLL_S, max(0.0, deadline - time.monotonic())))
        if self._client is not None:
            client, self._client = self._client, None
            try:
                client.close(timeout=CONNECT_TIMEOUT_S)
            except Exception as exc:  # leaving must not fail the runner's exit
                log.warning("mlops-lab: closing the Dask client: %s", one_line(exc))

    # -- connecting ---------------------------------------------------------------------------

    def _connect(self) -> None:
        """Connect when it is time to try; log a change of state once, not every try."""
        if self._client is not None or time.monotonic() < self._next_connect:
            return
        import dask.config
        from distributed import Client

        # The client's calls (not only its first connect) give up on a silent scheduler
        # within this, instead of holding the runner's loop for Dask's default 30 s.
        dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT_S}s"})
        try:
            self._client = Client(self._address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            self._client.subscribe_topic(BEGAN_TOPIC, self._on_began)
            self._view = self._read_view()
            self._names.update(self._view.workers)
        except Exception as exc:  # OSError, TimeoutError, a refused handshake
            self._disconnect()
            self._next_connect = time.monotonic() + RECONNECT_S
            error = one_line(exc)
            if error != self._last_error:
                log.warning(
                    "mlops-lab: the Dask scheduler %s does not answer (%s); executions stay "
                    "queued, trying again every %.0f s",
                    self._address,
                    error,
                    RECONNECT_S,
                )
                self._last_error = error
            return
        self._last_error = None
        log.info(
            "mlops-lab: connected to the Dask scheduler %s: %s",
            self._address,
            cluster_size(len(self._view.workers), self._view.threads),
        )

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        self._view = ClusterView({}, 0)
        if client is not None:
            try:
                client.close(timeout=1)
            except Exception as exc:  # already broken: nothing more to do
                log.debug("closing a broken Dask client: %s", exc)

    def _read_view(self) -> ClusterView:
        info = self._client.scheduler_info(n_workers=-1)
        workers = info.get("workers", {})
        names = {a: worker_label(str(w.get("name", a)), a) for a, w in workers.items()}
        return ClusterView(names, sum(int(w.get("nthreads", 0)) for w in workers.values()))

    # -- following the tasks ------------------------------------------------------------------

    def _wait(self, timeout: float) -> list[Finished]:
        """The tasks that ended within ``timeout`` (a task ended twice is reported once)."""
        ended: list[str] = []
        try:
            ended.append(self._done.get(timeout=timeout))
            while True:
                ended.append(self._done.get_nowait())
        except queue.Empty:
            pass
        finished = []
        for execution_id in ended:
            flight = self._in_flight.pop(execution_id, None)
            if flight is not None:
                finished.append(self._outcome(flight))
                flight.future.release()  # else its result is kept, and recomputed if lost
        return finished

    def _outcome(self, flight: _InFlight) -> Finished:
        """A task that ended: done, or lost with the worker it ran on."""
        try:
            outcome: TaskOutcome = flight.future.result(timeout=CONNECT_TIMEOUT_S)
        except CancelledError:  # not by us: we forget a task before we cancel it
            if self._client is None or self._client.status != "running":
                execution = flight.claimed.execution
                self._store.take_attempt(execution.id, execution.attempt)  # none begins it
                return self._lost(flight, self._scheduler_lost_why(flight))
            return self._lost(flight, f"its Dask task was cancelled{self._on(flight)}")
        except Exception as exc:
            if type(exc).__name__ == "KilledWorker":  # Dask gave up after workers died
                return self._lost(flight, self._worker_died_why(flight))
            # an error before the attempt began (e.g. mlops-lab missing on the worker)
            return self._lost(flight, f"its Dask task failed: {one_line(exc)}")
        if outcome.ran:
            return Finished(outcome.execution_id)
        return self._lost(flight, self._worker_died_why(flight))  # the copy refused

    def _lost(self, flight: _InFlight, why: str) -> Finished:
        """The execution lost with its task, unless its attempt recorded its end first (a
        worker that died after writing its result, but before Dask had it): that result
        stands and is not overwritten by a failure."""
        execution = flight.claimed.execution
        current = self._store.get(execution.id)
        if current.attempt != execution.attempt or current.state is not ExecutionState.RUNNING:
            return Finished(execution.id)
        return Finished(execution.id, died=why)

    def _on(self, flight: _InFlight) -> str:
        """`` on <worker>`` when a worker said it took the attempt, else nothing."""
        if flight.worker is None:
            return ""
        return f" on {self._names.get(flight.worker, flight.worker)}"

    def _worker_died_why(self, flight: _InFlight) -> str:
        worker = self._on(flight).removeprefix(" on ")
        subject = f"its Dask worker {worker}" if worker else "its Dask worker"
        return f"{subject} died or left the cluster while it ran"

    def _scheduler_lost_why(self, flight: _InFlight) -> str:
        if flight.worker is None:
            return f"the Dask scheduler {self._address} was lost before it began"
        return f"the Dask scheduler {self._address} was lost while it ran{self._on(flight)}"

    def _on_began(self, event: tuple[float, Any]) -> None:
        """A task took its attempt (called on the client's thread: only queue it)."""
        _, message = event
        if isinstance(message, dict):
            self._began.put(
                (
                    str(message.get("execution_id")),
                    int(message.get("attempt", 0)),
                    str(message.get("worker")),
                )
            )

    def _note_began(self) -> None:
        try:
            while True:
                execution_id, attempt, worker = self._began.get_nowait()
                flight = self._in_flight.get(execution_id)
                if flight is not None and flight.claimed.execution.attempt == attempt:
                    flight.worker = worker
        except queue.Empty:
            pass

    def _watch(self) -> list[Finished]:
        """Read the cluster's workers; report the executions whose worker left it."""
        try:
            view = self._read_view()
        except Exception as exc:  # the scheduler went away: connect again later
            log.warning("mlops-lab: lost the Dask scheduler %s: %s", self._address, one_line(exc))
            return self._scheduler_lost()
        self._names.update(view.workers)
        self._view = view
        finished = []
        for execution_id, flight in list(self._in_flight.items()):
            if flight.worker is None or flight.worker in view.workers:
                continue
            log.warning(
                "mlops-lab: Dask worker %s left while running execution %s",
                self._names.get(flight.worker, flight.worker),
                execution_id,
            )
            del self._in_flight[execution_id]
            flight.future.cancel()  # a copy started elsewhere would refuse; none is started
            finished.append(self._lost(flight, self._worker_died_why(flight)))
        return finished

    def _scheduler_lost(self) -> list[Finished]:
        """The scheduler no longer answers: its tasks are gone with it, and so are the
        attempts they ran (a Dask worker stops when it loses its scheduler, its kernels
        with it). Each is reported lost, once, as with a lost worker.
        """
        finished = []
        for flight in self._in_flight.values():
            execution = flight.claimed.execution
            self._store.take_attempt(execution.id, execution.attempt)  # none begins it now
            finished.append(self._lost(flight, self._scheduler_lost_why(flight)))
        self._in_flight.clear()
        self._disconnect()
        self._next_connect = time.monotonic() + RECONNECT_S
        return finished
