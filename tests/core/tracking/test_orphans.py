"""Runs of killed kernels: real IPython kernels, a real MLflow store, our real store."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from jupyter_client.manager import KernelManager
from jupyter_client.multikernelmanager import MultiKernelManager
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.store import LabStore, LiveRun
from mlops_lab.core.tracking import orphans
from mlops_lab.core.tracking.orphans import process_alive, reap_orphaned_runs

pytestmark = pytest.mark.kernel

PARAMETER_SECRET = "sk-parameters-SECRET-4444"
INJECTED_SECRET = "tok-injected-SECRET-5555"
URI_SECRET = "pw-in-dsn-SECRET-6666"
SECRETS = (PARAMETER_SECRET, INJECTED_SECRET, URI_SECRET)


def code_cell(source: str, tags: list[str] | None = None, output: str | None = None) -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": output}] if output else []
    return {
        "cell_type": "code",
        "metadata": {"tags": tags or []},
        "source": source,
        "outputs": outputs,
        "execution_count": 1 if output else None,
    }


def write_notebook(path: Path) -> Path:
    """A notebook as saved on disk, papermill-style: parameters, injected values, outputs
    that show the secrets (they must not reach the snapshot)."""
    cells = [
        code_cell(f'alpha = 0.5\napi_key = "{PARAMETER_SECRET}"', ["parameters"]),
        code_cell(f'token = "{INJECTED_SECRET}"', ["injected-parameters"]),
        code_cell(
            f'dsn = "postgresql://me:{URI_SECRET}@db/x"\nprint(api_key, token)',
            output=f"{PARAMETER_SECRET} {INJECTED_SECRET}\n",
        ),
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


@contextmanager
def tracking_kernel(root: Path, notebook: Path) -> Iterator[tuple[KernelManager, str]]:
    """A real kernel that ran ``%mlops track`` on ``notebook``; yields it and the run id.

    Started by a MultiKernelManager, as Jupyter Server starts kernels (the connection
    file is named after the kernel id).
    """
    kernels = MultiKernelManager(connection_dir=str(root))
    env = {
        **os.environ,
        "MLOPS_LAB_ROOT": str(root),
        "PYTHONPATH": str(Path.cwd()),
        "IPYTHONDIR": str(root / "ipython"),  # this kernel's own input history
    }
    kernel_id = kernels.start_kernel(kernel_name="python3", env=env, cwd=str(root))
    manager = kernels.get_kernel(kernel_id)
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        code = f"%load_ext mlops_lab\n%mlops track --no-autolog --notebook {notebook.name}"
        reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        code = f'x = len("{PARAMETER_SECRET}")\nurl = "postgresql://me:{URI_SECRET}@db/y"'
        reply = client.execute_interactive(code, timeout=30, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        reply = client.execute_interactive(
            "",
            user_expressions={
                "r": "get_ipython().magics_manager.registry['MlopsMagics'].session.active.run_id"
            },
            timeout=30,
        )
        run_id = reply["content"]["user_expressions"]["r"]["data"]["text/plain"].strip("'")
        yield manager, run_id
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)
        manager.cleanup_resources()


def wait_for_row(store: LabStore, run_id: str, timeout: float = 20.0) -> LiveRun:
    """The row is written by a thread after ``%mlops track`` returns: give it time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in store.live_runs() if r.run_id == run_id]
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"no live-run row for {run_id}")


def kill(manager: KernelManager, signum: int) -> None:
    pid = manager.provisioner.pid  # type: ignore[union-attr]
    os.kill(pid, signum)
    deadline = time.monotonic() + 10
    while manager.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not manager.is_alive()


def settings_and_store(root: Path) -> tuple[Settings, LabStore]:
    settings = resolve_settings(root, environ={})
    store = LabStore(settings.store_url)
    # Migrate now: two processes creating a new SQLite schema at once is the migration
    # lock's business (store/db.py), not this test's.
    store.ping()
    return settings, store


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_kernels_run_is_closed_as_killed_with_its_snapshot(
    tmp_path: Path, signum: int
) -> None:
    notebook = write_notebook(tmp_path / "nb.ipynb")
    settings, store = settings_and_store(tmp_path)
    client = MlflowClient(settings.tracking_uri)
    with tracking_kernel(tmp_path, notebook) as (manager, run_id):
        row = wait_for_row(store, run_id)
        logger = psutil.Process(row.pid)  # the kernel's logging process holds the row
        assert logger.ppid() == manager.provisioner.pid  # type: ignore[union-attr]
        assert row.notebook == str(notebook)
        assert row.kernel_id == manager.kernel_id
        before = time.time() * 1000
        kill(manager, signum)
        logger.wait(timeout=30)  # it drains what the kernel sent, then goes

        assert client.get_run(run_id).info.status == "RUNNING"  # what a dead kernel leaves
        [reaped] = reap_orphaned_runs(settings, store, reaper="a test")

    assert (reaped.run_id, reaped.status) == (run_id, "KILLED")
    assert reaped.artifacts == ["notebook/nb.ipynb", "notebook/executed_code.py"]
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.info.end_time is not None and run.info.end_time >= before
    reason = run.data.tags[run_tags.END_REASON]
    assert f"logging process {row.pid}" in reason and "a test" in reason
    assert run.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/nb.ipynb"

    snapshot_file = client.download_artifacts(run_id, "notebook/nb.ipynb", str(tmp_path / "dl"))
    snapshot = Path(snapshot_file).read_text()
    assert "alpha = 0.5" in snapshot and "postgresql://me:***@db/x" in snapshot
    code_file = client.download_artifacts(run_id, "notebook/executed_code.py", str(tmp_path / "c"))
    code = Path(code_file).read_text()
    assert "--notebook nb.ipynb" in code  # the kernel's inputs, read back from its history
    assert 'x = len("***")\nurl = "postgresql://me:***@db/y"' in code
    blobs = [p.read_bytes() for p in (tmp_path / ".mlops").rglob("*") if p.is_file()]
    for secret in SECRETS:
        assert secret in notebook.read_text()  # they were there to leak
        assert not any(secret.encode() in blob for blob in blobs), secret

    # Idempotent: the row is gone, a second pass finds nothing.
    assert store.live_runs() == []
    assert reap_orphaned_runs(settings, store) == []


def test_a_live_kernels_run_is_left_alone_and_a_normal_end_forgets_it(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "nb.ipynb")
    settings, store = settings_and_store(tmp_path)
    client = MlflowClient(settings.tracking_uri)
    with tracking_kernel(tmp_path, notebook) as (manager, run_id):
        wait_for_row(store, run_id)
        assert reap_orphaned_runs(settings, store) == []
        assert client.get_run(run_id).info.status == "RUNNING"
        manager.shutdown_kernel(now=False)  # a graceful shutdown: atexit ends the run
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run_tags.END_REASON not in run.data.tags  # no reaper touched it, the kernel's own
    assert store.live_runs() == []


# --- without kernels: pid reuse, other stores, a run that ended after all -------------------


def open_run(settings: Settings, pid: int, started: float, **changes: Any) -> LiveRun:
    client = MlflowClient(settings.tracking_uri)
    experiment_id = client.create_experiment(f"e-{time.monotonic_ns()}")
    run_id = client.create_run(experiment_id).info.run_id
    values: dict[str, Any] = {
        "run_id": run_id,
        "tracking_uri": settings.tracking_uri,
        "experiment_id": experiment_id,
        "experiment": "e",
        "notebook": None,
        "host": orphans.host_name(),
        "pid": pid,
        "process_started": started,
        "kernel_id": None,
        "started_at": datetime.now(UTC),
        **changes,
    }
    return LiveRun(**values)


def test_a_reused_pid_is_a_dead_kernel(tmp_path: Path) -> None:
    settings, store = settings_and_store(tmp_path)
    me = os.getpid()
    assert process_alive(me, orphans.process_started())
    assert not process_alive(me, orphans.process_started() - 3600)  # same pid, other process
    reused = open_run(settings, me, orphans.process_started() - 3600)
    alive = open_run(settings, me, orphans.process_started())
    store.add_live_run(reused)
    store.add_live_run(alive)
    assert [r.run_id for r in reap_orphaned_runs(settings, store)] == [reused.run_id]
    assert [r.run_id for r in store.live_runs()] == [alive.run_id]


def test_other_hosts_and_unreachable_stores_are_not_touched(tmp_path: Path) -> None:
    settings, store = settings_and_store(tmp_path)
    gone = 2**22 + 12345  # above the default pid_max: no such process
    elsewhere = open_run(settings, gone, 1.0, host="another-host")
    secret_store = open_run(
        settings, gone, 1.0, tracking_uri="postgresql://u:pw@db/mlflow"
    )  # stored masked: we cannot know its password, its own kernels' settings can
    store.add_live_run(elsewhere)
    store.add_live_run(secret_store)
    assert reap_orphaned_runs(settings, store) == []
    assert len(store.live_runs()) == 2


def test_a_run_that_ended_after_all_only_loses_its_row(tmp_path: Path) -> None:
    settings, store = settings_and_store(tmp_path)
    run = open_run(settings, 2**22 + 12345, 1.0)
    MlflowClient(settings.tracking_uri).set_terminated(run.run_id, "FINISHED")
    store.add_live_run(run)
    [reaped] = reap_orphaned_runs(settings, store)
    assert reaped.status == "FINISHED"
    assert MlflowClient(settings.tracking_uri).get_run(run.run_id).info.status == "FINISHED"
    assert store.live_runs() == []
