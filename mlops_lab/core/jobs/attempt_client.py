"""papermill's execution classes, as a job attempt runs them: masked and watched.

The execution manager saves a masked notebook and reports each cell to the attempt; the
client runs the cells on the attempt's own (possibly pooled) kernel, bootstraps a pooled
kernel's environment, and writes stream outputs to the masked log line by line.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellExecutionError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NotebookExecutionManager

from mlops_lab.core.jobs.kernels import wait_until_ready

if TYPE_CHECKING:
    from mlops_lab.core.jobs.engine import _Attempt

log = logging.getLogger("mlops_lab.core.jobs.engine")


def joined_streams(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``cell``, or a copy whose runs of same-stream outputs are one output each."""
    outputs = cell.get("outputs") or []
    if not any(
        a.get("output_type") == b.get("output_type") == "stream" and a.get("name") == b.get("name")
        for a, b in itertools.pairwise(outputs)
    ):
        return cell
    joined: list[nbformat.NotebookNode] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (
            last is not None
            and output.get("output_type") == last.get("output_type") == "stream"
            and output.get("name") == last.get("name")
        ):
            joined[-1] = nbformat.NotebookNode({**last, "text": last["text"] + output["text"]})
        else:
            joined.append(output)
    shown = copy.copy(cell)
    shown["outputs"] = joined
    return shown


class LogStream:
    """A file-like sink papermill's client writes stream outputs to; masked, line-wise.

    Text is held until a line ends, so a secret split across two output messages is still
    whole when it is masked.
    """

    def __init__(self, attempt: _Attempt) -> None:
        self.attempt = attempt
        self.pending = ""

    def write(self, text: str) -> None:
        self.pending += text
        cut = max(self.pending.rfind("\n"), self.pending.rfind("\r"))
        if cut >= 0:
            self.attempt.write_log(self.pending[: cut + 1])
            self.pending = self.pending[cut + 1 :]

    def flush(self) -> None:
        """Kept for the file protocol: a partial line waits for its end (or the cell's)."""

    def drain(self) -> None:
        if self.pending:
            self.attempt.write_log(self.pending + "\n")
            self.pending = ""


class MaskedExecutionManager(NotebookExecutionManager):
    """papermill's execution bookkeeping, saving a masked notebook and reporting progress."""

    def __init__(self, nb: nbformat.NotebookNode, attempt: _Attempt) -> None:
        super().__init__(
            nb,
            output_path=str(attempt.request.output_path),
            progress_bar=False,
            log_output=False,
        )
        self.attempt = attempt

    def save(self, **kwargs: Any) -> None:
        if kwargs.get("nb") is not None:
            self.nb = kwargs["nb"]
        if self.attempt.abandoned:
            return
        path = self.attempt.request.output_path
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(self.attempt.mask_notebook(self.nb), encoding="utf-8")
        os.replace(partial, path)
        self.last_save_time = self.now()

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        super().cell_start(cell, cell_index, **kwargs)
        if cell_index is not None:
            self.attempt.cell_started(cell_index, cell)

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        super().cell_complete(cell, cell_index, **kwargs)
        if cell_index is not None:
            failed = cell.metadata.papermill.get("status") == self.FAILED
            self.attempt.cell_completed(cell_index, failed)


class AttemptClient(PapermillNotebookClient):
    """papermill's nbclient client on the attempt's own kernel, reporting where it ends."""

    def __init__(self, nb_man: MaskedExecutionManager, attempt: _Attempt) -> None:
        assert attempt.kernel is not None
        self.attempt = attempt
        self.streams = LogStream(attempt)
        super().__init__(
            nb_man,
            km=attempt.kernel.manager,
            kernel_name=attempt.request.kernel_name,
            timeout_func=attempt.cell_timeout,
            interrupt_on_timeout=True,
            shutdown_kernel="immediate",
            shell_timeout_interval=1,
            startup_timeout=60,
            stdout_file=self.streams,
            stderr_file=self.streams,
            log=log,
        )

    async def async_start_new_kernel_client(self) -> Any:
        """Connect to the attempt's kernel, which already answered ``kernel_info``.

        nbclient's own connect waits for 0.2 s of IOPub silence (see
        :func:`~mlops_lab.core.jobs.kernels.wait_until_ready`); this proves the
        connection without that wait.
        """
        assert self.km is not None
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            await wait_until_ready(self.kc, timeout=self.startup_timeout)
        except BaseException:
            self.kc.stop_channels()
            self.kc = None
            raise
        self.kc.allow_stdin = False
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def papermill_execute_cells(self) -> None:
        """Run the cells in order, as papermill does, keeping the attempt told.

        Unlike papermill's loop, a kernel that dies marks its cell failed (papermill
        would mark it completed), and a cancel or timeout between cells starts no more.
        """
        code = self.attempt.bootstrap_code()
        if code is not None:
            self._bootstrap(code)
        for index, cell in enumerate(self.nb.cells):
            if self.attempt.stop_reason is not None:
                return
            self.nb_man.cell_start(cell, index)
            try:
                self.execute_cell(cell, index)
            except CellExecutionError as error:
                self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=error)
                self.attempt.cell_failed(index, error.ename, error.evalue)
                return
            except BaseException as error:
                self.nb_man.cell_exception(self.nb.cells[index], cell_index=index, exception=error)
                raise
            finally:
                self.streams.drain()
                self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
        self.attempt.cells_finished_at = time.monotonic()

    def _bootstrap(self, code: str) -> None:
        """Give a pooled kernel the attempt's environment and folder; no output, no history."""
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        reply = self.wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(
                f"the kernel could not take the job's environment: "
                f"{content.get('ename', 'no reply')}: {content.get('evalue', '')}"
            )
