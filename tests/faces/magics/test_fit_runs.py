"""A notebook that trains several models, as real notebooks do, tracked in a real kernel.

``several_fits.ipynb`` (written for these tests) fits a depth-5 tree, a 200-tree forest, a
grid search over an SVC and a cross-validated logistic regression, makes one fit that
fails, logs a metric by hand, and ends without ``%mlops end``: the kernel's shutdown must
get everything logged. Each run is checked against the estimator it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.sklearn
import nbformat
import papermill
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from tests.faces.magics.kernels import finished_run, outputs, run_notebook, runs_of

pytestmark = pytest.mark.kernel


def as_params(estimator: Any, deep: bool = True) -> dict[str, str]:
    return {k: str(v) for k, v in estimator.get_params(deep=deep).items()}


def test_each_fit_is_its_own_run_under_the_notebooks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(papermill.PapermillExecutionError, match="Found input variables"):
        run_notebook("several_fits.ipynb", tmp_path, monkeypatch, shutdown="graceful")
    nb = nbformat.read(tmp_path / "out-several_fits.ipynb", as_version=4)  # the last cell fails
    cells = {c.source.split("=")[0].strip(): c for c in nb.cells if c.cell_type == "code"}
    tree_score = float(outputs(cells["tree"]).strip())
    forest_acc = float(outputs(cells["forest"]).strip())
    for cell in cells.values():  # the logging process's own warnings stay out of the notebook
        assert "WARNING" not in outputs(cell) and "logging failed" not in outputs(cell)
    failing = nb.cells[-1]
    assert failing.outputs[0].ename == "ValueError"
    assert "fits.py" not in str(failing.outputs)  # our wrapper is not in the traceback
    client, parent = finished_run(tmp_path, "several-fits")
    _, parent, children = runs_of(tmp_path, "several-fits")

    # The notebook's run: its parameters and what was logged by hand, no fit's params.
    assert parent.data.params == {"n_trees": "200", "cv": "3"}
    assert parent.data.metrics == {"forest_acc": forest_acc}

    fits = {n: r for n, r in children.items() if "-candidate-" not in n}
    assert set(fits) == {
        "DecisionTreeClassifier-1",
        "RandomForestClassifier-1",
        "GridSearchCV-1",
        "LogisticRegression-1",  # the failed fit; cross_val_score's five made no run
    }
    for run in fits.values():
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["mlflow.source.name"] == parent.data.tags["mlflow.source.name"]

    tree = fits["DecisionTreeClassifier-1"]
    assert tree.data.params == as_params(DecisionTreeClassifier(max_depth=5, random_state=0))
    assert tree.data.metrics["DecisionTreeClassifier_score_X_test"] == tree_score
    assert tree.inputs.dataset_inputs[0].dataset.name == "X_train"

    forest = fits["RandomForestClassifier-1"]
    expected = RandomForestClassifier(n_estimators=200, random_state=0)
    assert forest.data.params == as_params(expected)
    assert forest.data.metrics["accuracy_score_X_test"] == forest_acc
    assert forest.data.metrics["training_accuracy_score"] == 1.0
    assert "DecisionTreeClassifier_score_X_test" not in forest.data.metrics

    search = fits["GridSearchCV-1"]
    assert search.data.params["estimator"] == "SVC()"
    assert search.data.params["cv"] == "3"
    assert {"best_C", "best_gamma"} <= set(search.data.params)
    assert "best_cv_score" in search.data.metrics
    candidates = [r for n, r in children.items() if n.startswith("GridSearchCV-1-candidate-")]
    assert len(candidates) == 4
    assert all(c.data.tags["mlflow.parentRunId"] == search.info.run_id for c in candidates)
    assert sorted((c.data.params["C"], c.data.params["gamma"]) for c in candidates) == [
        ("1", "0.001"),
        ("1", "0.01"),
        ("10", "0.001"),
        ("10", "0.01"),
    ]
    best = min(candidates, key=lambda c: c.data.metrics["rank_test_score"])
    assert best.data.metrics["mean_test_score"] == search.data.metrics["best_cv_score"]

    failed = fits["LogisticRegression-1"]
    assert failed.info.status == "FAILED"
    assert failed.data.tags["mlops.error"].startswith("ValueError: Found input variables")
    assert failed.data.metrics == {}

    # One model per successful fit, loadable, with pinned requirements.
    models = client.search_logged_models([parent.info.experiment_id])
    by_run = {m.source_run_id: m for m in models}
    assert set(by_run) == {r.info.run_id for n, r in fits.items() if n != "LogisticRegression-1"}
    loaded = mlflow.sklearn.load_model(by_run[search.info.run_id].artifact_location)
    assert isinstance(loaded, SVC)  # the search's best estimator
    assert loaded.get_params()["C"] == int(search.data.params["best_C"])
    requirements = Path(by_run[forest.info.run_id].artifact_location[len("file://") :])
    assert "scikit-learn==" in (requirements / "requirements.txt").read_text()
