"""Run one attempt of a job execution: the notebook parameterised and executed by papermill.

papermill injects the parameters and its nbclient client runs the cells; what this module
adds is what a job runner needs around them:

- the output notebook and the live log are masked *before* they touch the disk (papermill
  writes parameter values into the injected cell, the outputs and its metadata);
- every way an attempt can end becomes one state, never a hang: a cell raising, the kernel
  dying (``os._exit``, SIGKILL, out of memory), a cell busy past the timeout, a kernel that
  stops answering its heartbeat (a stopped process), a cancel, and papermill's final
  ``kernel_info`` request that sometimes never returns (papermill issue 711);
- a pre-started kernel from :class:`~mlops_lab.core.jobs.kernels.KernelPool` is used when
  one is ready, with the attempt's environment and working directory applied before the
  first cell, so a pooled and a cold kernel look the same to the notebook.

The cells run on a thread of their own; the calling thread is the watchdog, the only
place that decides to interrupt or kill the kernel. A kill is always by signal to the
kernel's process group, so no asyncio object crosses threads.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import nbformat
from nbclient.exceptions import DeadKernelError
from papermill.execute import prepare_notebook_metadata, remove_error_markers
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from mlops_lab.core.jobs.attempt_client import (
    AttemptClient,
    MaskedExecutionManager,
    joined_streams,
)
from mlops_lab.core.jobs.entities import CellError, ExecutionState
from mlops_lab.core.jobs.kernels import (
    KernelPool,
    ReadyKernel,
    signal_kernel,
    start_kernel,
)
from mlops_lab.core.masking import json_spellings, mask_params, mask_secrets, secret_spellings

log = logging.getLogger(__name__)

INJECTED_TAG = "injected-parameters"


@dataclass(frozen=True)
class AttemptRequest:
    """Everything one attempt needs; built by the worker from an execution row."""

    execution_id: str
    attempt: int
    notebook: Path
    """Absolute, already resolved inside the root."""
    parameters: dict[str, Any]
    """Values in clear (secrets included): they live in memory only."""
    secrets: tuple[str, ...]
    """Strings masked wherever they appear (credential-looking values, URI passwords)."""
    kernel_name: str
    cwd: Path
    """The notebook's folder: the kernel runs there."""
    output_path: Path
    """Where the masked output notebook goes, rewritten as cells complete."""
    log_path: Path
    """The live output log (appended, masked): a marker per cell, then its stdout/stderr."""
    env: dict[str, str]
    """Extra environment for the kernel (MLFLOW_RUN_ID, MLFLOW_TRACKING_URI, ...)."""
    timeout: float | None
    """Seconds for the whole attempt, kernel start included; None for no limit."""


@dataclass(frozen=True)
class Progress:
    cells_done: int
    cells_total: int
    current_cell: int | None
    """Index in the submitted notebook of the cell running now; None between cells."""


@dataclass(frozen=True)
class AttemptOutcome:
    state: ExecutionState
    """SUCCEEDED, FAILED, TIMED_OUT or CANCELLED."""
    error: CellError | None
    cells_done: int
    cells_total: int
    kernel_start_s: float
    """From the call to a kernel ready to execute (near 0 with a pooled kernel)."""
    duration_s: float
    first_cell_s: float | None = None
    """From the call to the first cell of the submitted notebook starting (None: none did)."""
    pooled: bool = False


@dataclass(frozen=True)
class AttemptLimits:
    """How long the watchdog waits before it acts; tests shorten them."""

    heartbeat_grace: float = 10.0
    """Seconds without a heartbeat reply before the kernel is declared unresponsive."""
    interrupt_grace: float = 2.0
    """Seconds a kernel has to stop after an interrupt (cancel, timeout) before it is killed."""
    finish_grace: float = 5.0
    """Seconds after the last cell for papermill's ``kernel_info`` and cleanup."""
    abandon_grace: float = 10.0
    """Seconds after a kill for the cell thread to notice before it is left behind."""
    poll: float = 0.25


def run_attempt(
    request: AttemptRequest,
    *,
    on_progress: Callable[[Progress], None],
    cancelled: Callable[[], bool],
    pool: KernelPool | None = None,
    limits: AttemptLimits | None = None,
) -> AttemptOutcome:
    """Run ``request.notebook`` once in a fresh kernel and say how it ended.

    Never raises for what the notebook or its kernel does: a failure is an outcome. The
    kernel process is gone when this returns, whatever happened.

    Args:
        on_progress: called at each cell start and end; an exception it raises is logged.
        cancelled: polled about every 0.25 s; True interrupts the kernel, then stops it.
        pool: a :class:`~mlops_lab.core.jobs.kernels.KernelPool`; without one, or when it
            has no ready kernel of ``request.kernel_name``, a kernel is started here.
        limits: the watchdog's waits (defaults suit production).
    """
    attempt = _Attempt(request, limits or AttemptLimits(), on_progress, cancelled, pool)
    return attempt.run()


class _Attempt:
    """The state one attempt's two threads share: the cell thread and the watchdog."""

    def __init__(
        self,
        request: AttemptRequest,
        limits: AttemptLimits,
        on_progress: Callable[[Progress], None],
        cancelled: Callable[[], bool],
        pool: KernelPool | None,
    ) -> None:
        self.request = request
        self.limits = limits
        self.on_progress = on_progress
        self.cancelled = cancelled
        self.pool = pool
        self.began = time.monotonic()
        self.deadline = self.began + request.timeout if request.timeout is not None else None
        self.secrets = tuple(secret_spellings(request.secrets))
        self.spellings = json_spellings(request.secrets)

        self.kernel: ReadyKernel | None = None
        self.pooled = False
        self.client: AttemptClient | None = None
        self.kernel_ready_at: float | None = None
        self.first_cell_at: float | None = None
        self.injected: int | None = None  # index of a cell papermill inserted
        self.cells_total = 0
        self.cells_done = 0
        self.current: int | None = None  # notebook index of the running cell
        self.last_started: int | None = None
        self.cell_error: tuple[int, str, str, float] | None = None
        self.cells_finished_at: float | None = None
        self.exception: BaseException | None = None
        self.ended_at: float | None = None

        self.stop_reason: str | None = None  # cancelled | timeout | heartbeat | finish
        self.interrupted_at: float | None = None
        self.killed_at: float | None = None
        self.silent_since: float | None = None
        self.abandoned = False
        self._log_lock = threading.Lock()
        self._log: TextIO | None = None

    # --- the calling thread: watchdog -------------------------------------------------

    def run(self) -> AttemptOutcome:
        self.request.output_path.parent.mkdir(parents=True, exist_ok=True)
        self.request.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.request.log_path.open("a", encoding="utf-8")
        try:
            thread = threading.Thread(
                target=self._execute, name=f"mlops-job-{self.request.execution_id}", daemon=True
            )
            thread.start()
            while thread.is_alive():
                thread.join(self.limits.poll)
                if thread.is_alive() and self._watch():
                    break
            return self._outcome()
        finally:
            if self.kernel is not None:
                self.kernel.kill()
            with self._log_lock:
                self._log.close()
                self._log = None

    def _watch(self) -> bool:
        """One watchdog round; True when the cell thread is to be left behind."""
        now = time.monotonic()
        if self.killed_at is not None:
            if now - self.killed_at < self.limits.abandon_grace:
                return False
            log.error(
                "execution %s: the cell thread did not end %.0f s after its kernel was killed;"
                " left behind",
                self.request.execution_id,
                self.limits.abandon_grace,
            )
            self.abandoned = True
            return True
        if self.interrupted_at is not None:
            if now - self.interrupted_at >= self.limits.interrupt_grace:
                self._kill()
            return False
        if self.stop_reason is None and self._cancel_requested():
            self.stop_reason = "cancelled"
            self.interrupted_at = now
            self._interrupt()
        elif self.stop_reason is None and self.deadline is not None and now >= self.deadline:
            # nbclient interrupts the busy cell itself (its timeout ends at the deadline);
            # this catches the rest: a kernel start, a cell ignoring SIGINT.
            self.stop_reason = "timeout"
            self.interrupted_at = now
        elif self.cells_finished_at is not None:
            if now - self.cells_finished_at >= self.limits.finish_grace:
                log.warning(
                    "execution %s: no reply to kernel_info %.0f s after the last cell; kernel"
                    " killed (papermill issue 711)",
                    self.request.execution_id,
                    self.limits.finish_grace,
                )
                self.stop_reason = self.stop_reason or "finish"
                self._kill()
        else:
            self._check_heartbeat(now)
        return False

    def _cancel_requested(self) -> bool:
        try:
            return bool(self.cancelled())
        except Exception:  # a broken check must not end the run
            log.exception("execution %s: the cancel check failed", self.request.execution_id)
            return False

    def _check_heartbeat(self, now: float) -> None:
        client = self.client
        kc = client.kc if client is not None else None
        if kc is None or not kc.channels_running:
            self.silent_since = None
            return
        if kc.hb_channel.is_beating():
            self.silent_since = None
        elif self.silent_since is None:
            self.silent_since = now
        elif now - self.silent_since >= self.limits.heartbeat_grace:
            log.error(
                "execution %s: the kernel stopped answering its heartbeat; killed",
                self.request.execution_id,
            )
            self.stop_reason = "heartbeat"
            self._kill()

    def _interrupt(self) -> None:
        if self.kernel is not None and self.kernel.is_alive():
            signal_kernel(self.kernel, signal.SIGINT)

    def _kill(self) -> None:
        self.killed_at = time.monotonic()
        self.interrupted_at = None
        if self.kernel is not None and self.kernel.is_alive():
            signal_kernel(self.kernel, signal.SIGKILL)

    # --- the cell thread ---------------------------------------------------------------

    def _execute(self) -> None:
        nb_man: MaskedExecutionManager | None = None
        try:
            nb = self._prepare()
            nb_man = MaskedExecutionManager(nb, self)
            nb_man.notebook_start()
            self.kernel = self._kernel()
            self.kernel_ready_at = time.monotonic()
            if self.stop_reason is not None:
                return
            self.client = AttemptClient(nb_man, self)
            self.client.execute(cleanup_kc=True)
        except BaseException as error:  # every ending becomes an outcome
            self.exception = error
        finally:
            self.ended_at = time.monotonic()
            if self.abandoned and self.kernel is not None:
                self.kernel.kill()
            if nb_man is not None:
                try:
                    nb_man.notebook_complete()
                except Exception:
                    log.exception("execution %s: final save failed", self.request.execution_id)

    def _prepare(self) -> nbformat.NotebookNode:
        """The notebook as papermill would run it: parameters injected, metadata set."""
        request = self.request
        nb = load_notebook_node(str(request.notebook))
        self.cells_total = len(nb.cells)
        if request.parameters:
            from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

            try:
                language = KernelSpecManager().get_kernel_spec(request.kernel_name).language
            except NoSuchKernel:
                language = None
            before = len(nb.cells)
            nb = parameterize_notebook(
                nb, request.parameters, kernel_name=request.kernel_name, language=language
            )
            if len(nb.cells) > before:
                self.injected = next(
                    i for i, c in enumerate(nb.cells) if INJECTED_TAG in c.metadata.get("tags", [])
                )
        nb = prepare_notebook_metadata(nb, str(request.notebook), str(request.output_path))
        return remove_error_markers(nb)

    def _kernel(self) -> ReadyKernel:
        """A pooled kernel when one is ready, else one started now for this attempt."""
        request = self.request
        if self.pool is not None:
            kernel = self.pool.take(request.kernel_name)
            if kernel is not None:
                self.pooled = True
                return kernel
        left = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.1)
        return start_kernel(
            request.kernel_name,
            env={**os.environ, **request.env},
            cwd=request.cwd,
            timeout=min(left, 60.0) if left is not None else 60.0,
        )

    def bootstrap_code(self) -> str | None:
        """What a pooled kernel runs, silently, before the first cell: env and cwd."""
        if not self.pooled:
            return None
        env = dict(self.request.env)
        cwd = str(self.request.cwd)
        return f"__import__('os').environ.update({env!r}); __import__('os').chdir({cwd!r})"

    def cell_timeout(self, cell: Any) -> float | None:
        """nbclient's per-cell timeout: the time left until the attempt's deadline."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.001)

    def submitted_index(self, index: int) -> int | None:
        """The index in the submitted notebook (None for the cell papermill inserted)."""
        if self.injected is None or index < self.injected:
            return index
        return None if index == self.injected else index - 1

    def cell_started(self, index: int, cell: Any) -> None:
        self.current = index
        shown = self.submitted_index(index)
        if shown is None:
            return
        self.last_started = index
        if self.first_cell_at is None:
            self.first_cell_at = time.monotonic()
        if cell.get("cell_type") == "code":
            self.write_log(f"--- cell {shown + 1}/{self.cells_total} ---\n")
        self._progress(Progress(self.cells_done, self.cells_total, shown))

    def cell_completed(self, index: int, failed: bool) -> None:
        self.current = None
        if self.submitted_index(index) is None:
            return
        if not failed:
            self.cells_done += 1
        self._progress(Progress(self.cells_done, self.cells_total, None))

    def cell_failed(self, index: int, ename: str, evalue: str) -> None:
        self.cell_error = (index, ename, evalue, time.monotonic())
        self.write_log(f"{ename}: {evalue}\n")

    def _progress(self, progress: Progress) -> None:
        try:
            self.on_progress(progress)
        except Exception:  # progress is a report, not part of the run
            log.exception("execution %s: on_progress failed", self.request.execution_id)

    def write_log(self, text: str) -> None:
        masked = mask_secrets(text, self.secrets)
        with self._log_lock:
            if self._log is not None and not self.abandoned:
                self._log.write(masked)
                self._log.flush()

    def mask_notebook(self, nb: nbformat.NotebookNode) -> str:
        """``nb`` as JSON text with no secret left in it (``nb`` itself is unchanged).

        Consecutive stream outputs are joined first, as a notebook viewer shows them: a
        secret printed in two pieces is whole again on screen, so it must be when masked.
        """
        shown = copy.copy(nb)
        shown.cells = [joined_streams(cell) for cell in nb.cells]
        shown.metadata = copy.copy(nb.metadata)
        papermill_meta = shown.metadata.get("papermill")
        if papermill_meta and papermill_meta.get("parameters"):
            shown.metadata["papermill"] = {
                **papermill_meta,
                "parameters": mask_params(papermill_meta["parameters"]),
            }
        return mask_secrets(nbformat.writes(shown), self.spellings)

    # --- the ending --------------------------------------------------------------------

    def _outcome(self) -> AttemptOutcome:
        state, error = self._ending()
        now = time.monotonic()
        ready = self.kernel_ready_at
        first = self.first_cell_at
        if error is not None:
            error = CellError(
                error.cell_index, error.name, mask_secrets(error.message, self.secrets)
            )
        return AttemptOutcome(
            state=state,
            error=error,
            cells_done=self.cells_done,
            cells_total=self.cells_total,
            kernel_start_s=(ready - self.began) if ready is not None else now - self.began,
            duration_s=now - self.began,
            first_cell_s=(first - self.began) if first is not None else None,
            pooled=self.pooled,
        )

    def _where(self) -> tuple[int | None, str]:
        """The cell the attempt was in when it ended, and a phrase saying so.

        The phrase counts from 1 as people do (``cell 2/3``); the index is 0-based like
        papermill's ``cell_index``, both in the notebook as submitted.
        """
        index = self.current if self.current is not None else self.last_started
        if index is None:
            if self.kernel_ready_at is None:
                return None, "while the kernel was starting"
            return None, "before the first cell"
        shown = self.submitted_index(index)
        if shown is None:
            return None, "while running the injected parameters cell"
        return shown, f"while running cell {shown + 1}/{self.cells_total}"

    def _ending(self) -> tuple[ExecutionState, CellError | None]:
        all_done = self.cells_finished_at is not None and self.cell_error is None
        cell, where = self._where()
        # the deadline passed before the attempt failed: nbclient's interrupt at the deadline
        # (KeyboardInterrupt), or the kernel start giving up, may beat the watchdog's check
        failed_at = self.cell_error[3] if self.cell_error is not None else self.ended_at
        timed_out = self.stop_reason == "timeout" or (
            self.deadline is not None and failed_at is not None and failed_at >= self.deadline
        )
        if self.stop_reason == "cancelled" and not all_done:
            return ExecutionState.CANCELLED, CellError(cell, "Cancelled", f"cancelled {where}")
        if timed_out and not all_done:
            return ExecutionState.TIMED_OUT, CellError(
                cell, "TimeoutError", f"the {self.request.timeout:g} s timeout ran out {where}"
            )
        if self.stop_reason == "heartbeat":
            return ExecutionState.FAILED, CellError(
                cell,
                "KernelUnresponsive",
                f"the kernel stopped answering its heartbeat for "
                f"{self.limits.heartbeat_grace:g} s {where}; it was killed",
            )
        if self.cell_error is not None:
            index, ename, evalue, _ = self.cell_error
            return ExecutionState.FAILED, CellError(self.submitted_index(index), ename, evalue)
        if all_done:
            return ExecutionState.SUCCEEDED, None
        error = self.exception
        if isinstance(error, DeadKernelError) or error is None:
            # None: killed (or left behind) with no error of its own; it did not finish
            return ExecutionState.FAILED, CellError(
                cell, "DeadKernelError", f"the kernel died {where}"
            )
        message = str(error) or repr(error)
        return ExecutionState.FAILED, CellError(cell, type(error).__name__, message)
