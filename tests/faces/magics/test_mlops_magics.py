"""``%mlops`` in real kernels (papermill + nbclient) against a real MLflow store on a temp root."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.mlflow.tags import NOTEBOOK_ARTIFACT
from tests.faces.magics.kernels import finished_run, outputs, run_notebook, runs_of, the_run
from tests.stalling_server import stalling_server

pytestmark = pytest.mark.kernel


def test_tracked_notebook_logs_lineage_and_never_stores_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    papermill_secret = "sk-from-papermill-SECRET-3333"
    run_notebook(
        "tracked.ipynb", tmp_path, monkeypatch, {"alpha": 0.25, "api_key": papermill_secret}
    )
    client, run, children = runs_of(tmp_path, "tracked-test")

    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["alpha"] == "0.25"  # papermill's injected value, not the cell's 0.5
    assert params["n_rows"] == "120"
    assert params["api_key"] == "***"
    assert params["db_password"] == "***"
    assert params["note"] == "hello"
    assert "C" not in params  # the fit's params are on its own run
    history = client.get_metric_history(run.info.run_id, "custom")
    assert [m.step for m in history] == [3]
    assert run.data.metrics == {"custom": history[0].value}
    (fit,) = children.values()
    assert fit.info.run_name == "LogisticRegression-1" and fit.info.status == "FINISHED"
    assert fit.data.tags["mlflow.parentRunId"] == run.info.run_id
    assert fit.data.params["C"] == "0.25" and fit.data.params["max_iter"] == "300"
    assert "training_accuracy_score" in fit.data.metrics
    tags = run.data.tags
    assert tags["stage"] == "test"
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["mlflow.source.name"] == str(tmp_path / "work" / "tracked.ipynb")
    assert tags["mlflow.user"]
    assert tags[NOTEBOOK_ARTIFACT] == "notebook/tracked.ipynb"

    assert fit.data.tags["mlflow.source.name"] == tags["mlflow.source.name"]
    datasets = fit.inputs.dataset_inputs
    assert len(datasets) == 1 and datasets[0].dataset.digest and datasets[0].dataset.name == "X"
    models = client.search_logged_models([run.info.experiment_id])
    assert [m.source_run_id for m in models] == [fit.info.run_id]

    local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "dl")))
    code = (local / "notebook" / "executed_code.py").read_text()
    assert "# In[" in code and "%mlops param note=hello" in code
    assert "LogisticRegression(C=alpha" in code
    assert "scikit-learn==" in (local / "environment" / "requirements.txt").read_text()
    snapshot = nbformat.read(local / "notebook" / "tracked.ipynb", as_version=4)
    assert snapshot.cells[0].source.startswith("alpha = 0.5")

    # The secrets reached the kernel, yet no byte of them reached the store.
    store = tmp_path / ".mlops"
    blobs = [p.read_bytes() for p in store.rglob("*") if p.is_file()]
    assert len(blobs) > 5
    for secret in (papermill_secret, "sk-in-notebook-SECRET-1111", "hunter2-SECRET-2222"):
        assert not any(secret.encode() in blob for blob in blobs), secret


def test_secrets_under_innocent_names_are_masked_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``{dsn}`` and ``{api_key}`` reach the magic already expanded by IPython: the session
    must recognise the values, not the keys (``dsn``, ``note`` look harmless)."""
    nb = run_notebook("innocent_names.ipynb", tmp_path, monkeypatch)
    assert "Traceback" not in "".join(outputs(c) for c in nb.cells)
    assert outputs(nb.cells[5]).startswith("True postgresql://ana:pg-SECRET-8888@")  # known
    client, run = the_run(tmp_path, "innocent-names")

    assert run.data.params["dsn"] == "postgresql://ana:***@db.example/sales"
    assert run.data.params["alpha_again"] == "0.5"
    assert run.data.tags["note"] == "***"
    assert run.data.tags["where"] == "db.example"
    local = Path(client.download_artifacts(run.info.run_id, "notebook", str(tmp_path / "dl")))
    code = (local / "executed_code.py").read_text()
    assert "postgresql://ana:***@db.example/sales" in code
    assert 'print(api_key == "***", dsn)' in code  # a known value, not an assignment
    snapshot = (local / "innocent_names.ipynb").read_text()
    assert "ana:***@db.example" in snapshot and 'api_key == \\"***\\"' in snapshot

    blobs = [p.read_bytes() for p in (tmp_path / ".mlops").rglob("*") if p.is_file()]
    for secret in ("sk-from-a-cell-SECRET-7777", "pg-SECRET-8888"):
        assert not any(secret.encode() in blob for blob in blobs), secret


def test_bad_input_prints_one_line_and_never_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = run_notebook("bad_input.ipynb", tmp_path, monkeypatch)
    cells = nb.cells
    for cell in cells[1:]:
        assert "Traceback" not in outputs(cell)
        assert all(o.output_type == "stream" for o in cell.outputs)
    no_run = outputs(cells[1], "stderr").strip()
    assert no_run == "mlops: No active run to end: start one with %mlops track."
    metric = outputs(cells[2], "stderr").strip()
    assert metric.startswith("mlops: Metric 'accuracy' must be a number, got 'high'.")
    assert outputs(cells[3], "stderr").strip().startswith("usage: %mlops {track,end,")
    assert "KEY=VALUE, got 'novalue'" in outputs(cells[4], "stderr")
    # an error in an active run does not end it; --failed does
    assert outputs(cells[5], "stderr").strip().splitlines()[-1].startswith("mlops: Metric")
    _, run = the_run(tmp_path, "bad-input")
    assert run.info.status == "FAILED"
    assert run.data.metrics == {}


def test_unreachable_tracking_server_fails_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stalling_server() as uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        started = time.monotonic()
        nb = run_notebook("unreachable.ipynb", tmp_path, monkeypatch)
        elapsed = time.monotonic() - started
    track, end = nb.cells[1], nb.cells[2]
    assert track.metadata.papermill.duration < 2  # the run opens in the background
    assert "run opening" in outputs(track, "stdout")
    message = outputs(end, "stderr").strip()  # reported by the next command, once
    assert message.startswith(f"mlops: MLflow tracking server {uri} does not answer")
    assert "\n" not in message and "Traceback" not in outputs(end)
    assert end.metadata.papermill.duration < 10
    assert elapsed < 25  # kernel start + imports + the bounded probe


def test_kernel_shutdown_logs_and_ends_the_open_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_notebook("no_end.ipynb", tmp_path, monkeypatch, shutdown="graceful")
    client, run = finished_run(tmp_path, "no-end")
    names = {a.path for a in client.list_artifacts(run.info.run_id, "notebook")}
    assert names == {"notebook/no_end.ipynb", "notebook/executed_code.py"}


def test_runs_and_compare_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = run_notebook("compare.ipynb", tmp_path, monkeypatch)
    cells = nb.cells
    assert outputs(cells[1], "stderr") == "" and outputs(cells[2], "stderr") == ""
    # %mlops runs: a DataFrame, newest first
    shown = cells[3].outputs[0]["data"]["text/plain"]
    assert shown == "['0.2', '0.1']"

    compare = cells[4].outputs
    html = next(o["data"]["text/html"] for o in compare if "text/html" in o.get("data", {}))
    assert "params.alpha" in html and "params.solver" in html
    assert "background" in html  # the differing rows are highlighted
    assert any("image/png" in o.get("data", {}) for o in compare)  # the shared loss history

    unknown_run = outputs(cells[5], "stderr").strip()
    assert unknown_run.startswith("mlops: ") and "\n" not in unknown_run
    assert "0123456789abcdef0123456789abcdef" in unknown_run
    unknown_experiment = outputs(cells[6], "stderr").strip()
    assert unknown_experiment.startswith("mlops: ") and "no-such-experiment" in unknown_experiment
    for cell in cells[5:]:
        assert "Traceback" not in outputs(cell)


def test_a_refused_track_keeps_the_run_and_a_new_track_says_it_ended_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = run_notebook("track_twice.ipynb", tmp_path, monkeypatch)
    cells = nb.cells
    assert "--notebook notes.txt: expected a .ipynb file." in outputs(cells[2], "stderr")
    undefined = outputs(cells[3], "stderr").strip()
    assert undefined == (
        "mlops: acc={undefined_var}: NameError: name 'undefined_var' is not defined. "
        "Define it in the notebook first, or give the value itself."
    )
    second = outputs(cells[5], "stdout").strip().splitlines()[-1]  # after "waiting for..."
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    experiment = client.get_experiment_by_name("twice")
    first, latest = sorted(
        client.search_runs([experiment.experiment_id]), key=lambda r: r.info.start_time
    )
    assert second.startswith(f"mlops: ended run {first.info.run_id[:8]} (FINISHED); tracking")
    # The refused argument and the refused metric left the first run open and logging.
    assert first.data.metrics == {"first": 1.0, "still": 2.0}
    assert first.info.status == latest.info.status == "FINISHED"
