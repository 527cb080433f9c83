"""Plain ``papermill`` runs: the kernel is not told its notebook, yet its parameters are logged.

Each test writes its notebook, runs it with ``papermill.execute_notebook`` in a real
``python3`` kernel (no ``JPY_SESSION_NAME``, as from a shell or a scheduler) and reads the
run back from the MLflow store under ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings

pytestmark = pytest.mark.kernel

TRACK = "%load_ext mlops_lab\n%mlops track --experiment pm"
DEFAULTS = 'alpha = 0.5\nn = 10\nname = "x"\napi_token = "none"'
USE = 'print(f"{alpha} {n} {name}")'


def run_with_papermill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: list[str], parameters: dict[str, Any]
) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """Run ``cells`` (the one equal to DEFAULTS tagged ``parameters``); the run's params."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if source == DEFAULTS:
            cell.metadata["tags"] = ["parameters"]
        notebook.cells.append(cell)
    source = tmp_path / "pm.ipynb"
    nbformat.write(notebook, source)
    monkeypatch.setenv("MLOPS_LAB_ROOT", str(tmp_path))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ran = papermill.execute_notebook(
        str(source),
        str(tmp_path / "out.ipynb"),
        parameters=parameters,
        cwd=str(tmp_path),
        progress_bar=False,
    )
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    experiment = client.get_experiment_by_name("pm")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    return ran, run.data.params


def test_track_before_the_parameters_cell_logs_the_injected_values_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parameters = {"alpha": 0.9, "name": "y", "api_token": "s3cret"}
    ran, params = run_with_papermill(
        tmp_path, monkeypatch, [TRACK, DEFAULTS, USE, "%mlops end"], parameters
    )
    assert ran.cells[2].metadata.tags == ["injected-parameters"]
    assert "0.9 10 y" in ran.cells[3].outputs[0]["text"]
    assert params == {"alpha": "0.9", "n": "10", "name": "y", "api_token": "***"}


def test_track_after_the_parameters_cell_logs_the_injected_values_at_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parameters = {"alpha": 0.9, "name": "y", "api_token": "s3cret"}
    ran, params = run_with_papermill(
        tmp_path, monkeypatch, [DEFAULTS, TRACK, USE, "%mlops end"], parameters
    )
    assert params == {"alpha": "0.9", "n": "10", "name": "y", "api_token": "***"}
    started = "".join(o.get("text", "") for o in ran.cells[2].outputs)
    assert "an unknown notebook" in started and started.rstrip().endswith(", 4 params")
    # the secret reached the kernel, yet no byte of it reached the store
    blobs = [p.read_bytes() for p in (tmp_path / ".mlops").rglob("*") if p.is_file()]
    assert blobs and not any(b"s3cret" in blob for blob in blobs)
