"""Running the test notebooks (``tests/notebooks``) in real kernels, and reading their runs."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.mlflow.connection import client_for

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"


def run_notebook(
    name: str,
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    parameters: dict[str, Any] | None = None,
    shutdown: str = "immediate",
) -> nbformat.NotebookNode:
    """Copy ``tests/notebooks/<name>`` under ``root`` and run it in a fresh kernel.

    The kernel sees ``MLOPS_LAB_ROOT`` and ``JPY_SESSION_NAME`` as jupyter_server sets them
    (the session name relative to the root), so it finds the same store and its notebook.
    """
    target = root / "work" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOKS / name, target)
    monkeypatch.setenv("MLOPS_LAB_ROOT", str(root))
    monkeypatch.setenv("JPY_SESSION_NAME", f"work/{name}")
    return papermill.execute_notebook(
        str(target),
        str(root / f"out-{name}"),
        parameters=parameters or {},
        cwd=str(target.parent),
        progress_bar=False,
        shutdown_kernel=shutdown,
    )


def outputs(cell: nbformat.NotebookNode, stream: str | None = None) -> str:
    return "".join(
        o.get("text", "") for o in cell.outputs if stream is None or o.get("name") == stream
    )


def runs_of(root: Path, experiment: str) -> tuple[MlflowClient, Any, dict[str, Any]]:
    """The experiment's notebook run and its child runs by name."""
    client = client_for(resolve_settings(root))  # under the lock the logging process takes
    found = client.get_experiment_by_name(experiment)
    assert found is not None, experiment
    runs = client.search_runs([found.experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {r.info.run_name: r for r in runs if r is not parent}
    return client, parent, children


def the_run(root: Path, experiment: str) -> Any:
    client, parent, children = runs_of(root, experiment)
    assert children == {}
    return client, parent


def finished_run(root: Path, experiment: str, timeout: float = 60) -> tuple[MlflowClient, Any]:
    """The notebook run once closed: the logging process finishes after the kernel has
    gone (it outlives a kernel Jupyter kills at shutdown), so the test waits for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client, run, _ = runs_of(root, experiment)
            if run.info.status == "FINISHED":
                return client, run
        except (AssertionError, ValueError):
            pass  # not created yet
        assert time.monotonic() < deadline, f"{experiment}: no FINISHED run after {timeout} s"
        time.sleep(0.5)
