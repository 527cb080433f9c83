"""A notebook that trains XGBoost and LightGBM models, tracked in a real kernel.

``boosted_fits.ipynb`` (written for this test) fits an ``XGBClassifier`` with an eval set,
trains a booster with ``xgboost.train`` watching train and test, and fits an
``LGBMClassifier``. Each is one child run of the notebook's run, checked against what the
notebook printed; ``XGBClassifier.fit`` calling ``xgboost.train`` inside is not a run.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from mlops_lab.core.tracking import fit_logging, lineage
from tests.faces.magics.kernels import finished_run, outputs, run_notebook, runs_of

xgb = pytest.importorskip("xgboost", reason="xgboost-cpu is in the test extra")
lgb = pytest.importorskip("lightgbm", reason="lightgbm is in the test extra")

pytestmark = pytest.mark.kernel

ROUNDS = 6


def test_boosted_models_are_child_runs_with_their_history_and_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_notebook("boosted_fits.ipynb", tmp_path, monkeypatch, parameters={"rounds": ROUNDS})
    nb = nbformat.read(tmp_path / "out-boosted_fits.ipynb", as_version=4)
    printed = [outputs(c).strip() for c in nb.cells if c.cell_type == "code"]
    classifier_score, booster_auc, lgbm_accuracy = (float(p) for p in printed[-4:-1])
    assert "logging failed" not in printed[-1]  # %mlops end reports what failed meanwhile
    client, parent = finished_run(tmp_path, "boosted-fits")
    _, parent, children = runs_of(tmp_path, "boosted-fits")

    assert set(children) == {"XGBClassifier-1", "xgboost.train-1", "LGBMClassifier-1"}
    assert parent.data.params == {"rounds": str(ROUNDS)}
    for run in children.values():
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.info.status == "FINISHED"

    classifier = children["XGBClassifier-1"]
    assert classifier.data.params["n_estimators"] == str(ROUNDS)
    assert classifier.data.params["max_depth"] == "3"
    assert classifier.data.metrics["XGBClassifier_score_X_test"] == classifier_score
    assert "training_accuracy_score" in classifier.data.metrics
    assert classifier.inputs.dataset_inputs[0].dataset.name == "X_train"
    steps = client.get_metric_history(classifier.info.run_id, "validation_0-logloss")
    assert sorted(m.step for m in steps) == list(range(ROUNDS))

    booster = children["xgboost.train-1"]
    assert booster.data.params == {
        "objective": "binary:logistic",
        "max_depth": "3",
        "eval_metric": "auc",
        "num_boost_round": str(ROUNDS),
    }
    auc = client.get_metric_history(booster.info.run_id, "test-auc")
    assert sorted(m.step for m in auc) == list(range(ROUNDS))
    assert booster.data.metrics["test-auc"] == pytest.approx(booster_auc)  # the last round's
    assert "train-auc" in booster.data.metrics
    assert booster.inputs.dataset_inputs == []

    lgbm = children["LGBMClassifier-1"]
    assert lgbm.data.params["n_estimators"] == str(ROUNDS)
    assert lgbm.inputs.dataset_inputs[0].dataset.name == "X_train"

    # Each model loads, predicts as the notebook's did, and pins what it needs.
    X, y = load_breast_cancer(return_X_y=True)
    _, X_test, _, y_test = train_test_split(X, y, random_state=0)
    models = {
        m.source_run_id: m.artifact_location
        for m in client.search_logged_models([parent.info.experiment_id])
    }
    assert set(models) == {r.info.run_id for r in children.values()}
    loaded = mlflow_load("xgboost", models[classifier.info.run_id])
    assert isinstance(loaded, xgb.XGBClassifier)
    assert loaded.score(X_test, y_test) == classifier_score
    loaded_booster = mlflow_load("xgboost", models[booster.info.run_id])
    assert isinstance(loaded_booster, xgb.Booster)
    predicted = loaded_booster.predict(xgb.DMatrix(X_test, label=y_test))
    assert roc_auc_score(y_test, predicted) == pytest.approx(booster_auc, abs=1e-6)
    loaded_lgbm = mlflow_load("lightgbm", models[lgbm.info.run_id])
    assert accuracy_score(y_test, loaded_lgbm.predict(X_test)) == lgbm_accuracy

    for run_id, flavor in (
        (classifier.info.run_id, "xgboost"),
        (booster.info.run_id, "xgboost"),
        (lgbm.info.run_id, "lightgbm"),
    ):
        requirements = Path(models[run_id].removeprefix("file://"), "requirements.txt")
        expected = lineage.pinned(fit_logging.FLAVOR_PACKAGES[flavor])
        assert set(expected) <= set(requirements.read_text().splitlines())


def mlflow_load(flavor: str, uri: str) -> Any:
    return importlib.import_module(f"mlflow.{flavor}").load_model(uri)
