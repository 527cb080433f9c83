"""The kernel's logging worker: MLflow writes happen here, in order, not in the user's cell.

Creating runs, logging a fit's params, metrics, plots, dataset and model, and ending runs
are queued by the session and run one after another on a single daemon thread, so a cell
that fits a model returns as soon as the fit does. Order is kept (a fit's run exists
before its post-training score is logged on it). A task that fails is kept as a
:class:`LoggingFailure` until the face asks for it (the next ``%mlops`` call prints it),
never dropped silently. :meth:`LoggingWorker.flush` waits, bounded, for the queue to drain:
``%mlops end``, a new ``%mlops track`` and kernel shutdown call it.

Why a hand-written thread and not MLflow's async logging: MLflow's async mode covers
params, metrics and tags, not models, figures or datasets, which are what costs seconds.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

MAX_QUEUED = 64
"""Tasks waiting at most; past that a cell waits for room (each task may hold a model)."""


@dataclass(frozen=True)
class LoggingFailure:
    """One task that did not complete: what it was for and why, in one line each."""

    what: str
    error: str
    detail: str
    """The traceback, for ``--debug`` style output and the tests."""

    def line(self) -> str:
        return f"{self.what}: {self.error}"


@dataclass(frozen=True)
class FlushResult:
    """What :meth:`LoggingWorker.flush` left undone when its time ran out."""

    pending: int
    waiting_on: str | None

    @property
    def complete(self) -> bool:
        return self.pending == 0


@dataclass
class _Task:
    what: str
    run: Callable[[], None]
    done: threading.Event


_STOP = _Task("stop", lambda: None, threading.Event())


class LoggingWorker:
    """One daemon thread running queued tasks in order; see the module docstring."""

    def __init__(self, name: str = "mlops-logging") -> None:
        self._queue: queue.Queue[_Task] = queue.Queue(maxsize=MAX_QUEUED)
        self._failures: list[LoggingFailure] = []
        self._lock = threading.Lock()
        self._current: str | None = None
        self._unfinished = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, what: str, run: Callable[[], None]) -> threading.Event:
        """Queue ``run``; the returned event is set once it has run (or failed)."""
        task = _Task(what, run, threading.Event())
        with self._lock:
            self._unfinished += 1
        self._queue.put(task)
        return task.done

    @property
    def pending(self) -> int:
        with self._lock:
            return self._unfinished

    @property
    def current(self) -> str | None:
        """What the worker is doing now, for a message while someone waits."""
        return self._current

    def flush(
        self, timeout: float, on_wait: Callable[[int, str | None], None] | None = None
    ) -> FlushResult:
        """Wait until every queued task has run, at most ``timeout`` seconds.

        ``on_wait`` is called once, with the pending count and the current task, if the
        queue is not already empty after a short grace (so a quick flush prints nothing).
        """
        deadline = time.monotonic() + timeout
        grace = min(0.2, timeout)
        told = False
        while self.pending and time.monotonic() < deadline:
            if not told and on_wait is not None and time.monotonic() > deadline - timeout + grace:
                on_wait(self.pending, self._current)
                told = True
            time.sleep(0.01)
        return FlushResult(self.pending, self._current)

    def take_failures(self) -> list[LoggingFailure]:
        """The failures since the last call (each reported once)."""
        with self._lock:
            failures, self._failures = self._failures, []
        return failures

    def record_failure(self, what: str, exc: BaseException) -> None:
        """Keep a failure a task caught itself (one step of several that went on)."""
        with self._lock:
            self._failures.append(_failure(what, exc))

    def stop(self) -> None:
        """End the thread after the queued tasks (``%unload_ext``); no flush of its own."""
        self._queue.put(_STOP)

    def _loop(self) -> None:
        while True:
            task = self._queue.get()
            if task is _STOP:
                return
            self._current = task.what
            try:
                task.run()
            except BaseException as exc:  # kept for the next %mlops call; the loop goes on
                self.record_failure(task.what, exc)
            finally:
                self._current = None
                with self._lock:
                    self._unfinished -= 1
                task.done.set()


def _failure(what: str, exc: BaseException) -> LoggingFailure:
    message = getattr(exc, "message", None) or str(exc)
    first = str(message).strip().splitlines()[0] if str(message).strip() else ""
    error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return LoggingFailure(what, error, detail)
