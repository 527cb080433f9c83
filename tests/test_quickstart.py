"""The quickstart notebook runs end to end (papermill, real kernel) and MLflow holds its run."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import papermill
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings

QUICKSTART = Path(__file__).parents[1] / "notebooks" / "quickstart.ipynb"


@pytest.mark.kernel
def test_quickstart_runs_and_mlflow_holds_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = tmp_path / "notebooks" / "quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copy(QUICKSTART, notebook)
    monkeypatch.setenv("MLOPS_LAB_ROOT", str(tmp_path))
    # what jupyter_server puts in a kernel's environment: the notebook's path
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    out = papermill.execute_notebook(
        str(notebook),
        str(tmp_path / "out.ipynb"),
        parameters={"C": 0.5},
        cwd=str(notebook.parent),
        progress_bar=False,
        shutdown_kernel="immediate",
    )

    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    experiment = client.get_experiment_by_name("notebooks/quickstart.ipynb")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    [run] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    [fit] = [r for r in runs if r is not run]
    assert run.info.status == "FINISHED" and fit.info.status == "FINISHED"
    assert fit.info.run_name == "Pipeline-1"
    assert fit.data.tags["mlflow.parentRunId"] == run.info.run_id
    params = run.data.params
    assert params["C"] == "0.5"  # papermill's injected value wins over the cell's 1.0
    assert (params["max_iter"], params["test_size"], params["seed"]) == ("200", "0.25", "0")
    metrics = run.data.metrics
    assert metrics["test_accuracy"] > 0.9 and metrics["test_roc_auc"] > 0.95
    assert 0 <= metrics["missed_malignant"] < 0.2
    assert fit.data.params["logisticregression__C"] == "0.5"
    assert "training_accuracy_score" in fit.data.metrics
    # accuracy_score(y_test, model.predict(X_test)) lands on the model's run by itself
    assert fit.data.metrics["accuracy_score_X_test"] == metrics["test_accuracy"]

    contexts = {
        tag.value: d.dataset
        for d in fit.inputs.dataset_inputs
        for tag in d.tags
        if tag.key == "mlflow.data.context"
    }
    assert contexts["train"].digest and contexts["train"].name == "X_train"
    [model] = client.search_logged_models([experiment.experiment_id])
    assert model.source_run_id == fit.info.run_id
    assert model.artifact_location

    tags = run.data.tags
    assert tags["mlops.notebook.artifact"] == "notebook/quickstart.ipynb"
    assert tags["mlflow.source.name"] == str(notebook)
    local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "dl")))
    snapshot = nbformat.read(local / "notebook" / "quickstart.ipynb", as_version=4)
    assert any("%mlops track" in c.source for c in snapshot.cells)
    code = (local / "notebook" / "executed_code.py").read_text()
    assert code.index("C = 0.5") < code.index("\n%mlops track\n") < code.index("model.fit(")
    requirements = (local / "environment" / "requirements.txt").read_text()
    assert "mlflow==" in requirements and "scikit-learn==" in requirements

    runs_cell = next(c for c in out.cells if c.source.startswith("%mlops runs"))
    assert run.info.run_id in runs_cell.outputs[0].data["text/plain"]
