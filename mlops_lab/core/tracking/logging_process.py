"""The logging process: where a kernel's MLflow writes run, on the machine's other core.

A thread in the kernel would share the kernel's GIL: logging a forest's model and plots
while the next cell trains made that cell up to twice as slow, and importing MLflow alone
(about a second of bytecode) slowed whatever ran beside it. So the kernel's worker thread
only pickles (a 300-tree forest in about 25 ms) and hands each request to this process,
started once per kernel with ``python -m``, at a lower CPU priority, and waits for the
answer on a pipe (no GIL held while waiting). The process imports MLflow, opens and closes
runs, logs fits, and answers each request with its result or its error.

Requests are ``(operation, keyword arguments)`` pickled with cloudpickle (so an estimator
class defined in the notebook travels too); the operations are the functions in
:data:`OPERATIONS`. If the kernel dies, the process finishes what it received and exits
when the pipe closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

NICENESS = 19
"""The process yields the CPU to the kernel when both want it."""

ONE_THREAD = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}
"""Background work stays on one core: a BLAS pool of its own would fight the kernel's."""


@dataclass(frozen=True)
class RemoteError(Exception):
    """An operation failed in the logging process: its type, message and traceback."""

    type_name: str
    message: str
    detail: str

    def __str__(self) -> str:
        return self.message


class LoggingProcessGone(RuntimeError):
    """The process exited (killed, out of memory); the next request starts a new one."""


class LoggingProcess:
    """The kernel's handle on the process: ``call`` sends one request and waits for it.

    Only the kernel's logging worker thread calls it, one request at a time.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._to: Connection | None = None
        self._from: Connection | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the process now (it imports MLflow while the user's cells go on)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._spawn()

    def _spawn(self) -> None:
        request_read, request_write = os.pipe()
        answer_read, answer_write = os.pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(request_read), str(answer_write)],
            pass_fds=(request_read, answer_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            close_fds=True,
            env={**os.environ, **ONE_THREAD},
        )
        os.close(request_read)
        os.close(answer_write)
        self._to = Connection(request_write, readable=False)
        self._from = Connection(answer_read, writable=False)

    def call(self, operation: str, **kwargs: Any) -> Any:
        import cloudpickle

        payload = cloudpickle.dumps((operation, kwargs))
        return self.call_pickled(payload)

    def call_pickled(self, payload: bytes) -> Any:
        """Send a request pickled beforehand (a fit, pickled in the user's thread)."""
        self.start()
        assert self._to is not None and self._from is not None
        try:
            self._to.send_bytes(payload)
            ok, value = self._from.recv()
        except (EOFError, OSError) as exc:
            code = self._process.poll() if self._process else None
            self._process = None
            raise LoggingProcessGone(
                f"the logging process exited (code {code}); the next request starts a new one"
            ) from exc
        if not ok:
            type_name, message, detail, error = value
            raise error if error is not None else RemoteError(type_name, message, detail)
        return value

    def close(self) -> None:
        """Close the pipe: the process finishes what it has and exits."""
        with self._lock:
            for connection in (self._to, self._from):
                if connection is not None:
                    connection.close()
            self._to = self._from = None
            self._process = None


def pickled(operation: str, **kwargs: Any) -> bytes:
    """A request ready for :meth:`LoggingProcess.call_pickled`."""
    import cloudpickle

    return cloudpickle.dumps((operation, kwargs))


# --- the process side ------------------------------------------------------------------


def _operations() -> dict[str, Callable[..., Any]]:
    from mlops_lab.core.tracking import fit_logging, run_logging

    return {
        "open_run": run_logging.open_run,
        "log_params": run_logging.log_params,
        "log_metrics": run_logging.log_metrics,
        "set_tags": run_logging.set_tags,
        "close_run": run_logging.close_run,
        "log_fit": fit_logging.log_fit,
        "log_evaluation": fit_logging.log_evaluation,
        "ping": lambda: os.getpid(),
    }


def serve(requests: Connection, answers: Connection) -> None:
    """Answer requests until the kernel closes the pipe."""
    import pickle

    operations = _operations()
    while True:
        try:
            payload = requests.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            operation, kwargs = pickle.loads(payload)
            answer: tuple[bool, Any] = (True, operations[operation](**kwargs))
        except BaseException as exc:  # every error goes back to the kernel, then we go on
            answer = (False, _described(exc))
        try:
            answers.send(answer)
        except (EOFError, OSError):
            return


def _described(exc: BaseException) -> tuple[str, str, str, BaseException | None]:
    """``(type, message, traceback, the error itself)``: our own errors travel as they are
    (the kernel raises the same ``Unavailable``); others as text (they may not pickle)."""
    from mlops_lab.core.errors import MlopsError

    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    same = exc.with_traceback(None) if isinstance(exc, MlopsError) else None
    return (type(exc).__name__, message, detail, same)


def main(argv: list[str]) -> None:
    import logging
    import signal

    # Jupyter interrupts a kernel by signalling its process group, this process included:
    # the interrupt is for the user's cell, not for the model being logged here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    requests = Connection(int(argv[0]), writable=False)
    answers = Connection(int(argv[1]), readable=False)
    serve(requests, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
