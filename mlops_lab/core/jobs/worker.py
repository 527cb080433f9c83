"""A warm worker process: it imported papermill and MLflow once, keeps a kernel started,
and runs the attempts its runner hands it, one at a time.

Everything an attempt changes is written from here (its MLflow run, its progress, its
final state), so a runner that dies does not lose an execution's result, and a worker
that dies is the one failure its runner has to report.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mlops_lab.core.config import EXECUTION_ENV, Settings, resolve_settings
from mlops_lab.core.errors import one_line
from mlops_lab.core.jobs.entities import CellError, Execution, ExecutionState
from mlops_lab.core.jobs.outputs import log_path, notebook_output_path, secrets_of
from mlops_lab.core.jobs.store import Claimed, JobStore

log = logging.getLogger("mlops_lab.jobs")

CANCEL_CHECK_S = 0.25
"""How often an attempt asks the store whether it was cancelled (one indexed SELECT)."""

STOPPED_BY_RUNNER = CellError(
    cell_index=None,
    name="RunnerStopped",
    message="the job runner was stopped while this execution ran; submit it again",
)


class Worker:
    """The state of one worker process: its settings, store and kernel pool."""

    def __init__(self, settings: Settings, keep_kernel: bool) -> None:
        from mlops_lab.core.jobs.api import job_store
        from mlops_lab.core.jobs.kernels import KernelPool

        self.settings = settings
        self.store: JobStore = job_store(settings)
        self.stopping = threading.Event()
        self.pool = KernelPool(
            size=1 if keep_kernel else 0,
            kernel_names=["python3"] if keep_kernel else [],
            root_env=settings.store_environment(),
        )

    def run(self, claimed: Claimed) -> Execution:
        """Run the claimed attempt to its end and record it; never raises."""
        execution, job = claimed.execution, claimed.job
        attempt = execution.attempt
        output = notebook_output_path(self.settings, execution.id, job.notebook, attempt)
        output.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path(self.settings, execution.id)
        _append(
            log_file,
            f"=== attempt {attempt} of {execution.max_attempts} at "
            f"{datetime.now():%Y-%m-%d %H:%M:%S} ===\n",
        )
        try:
            state, error = self._attempt(claimed, output, log_file)
        except Exception as exc:  # a bug of ours must still end the execution
            log.error(
                "mlops-lab: execution %s failed in its worker:\n%s",
                execution.id,
                traceback.format_exc(),
            )
            state, error = ExecutionState.FAILED, CellError(None, "WorkerError", one_line(exc))
        if error is not None:
            _append(log_file, f"=== {state.value}: {error.line()} ===\n")
        else:
            _append(log_file, f"=== {state.value} ===\n")
        final = self.store.finish_attempt(execution.id, attempt, state, error)
        if final.sweep_id and final.state.finished:
            finish_sweep(self.settings, self.store, final.sweep_id)
        return final

    def _attempt(
        self, claimed: Claimed, output: Path, log_file: Path
    ) -> tuple[ExecutionState, CellError | None]:
        from mlops_lab.core.jobs import runs
        from mlops_lab.core.jobs.engine import AttemptRequest, run_attempt

        execution, job = claimed.execution, claimed.job
        attempt = execution.attempt
        run_id, experiment_id = runs.open_attempt_run(
            self.settings, job, execution, attempt, claimed.sweep_run_id
        )
        self.store.start_attempt(execution.id, attempt, run_id, experiment_id, str(output))
        notebook = self.settings.root / job.notebook
        request = AttemptRequest(
            execution_id=execution.id,
            attempt=attempt,
            notebook=notebook,
            parameters=claimed.values,
            secrets=secrets_of(claimed.values),
            kernel_name=job.kernel_name,
            cwd=notebook.parent,
            output_path=output,
            log_path=log_file,
            env=attempt_env(self.settings, notebook, run_id, experiment_id, execution.id),
            timeout=job.timeout,
        )
        outcome = run_attempt(
            request,
            on_progress=lambda p: self.store.progress(
                execution.id, p.cells_done, p.cells_total, p.current_cell
            ),
            cancelled=self._cancel_check(execution.id),
            pool=self.pool,
        )
        state, error = outcome.state, outcome.error
        if state is ExecutionState.CANCELLED and self.stopping.is_set():
            error = STOPPED_BY_RUNNER
        try:
            runs.close_attempt_run(
                self.settings, run_id, state, error, output, notebook.name, log_file
            )
        except Exception as exc:  # the execution's result stands even if MLflow is down
            log.warning("mlops-lab: could not close run %s of %s: %s", run_id, execution.id, exc)
            _append(log_file, f"mlops-lab: could not log the outputs to MLflow: {one_line(exc)}\n")
        return state, error

    def _cancel_check(self, execution_id: str) -> Callable[[], bool]:
        """A cheap ``cancelled()``: the store is asked at most every 0.25 s."""
        last = [0.0, False]

        def cancelled() -> bool:
            if self.stopping.is_set():
                return True
            moment = time.monotonic()
            if moment - float(last[0]) >= CANCEL_CHECK_S:
                last[0] = moment
                try:
                    last[1] = self.store.cancel_requested(execution_id)
                except Exception as exc:  # a store hiccup is not a cancel
                    log.warning("mlops-lab: cannot read the cancel flag: %s", exc)
            return bool(last[1])

        return cancelled


def finish_sweep(settings: Settings, store: JobStore, sweep_id: str) -> None:
    """After one of its executions ended: if it was the sweep's last, end the sweep's run
    with its best execution (exactly one caller gets to, see ``finish_sweep_if_done``)."""
    from mlops_lab.core.jobs import runs

    sweep = store.finish_sweep_if_done(sweep_id)
    if sweep is None:
        return
    executions = [store.get(i) for i in sweep.execution_ids]
    best: tuple[str | None, float | None] = (None, None)
    try:
        best = runs.close_sweep_run(settings, sweep, executions)
    except Exception as exc:  # the sweep still ends; only its summary is missing
        log.warning("mlops-lab: could not summarise sweep %s: %s", sweep_id, exc)
    store.complete_sweep(sweep_id, sweep.state, *best)


def attempt_env(
    settings: Settings, notebook: Path, run_id: str, experiment_id: str, execution_id: str
) -> dict[str, str]:
    return {
        **settings.store_environment(),
        "MLFLOW_RUN_ID": run_id,
        "MLFLOW_EXPERIMENT_ID": experiment_id,
        "JPY_SESSION_NAME": str(notebook),
        EXECUTION_ENV: execution_id,
    }


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def worker_main(connection: Connection, root: str, keep_kernel: bool) -> None:
    """The worker process's loop: take a claimed execution, run it, say it is done.

    SIGINT is ignored (a Ctrl-C in the runner's terminal must not kill a run half-way);
    SIGTERM or the runner's exit makes the current attempt stop as CANCELLED.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING)
    worker = Worker(resolve_settings(root), keep_kernel)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent, worker.stopping), daemon=True).start()
    _warm_imports(worker.settings)
    connection.send(("ready", os.getpid()))
    try:
        while not worker.stopping.is_set():
            try:
                claimed: Any = connection.recv()
            except (EOFError, OSError):
                break
            if claimed is None:
                break
            final = worker.run(claimed)
            connection.send(("done", final.id))
    finally:
        worker.pool.shutdown()


def _watch_parent(parent: int, stopping: threading.Event) -> None:
    while not stopping.is_set():
        if os.getppid() != parent:
            stopping.set()
            return
        time.sleep(1.0)


def _warm_imports(settings: Settings) -> None:
    """Pay papermill's, nbclient's and MLflow's imports before the first job, not in it."""
    import nbclient  # noqa: F401
    import papermill  # noqa: F401

    from mlops_lab.core.jobs import engine  # noqa: F401
    from mlops_lab.core.mlflow.connection import client_for

    try:
        client_for(settings)
    except Exception as exc:  # reported again, with context, by the first attempt
        log.warning("mlops-lab: MLflow is not reachable yet: %s", exc)
