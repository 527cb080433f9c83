"""The logging process: where a kernel's MLflow writes run, beside the kernel, not in it.

A thread in the kernel would share the kernel's GIL: logging a forest's model and plots
while the next cell trains made that cell up to twice as slow, and importing MLflow alone
(about a second of bytecode) slowed whatever ran beside it. So the kernel only pickles
requests (a 300-tree forest in about 25 ms) and writes them to this process, started
once per kernel with ``python -m``, at the lowest CPU priority and with one BLAS thread.

Requests are ``(id, operation, keyword arguments)``, answered in order with ``(id, ok,
value)``. The kernel names its runs and fits with keys of its own, so it never waits for
an id before sending the next request: the process keeps what each key became. A reader
thread takes requests off the pipe at once (a kernel never blocks on a busy process).

The process runs in a process group of its own: when Jupyter kills a kernel that is slow
to shut down, the process still finishes what it was sent, then exits as the pipe closes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.tracking import fit_logging, run_logging

NICENESS = 19
"""The process yields the CPU to the kernel whenever both want it."""

ONE_THREAD = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}
"""Background work stays on one core: a BLAS pool of its own would fight the kernel's."""


class RunNotOpen(RuntimeError):
    """A request for a run whose opening failed (that failure was reported already)."""


@dataclass
class _Run:
    settings: Settings
    opened: run_logging.OpenedRun


class Server:
    """The process's state: what the kernel's run and fit keys became, and the operations."""

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = {}
        self._unopened: dict[str, str] = {}
        self._fits: dict[str, str] = {}

    def _run(self, key: str) -> _Run:
        if key in self._unopened:
            raise RunNotOpen(self._unopened[key])
        return self._runs[key]

    def open_run(
        self,
        run: str,
        settings: Settings,
        experiment: str,
        notebook: Path | None,
        run_name: str | None,
        kernel: run_logging.Kernel,
        params: Mapping[str, str],
        adopt_run: str | None = None,
    ) -> tuple[str, str]:
        try:
            opened = run_logging.open_run(
                settings, experiment, notebook, run_name, kernel, params, adopt_run
            )
        except BaseException as exc:
            self._unopened[run] = f"{type(exc).__name__}: {exc}"
            raise
        self._runs[run] = _Run(settings, opened)
        return opened.run_id, opened.experiment_id

    def log_params(self, run: str, params: Mapping[str, str]) -> None:
        state = self._run(run)
        run_logging.log_params(state.settings, state.opened.run_id, params)

    def log_metrics(
        self, run: str, metrics: Mapping[str, float], step: int, timestamp: int
    ) -> None:
        state = self._run(run)
        run_logging.log_metrics(state.settings, state.opened.run_id, metrics, step, timestamp)

    def set_tags(self, run: str, tags: Mapping[str, str]) -> None:
        state = self._run(run)
        run_logging.set_tags(state.settings, state.opened.run_id, tags)

    def close_run(
        self, run: str, status: str, files: Mapping[str, str], late_params: Mapping[str, str]
    ) -> str:
        """Write the end-of-run files the kernel sent and close the run; its id back."""
        state = self._run(run)
        with tempfile.TemporaryDirectory() as tmp:
            for relative, text in files.items():
                target = Path(tmp, relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            run_logging.close_run(
                state.settings,
                state.opened.run_id,
                status,
                Path(tmp),
                list(files),
                late_params,
                terminate=not state.opened.adopted,
            )
        del self._runs[run]
        return state.opened.run_id

    def log_fit(
        self, run: str, fit: str, record: fit_logging.FitRecord, call: bytes | Any
    ) -> fit_logging.FitLogged:
        state = self._run(run)
        logged = fit_logging.log_fit(
            state.settings, state.opened.parent, record, call, state.opened.options
        )
        self._fits[fit] = logged.run_id
        return logged

    def log_evaluation(
        self, run: str, fit: str, key: str, value: float, step: int, timestamp: int
    ) -> None:
        state = self._run(run)
        if fit not in self._fits:
            raise RuntimeError(f"{key}: the model's run was not logged")
        fit_logging.log_evaluation(state.settings, self._fits[fit], key, value, step, timestamp)

    def ping(self) -> int:
        return os.getpid()


def described(exc: BaseException) -> tuple[str, str, str, BaseException | None]:
    """``(type, message, traceback, the error itself)``: our own errors travel as they are
    (the kernel raises the same ``Unavailable``); others as text (they may not pickle)."""
    from mlops_lab.core.errors import MlopsError

    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    same = exc.with_traceback(None) if isinstance(exc, MlopsError) else None
    return (type(exc).__name__, message, detail, same)


def serve(requests: Connection, answers: Connection) -> None:
    """Answer requests in order until the kernel closes the pipe and all are answered."""
    inbox: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        while True:
            try:
                inbox.put(requests.recv_bytes())
            except (EOFError, OSError):
                inbox.put(None)
                return

    threading.Thread(target=read, name="mlops-requests", daemon=True).start()
    server = Server()
    while (payload := inbox.get()) is not None:
        request_id = -1
        try:
            request_id, operation, kwargs = pickle.loads(payload)
            answer: tuple[int, bool, Any] = (request_id, True, getattr(server, operation)(**kwargs))
        except BaseException as exc:  # every error goes back to the kernel, then we go on
            answer = (request_id, False, described(exc))
        with contextlib.suppress(EOFError, OSError):  # the kernel is gone: finish all the same
            answers.send(answer)


def main(argv: list[str]) -> None:
    import logging
    import signal

    # An interrupt is for the user's cell, not for the model being logged here (the
    # process has a group of its own, but a terminal's Ctrl-C reaches its whole session).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    serve(Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False))


if __name__ == "__main__":
    main(sys.argv[1:])
