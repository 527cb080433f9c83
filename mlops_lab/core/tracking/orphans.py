"""Runs left RUNNING by a kernel that died: noticed, closed as KILLED, what can be saved saved.

A kernel killed by SIGKILL (or the out-of-memory killer, or a crash) never reaches
``%mlops end`` or its atexit hook, so its MLflow run would stay RUNNING forever. While a
run is open, a row in our store (:class:`~mlops_lab.core.store.LiveRun`: host, pid and
start time of the kernel's logging process, which outlives the kernel until it has logged
what it was sent) says who will close it, and goes when the run ends. Whoever looks
next (the Jupyter server every few seconds, the next ``%mlops track``, ``mlops-lab runs``)
calls :func:`reap_orphaned_runs`: each row of this host whose process is gone (no such
pid, a zombie, or a reused pid with another start time) is claimed atomically in the
store, its run gets the notebook as saved on disk (redacted), a reason tag, status
KILLED and an end time, and the row is deleted.

The row is written off the user's path, by :class:`LiveRunBeacon`'s thread, so
``%mlops track`` does not wait for our store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import MlopsError, NotFound
from mlops_lab.core.masking import MASK, mask_uri
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.mlflow.connection import client_for, mlflow_errors
from mlops_lab.core.store import LabStore, LiveRun, store_exists, store_for
from mlops_lab.core.tracking import lineage

log = logging.getLogger(__name__)

KILLED = "KILLED"
"""MLflow's status for a run whose process was killed."""

NOTEBOOK_ARTIFACT_DIR = "notebook"
EXECUTED_CODE_ARTIFACT = "notebook/executed_code.py"

_START_TIME_TOLERANCE_S = 1.0
"""psutil derives a start time from boot time and clock ticks: equal within this, same process."""


# --- which process is this, and is that one still there ---------------------------------


def host_name() -> str:
    return socket.gethostname()


def process_started(pid: int | None = None) -> float:
    """When process ``pid`` (default: this one) started, in seconds since the epoch."""
    return float(psutil.Process(pid or os.getpid()).create_time())


def process_alive(pid: int, started: float) -> bool:
    """True while process ``pid`` runs and is the one that started at ``started``.

    A zombie (killed, not yet waited for by its parent) is gone. A pid we may not inspect
    counts as alive: closing a live kernel's run would be worse than waiting.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(process.create_time() - started) < _START_TIME_TOLERANCE_S
    except psutil.NoSuchProcess:  # ZombieProcess is one too
        return False
    except psutil.AccessDenied:
        return True


# --- the kernel's side: announce the open run, withdraw it when the run ends ------------


class LiveRunBeacon:
    """Keeps a run's live-run row for as long as the run is open in this process.

    ``open`` returns at once; a daemon thread writes the row, then reaps the runs of dead
    kernels on this host (the new run's kernel is often the one that notices). ``close``
    waits for that thread and deletes the row. Failures are logged, never raised: a
    missing row only means a later crash would leave the run RUNNING, as before.
    """

    def __init__(self, settings: Settings, run: LiveRun) -> None:
        self._settings = settings
        self._run = run
        self._thread = threading.Thread(target=self._announce, name="mlops-live-run", daemon=True)

    @classmethod
    def open(
        cls,
        settings: Settings,
        run_id: str,
        experiment_id: str,
        experiment: str,
        notebook: Path | None,
        kernel_id: str | None = None,
        history: tuple[str, int] | None = None,
        first_cell: int | None = None,
    ) -> LiveRunBeacon:
        pid = os.getpid()
        run = LiveRun(
            run_id=run_id,
            tracking_uri=settings.tracking_uri,
            experiment_id=experiment_id,
            experiment=experiment,
            notebook=str(notebook) if notebook is not None else None,
            host=host_name(),
            pid=pid,
            process_started=process_started(pid),
            kernel_id=kernel_id,
            started_at=datetime.now(UTC),
            history_file=history[0] if history else None,
            history_session=history[1] if history else None,
            first_cell=first_cell,
        )
        beacon = cls(settings, run)
        beacon._thread.start()
        return beacon

    def _announce(self) -> None:
        try:
            store = store_for(self._settings)
            store.add_live_run(self._run)
            reap_orphaned_runs(self._settings, store, reaper="a new %mlops track")
        except Exception as exc:  # a thread has no one to raise to
            log.warning("mlops-lab: cannot record run %s as live: %s", self._run.run_id, exc)

    def close(self, timeout: float = 10.0) -> None:
        """The run ended normally: forget its row (after the row was written)."""
        self._thread.join(timeout)
        try:
            store_for(self._settings).forget_live_run(self._run.run_id)
        except Exception as exc:
            log.warning("mlops-lab: cannot forget live run %s: %s", self._run.run_id, exc)


def existing_store(settings: Settings) -> LabStore | None:
    """Our store if it exists (see :func:`store_exists`)."""
    return store_for(settings) if store_exists(settings) else None


# --- the reaper's side -------------------------------------------------------------------


@dataclass(frozen=True)
class ReapedRun:
    """A dead kernel's run as the reaper left it."""

    run_id: str
    experiment: str
    notebook: str | None
    status: str
    artifacts: list[str]


def reap_orphaned_runs(
    settings: Settings,
    store: LabStore,
    *,
    host: str | None = None,
    reaper: str = "mlops-lab",
) -> list[ReapedRun]:
    """Close the runs whose kernel on ``host`` (default: this one) is gone.

    Cheap when there is nothing to do: one indexed query and a ``psutil`` look-up per open
    run. Safe to call from several processes at once: a run is acted on only by the caller
    whose claim in the store succeeded. A run whose MLflow store does not answer keeps its
    claim and is retried once the claim is stale.

    Args:
        reaper: who noticed, for the run's ``mlops.end.reason`` tag.
    """
    host = host or host_name()
    reaped: list[ReapedRun] = []
    for run in store.live_runs(host):
        if process_alive(run.pid, run.process_started):
            continue
        run_settings = _settings_for(settings, run)
        if run_settings is None:
            continue  # a store whose password we cannot know: its own kernels' settings can
        if not store.claim_live_run(run.run_id):
            continue
        try:
            reaped.append(_close(run_settings, run, reaper))
        except NotFound:
            log.warning("mlops-lab: run %s of a dead kernel no longer exists", run.run_id)
        except MlopsError as exc:
            log.warning("mlops-lab: cannot close run %s of a dead kernel: %s", run.run_id, exc)
            continue
        store.forget_live_run(run.run_id)
    return reaped


def _settings_for(settings: Settings, run: LiveRun) -> Settings | None:
    """Settings reaching the run's tracking store: ours, or its (password-free) URI."""
    if run.tracking_uri == mask_uri(settings.tracking_uri):
        return settings
    if MASK in run.tracking_uri:
        return None
    return resolve_settings(settings.root, tracking_uri=run.tracking_uri)


def _close(settings: Settings, run: LiveRun, reaper: str) -> ReapedRun:
    client = client_for(settings)
    with mlflow_errors(settings):
        status = client.get_run(run.run_id).info.status
        if status != "RUNNING":  # ended after all (atexit ran, the row's delete did not)
            return ReapedRun(run.run_id, run.experiment, run.notebook, status, [])
        artifacts = _log_what_survived(settings, run)
        reason = (
            f"the kernel{f' {run.kernel_id}' if run.kernel_id else ''} and its logging process "
            f"{run.pid} on {run.host} ended without closing the run; "
            f"closed by {reaper}"
        )
        client.set_tag(run.run_id, run_tags.END_REASON, reason)
        client.set_terminated(run.run_id, KILLED, end_time=int(time.time() * 1000))
    return ReapedRun(run.run_id, run.experiment, run.notebook, KILLED, artifacts)


def _log_what_survived(settings: Settings, run: LiveRun) -> list[str]:
    """The notebook as last saved, and the code the kernel ran, secrets masked.

    The dead kernel's namespace is gone, so the secret values are read back from the
    notebook itself: literals assigned to credential-looking names in its code cells,
    the ``parameters`` cell and papermill's ``injected-parameters`` cell included; URI
    passwords and secret assignments are masked by the Redactor's other nets. The code
    comes from IPython's history database, which IPython writes as each cell runs.
    """
    redactor = lineage.Redactor()
    files: dict[str, str] = {}
    notebook = _saved_notebook(run)
    if notebook is not None:
        redactor.learn_notebook(notebook)
        snapshot = redactor.notebook(notebook)
        name = Path(str(run.notebook)).name
        files[f"{NOTEBOOK_ARTIFACT_DIR}/{name}"] = (
            json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n"
        )
    cells = _history_cells(run)
    if cells:
        files[EXECUTED_CODE_ARTIFACT] = lineage.executed_code(cells, run.first_cell or 0, redactor)
    if not files:
        return []
    client = client_for(settings)
    with tempfile.TemporaryDirectory() as tmp:
        for relative, text in files.items():
            target = Path(tmp, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            client.log_artifact(run.run_id, str(target), str(Path(relative).parent))
    snapshot_path = next((f for f in files if f.endswith(".ipynb")), None)
    if snapshot_path is not None:
        client.set_tag(run.run_id, run_tags.NOTEBOOK_ARTIFACT, snapshot_path)
    return list(files)


def _saved_notebook(run: LiveRun) -> dict[str, object] | None:
    if run.notebook is None or not Path(run.notebook).is_file():
        return None
    try:
        return lineage.read_notebook(Path(run.notebook))
    except MlopsError:  # unreadable or not a notebook any more: nothing to save
        return None


def _history_cells(run: LiveRun) -> list[tuple[int, str]]:
    """The kernel's inputs from IPython's history database (read-only; absent: none)."""
    if run.history_file is None or run.history_session is None:
        return []
    path = Path(run.history_file)
    if not path.is_file():
        return []
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2.0)
        ) as db:
            rows = db.execute(
                "SELECT line, source_raw FROM history WHERE session = ? ORDER BY line",
                (run.history_session,),
            ).fetchall()
    except sqlite3.Error as exc:
        log.warning("mlops-lab: cannot read the code of run %s: %s", run.run_id, exc)
        return []
    return [(int(line), str(source)) for line, source in rows if source and source.strip()]
