"""The kernel's side of the logging process: send requests in order, never wait for them.

:class:`LoggingClient` starts the process (:mod:`~mlops_lab.core.tracking.logging_process`)
on first use, writes each request to it and returns a :class:`Pending`; a reader thread
takes the answers as they come. A request that failed becomes a :class:`LoggingFailure`,
kept until the face asks for it (the next ``%mlops`` command prints it), never dropped.
:meth:`LoggingClient.flush` waits, bounded, until everything sent is answered: ``%mlops
end``, ``%mlops runs`` and a new ``%mlops track`` call it. Pickling happens in the caller's
thread; everything else (MLflow's import included) in the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mlops_lab.core.errors import one_line

PROCESS_MODULE = "mlops_lab.core.tracking.logging_process"
PIPE_BYTES = 1 << 20
"""Linux's largest pipe for an unprivileged process: the process's reader thread takes a
big request in a few reads (each waits for its GIL), not in hundreds of 64 kB ones."""

Request = tuple[int, str, dict[str, Any]]
QUIET_FAILURES = {"RunNotOpen"}
"""Failures that only repeat one already reported (requests for a run that never opened)."""


OnDone = Callable[[Any, BaseException | None], None]
"""Told the request's value, or its error, once the answer comes (in the reader thread)."""


@dataclass(frozen=True)
class LoggingFailure:
    """One request that did not complete: what it was for and why, in one line each."""

    what: str
    error: str
    detail: str
    """The traceback from the logging process."""

    def line(self) -> str:
        return f"{self.what}: {self.error}"


class LoggingProcessGone(RuntimeError):
    """The process exited (killed, out of memory) with requests unanswered."""


class Pending:
    """One request's answer, once it comes."""

    def __init__(self, what: str, on_done: OnDone | None) -> None:
        self.what = what
        self._done = threading.Event()
        self._on_done = on_done
        self.value: Any = None
        self.error: BaseException | None = None

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def settle(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        try:
            if self._on_done is not None:
                self._on_done(value, error)
        finally:
            self._done.set()


class RemoteError(Exception):
    """An operation failed in the logging process (raised as itself when it is ours)."""

    def __init__(self, type_name: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.type_name, self.message, self.detail = type_name, message, detail


class LoggingClient:
    """See the module docstring. Safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._outbox: queue.Queue[Request | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._outstanding: OrderedDict[int, Pending] = OrderedDict()
        self._sent: set[int] = set()
        """The requests sent to the current process (a dead one fails only its own)."""
        self._next_id = 0
        self._failures: list[LoggingFailure] = []

    # -- sending -------------------------------------------------------------------------

    def start(self) -> bool:
        """Start the process now, so it imports MLflow while the user's cells go on;
        False when it had to be started (it will not answer soon), True when it runs."""
        with self._lock:
            running = self._process is not None and self._process.poll() is None
            self._ensure_process()
            return running

    def submit(
        self, what: str, operation: str, on_done: OnDone | None = None, **kwargs: Any
    ) -> Pending:
        """Send ``operation(**kwargs)`` to the process; returns at once.

        ``kwargs`` must not change afterwards (the session passes fresh values, a fit
        already pickled): a sender thread pickles and writes them, so a cell never waits
        for a busy process to read a 40 MB forest off the pipe.
        """
        pending = Pending(what, on_done)
        with self._lock:
            self._ensure_process()
            request_id = self._next_id
            self._next_id += 1
            self._outstanding[request_id] = pending
            self._sent.add(request_id)
            self._outbox.put((request_id, operation, kwargs))
        return pending

    def _send(self, outbox: queue.Queue[Request | None], requests: Connection) -> None:
        """The sender thread of one process: pickle and write, in order, until closed."""
        import cloudpickle

        while (request := outbox.get()) is not None:
            request_id = request[0]
            try:
                payload = cloudpickle.dumps(request)
            except Exception as exc:  # a value that does not pickle: that request fails
                self._fail(request_id, exc)
                continue
            try:
                requests.send_bytes(payload)
            except OSError as exc:  # the process died; the reader fails what it held
                self._fail(request_id, LoggingProcessGone(f"the logging process is gone: {exc}"))
        requests.close()

    def _fail(self, request_id: int, error: BaseException) -> None:
        with self._lock:
            pending = self._outstanding.pop(request_id, None)
        if pending is not None:
            self._keep(pending.what, error)
            pending.settle(error=error)

    def _ensure_process(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._sender is not None:  # a dead process's sender: fail what it holds, stop
            self._outbox.put(None)
        request_read, request_write = os.pipe()
        answer_read, answer_write = os.pipe()
        from mlops_lab.core.tracking.logging_process import ONE_THREAD

        log = self._log_file()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", PROCESS_MODULE, str(request_read), str(answer_write)],
                pass_fds=(request_read, answer_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, **ONE_THREAD},
                # A process group of its own: Jupyter kills a kernel's group at shutdown, and
                # this process must finish first. Not a session of its own: Linux schedules
                # each session as a group of equal weight, which would void its low priority.
                process_group=0,
            )
        finally:
            os.close(log)  # the child has its own copy
        os.close(request_read)
        os.close(answer_write)
        with contextlib.suppress(OSError, AttributeError):  # a 1 MB pipe: fewer, larger reads
            fcntl.fcntl(request_write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._outbox = queue.Queue()
        self._sender = threading.Thread(
            target=self._send,
            args=(self._outbox, Connection(request_write, readable=False)),
            name="mlops-requests",
            daemon=True,
        )
        self._sender.start()
        answers = Connection(answer_read, writable=False)
        self._sent = set()
        threading.Thread(
            target=self._read_answers,
            args=(answers, self._process, self._sent),
            name="mlops-answers",
            daemon=True,
        ).start()

    @staticmethod
    def _log_file() -> int:
        """Where the process's own warnings go: not the kernel's stderr, which ipykernel
        shows in the user's cell (MLflow warns on every model it saves). Failures reach
        the user as :class:`LoggingFailure` lines; this file is for digging deeper."""
        path = Path(tempfile.gettempdir()) / f"mlops-lab-logging-{os.getpid()}.log"
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    # -- answers -------------------------------------------------------------------------

    def _read_answers(
        self, answers: Connection, process: subprocess.Popen[bytes], sent: set[int]
    ) -> None:
        while True:
            try:
                request_id, ok, value = answers.recv()
            except (EOFError, OSError):
                self._orphan(process, sent)
                return
            with self._lock:
                pending = self._outstanding.pop(request_id, None)
                sent.discard(request_id)
            if pending is None:
                continue
            error: BaseException | None = None
            if not ok:
                type_name, message, detail, same = value
                error = same if same is not None else RemoteError(type_name, message, detail)
                if type_name not in QUIET_FAILURES:
                    self._keep(pending.what, error, detail)
            try:
                pending.settle(None if error else value, error)
            except Exception as exc:  # our own on_done failed: still reported
                self._keep(pending.what, exc)

    def _orphan(self, process: subprocess.Popen[bytes], sent: set[int]) -> None:
        """``process`` is gone: fail what it was sent and never answered. Requests sent
        since to a new process are not its own (they raced with its pipe closing)."""
        with self._lock:
            left = [self._outstanding.pop(i) for i in sorted(sent) if i in self._outstanding]
            if self._process is process:
                self._process = None
        for pending in left:
            error = LoggingProcessGone("the logging process exited before answering")
            pending.settle(error=error)
            self._keep(pending.what, error)

    # -- state ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._outstanding)

    @property
    def current(self) -> str | None:
        """The oldest unanswered request: what the process is doing now."""
        with self._lock:
            return next(iter(self._outstanding.values())).what if self._outstanding else None

    def flush(
        self, timeout: float, on_wait: Callable[[int, str | None], None] | None = None
    ) -> int:
        """Wait until every request sent is answered, at most ``timeout`` seconds; returns
        how many are left. ``on_wait`` is told once, after a short grace, if it must wait."""
        deadline = time.monotonic() + timeout
        told_at = time.monotonic() + min(0.2, timeout)
        told = False
        while self.pending and time.monotonic() < deadline:
            if not told and on_wait is not None and time.monotonic() >= told_at:
                on_wait(self.pending, self.current)
                told = True
            time.sleep(0.01)
        return self.pending

    def record_failure(self, what: str, exc: BaseException) -> None:
        """Keep a failure found on the kernel's side (a model that cannot be pickled)."""
        self._keep(what, exc)

    def _keep(self, what: str, exc: BaseException | None, detail: str = "") -> None:
        if exc is None:
            return
        kind = exc.type_name if isinstance(exc, RemoteError) else None
        error = one_line(exc, kind)
        with self._lock:
            self._failures.append(LoggingFailure(what, error, detail))

    def discard_failures(self, what: str) -> None:
        """Drop the kept failures of ``what`` (the caller raises that error itself)."""
        with self._lock:
            self._failures = [f for f in self._failures if f.what != what]

    def take_failures(self) -> list[LoggingFailure]:
        """The failures since the last call (each reported once)."""
        with self._lock:
            failures, self._failures = self._failures, []
        return failures

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then close the pipe: the process finishes what it was
        sent and exits. Waits ``timeout`` at most for the writing (at kernel exit, what is
        not written is lost with the kernel)."""
        with self._lock:
            sender, self._sender = self._sender, None
            if sender is not None:
                self._outbox.put(None)
            self._process = None
        if sender is not None:
            sender.join(timeout)
