"""XGBoost and LightGBM fits, through their scikit-learn estimators and their own ``train``.

Each fit is made for real with the hooks on, then logged in-process by ``log_fit`` on a
real SQLite store, as the logging process would; the child run is read back with MLflow.
Both libraries are in the ``test`` extra: the skips below only say what is missing when
someone runs the suite without it.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.models
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
from mlops_lab.core.tracking import fit_logging, lineage
from mlops_lab.core.tracking.fits import Evaluation, FitCall, FitHooks
from mlops_lab.core.tracking.native_training import flat_history

xgb = pytest.importorskip(
    "xgboost", reason="xgboost-cpu is in the test extra: pip install -e '.[test]'"
)
lgb = pytest.importorskip(
    "lightgbm", reason="lightgbm is in the test extra: pip install -e '.[test]'"
)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)


# --- hooks -----------------------------------------------------------------------------


@dataclass
class Seen:
    fits: list[FitCall]
    evaluations: list[Evaluation]
    errors: list[tuple[str, BaseException]]


@pytest.fixture
def seen() -> Iterator[Seen]:
    """The hooks on, as ``%mlops track`` turns them on, and what they reported."""
    found = Seen([], [], [])
    hooks = FitHooks(
        found.fits.append, found.evaluations.append, lambda w, e: found.errors.append((w, e))
    )
    hooks.install()
    hooks.enabled = True
    yield found
    hooks.uninstall()
    assert found.errors == []


def test_an_xgboost_estimator_fit_is_one_fit_not_also_its_inner_train(seen: Seen) -> None:
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2)
    model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
    (call,) = seen.fits
    assert call.estimator is model and call.kind == "XGBClassifier"
    assert call.training_function is None and call.data_name == "X_train"
    model.score(X_test, y_test)
    assert [e.key for e in seen.evaluations] == ["XGBClassifier_score_X_test"]


def test_a_lightgbm_estimator_fit_is_one_fit(seen: Seen) -> None:
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X_train, y_train)
    (call,) = seen.fits
    assert call.estimator is model and call.kind == "LGBMClassifier"


def test_xgboost_train_is_a_fit_with_its_params_rounds_and_history(seen: Seen) -> None:
    dtrain = xgb.DMatrix(X_train, y_train)
    dtest = xgb.DMatrix(X_test, y_test)
    theirs: dict[str, Any] = {}
    params = {"objective": "binary:logistic", "max_depth": 2, "eval_metric": ["logloss", "auc"]}
    booster = xgb.train(
        params, dtrain, 4, evals=[(dtest, "test")], evals_result=theirs, verbose_eval=False
    )
    (call,) = seen.fits
    assert call.estimator is booster and call.kind == "xgboost.train"
    assert call.params == {**params, "num_boost_round": 4}
    assert call.data_name == "dtrain"
    assert call.X is None  # a DMatrix cannot be pickled: not shipped
    assert set(call.metric_history) == {"test-logloss", "test-auc"}
    assert len(call.metric_history["test-logloss"]) == 4
    assert call.metric_history == flat_history(theirs)  # the user's dict still filled

    xgb.train(params, dtrain, evals=[(dtest, "test")], verbose_eval=False)  # no dict of theirs
    assert seen.fits[1].params == {**params, "num_boost_round": 10}  # xgboost's default
    assert len(seen.fits[1].metric_history["test-auc"]) == 10


def test_lightgbm_train_records_its_history_without_touching_the_users_callbacks(
    seen: Seen,
) -> None:
    train_set = lgb.Dataset(X_train, y_train)
    valid = lgb.Dataset(X_test, y_test, reference=train_set)
    callbacks: list[Any] = []
    params = {"objective": "binary", "verbose": -1}
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=3,
        valid_sets=[valid],
        valid_names=["test"],
        callbacks=callbacks,
    )
    (call,) = seen.fits
    assert call.estimator is booster and call.kind == "lightgbm.train"
    assert call.params == {**params, "num_boost_round": 3}
    assert list(call.metric_history) == ["test-binary_logloss"]
    assert len(call.metric_history["test-binary_logloss"]) == 3
    assert callbacks == []


def test_a_failing_native_train_is_a_failed_fit_and_still_raises(seen: Seen) -> None:
    dtrain = xgb.DMatrix(X_train, y_train)
    with pytest.raises(xgb.core.XGBoostError):
        xgb.train({"objective": "no-such-objective"}, dtrain, 2)
    (call,) = seen.fits
    assert call.estimator is None and call.kind == "xgboost.train"
    assert call.error is not None and call.error.startswith("XGBoostError")


def test_a_train_that_installed_code_calls_is_not_the_users(seen: Seen) -> None:
    dtrain = xgb.DMatrix(X_train, y_train)
    thread = threading.Thread(target=xgb.train, args=({}, dtrain, 2))  # threading.py calls it
    thread.start()
    thread.join()
    assert seen.fits == []
    xgb.train({}, dtrain, 2)
    assert len(seen.fits) == 1


def test_a_train_call_the_function_refuses_is_left_to_the_library(seen: Seen) -> None:
    with pytest.raises(TypeError):
        xgb.train({}, xgb.DMatrix(X_train, y_train), 2, no_such_argument=1)
    assert seen.fits == []


# --- what a fit's run holds ------------------------------------------------------------


@dataclass
class Store:
    settings: Settings
    client: MlflowClient
    parent: fit_logging.ParentRun
    options: fit_logging.FitOptions

    def log(self, call: FitCall) -> Any:
        params = {k: str(v) for k, v in fit_logging.fit_params(call).items()}
        record = fit_logging.FitRecord.of(call, 1, params)
        payload = fit_logging.pickle_fit(call)
        logged = fit_logging.log_fit(self.settings, self.parent, record, payload, self.options)
        assert logged.failures == []
        return self.client.get_run(logged.run_id)

    def model_uri(self, run: Any) -> str:
        (model,) = self.client.search_logged_models(
            experiment_ids=[self.parent.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
        )
        return str(model.artifact_location)

    def history(self, run: Any, key: str) -> list[tuple[int, float]]:
        metrics = self.client.get_metric_history(run.info.run_id, key)
        return sorted((m.step, m.value) for m in metrics)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A notebook's run on a SQLite store; MLflow may not infer requirements in a
    subprocess (2.5 s a model): every model's are pinned."""
    inferred: list[Any] = []
    monkeypatch.setattr(mlflow.models, "infer_pip_requirements", lambda *a, **k: inferred.append(a))
    settings = resolve_settings(tmp_path)
    client = client_for(settings)
    mlflow.set_tracking_uri(settings.tracking_uri)
    experiment_id = ensure_experiment(settings, "boosted")  # artifacts under tmp_path
    parent = client.create_run(experiment_id, run_name="notebook")
    requirements = {
        flavor: lineage.pinned(packages) for flavor, packages in fit_logging.FLAVOR_PACKAGES.items()
    }
    yield Store(
        settings,
        client,
        fit_logging.ParentRun(parent.info.run_id, experiment_id, {}),
        fit_logging.FitOptions(log_models=True, requirements=requirements),
    )
    mlflow.set_tracking_uri(None)
    assert inferred == []


def requirements_of(model_uri: str) -> str:
    return (Path(model_uri.removeprefix("file://")) / "requirements.txt").read_text()


def xgboost_distribution() -> str:
    """The distribution that installed ``import xgboost`` here (``xgboost-cpu`` in CI)."""
    (name,) = importlib.metadata.packages_distributions()["xgboost"]
    return f"{name}=={importlib.metadata.version(name)}"


def test_an_xgboost_estimators_run(seen: Seen, store: Store) -> None:
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2)
    model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
    run = store.log(seen.fits[0])
    assert run.info.run_name == "XGBClassifier-1"
    assert run.data.tags["estimator_class"] == "xgboost.sklearn.XGBClassifier"
    assert run.data.params == {k: str(v) for k, v in model.get_params().items()}
    assert run.data.metrics["training_accuracy_score"] == model.score(X_train, y_train)
    assert run.inputs.dataset_inputs[0].dataset.name == "X_train"
    logloss = model.evals_result()["validation_0"]["logloss"]
    assert store.history(run, "validation_0-logloss") == list(enumerate(logloss))

    uri = store.model_uri(run)
    loaded = mlflow.xgboost.load_model(uri)
    assert isinstance(loaded, xgb.XGBClassifier)
    assert np.array_equal(loaded.predict(X_test), model.predict(X_test))
    assert xgboost_distribution() in requirements_of(uri).splitlines()


def test_an_xgboost_train_run(seen: Seen, store: Store) -> None:
    dtrain = xgb.DMatrix(X_train, y_train)
    dtest = xgb.DMatrix(X_test, y_test)
    params = {"objective": "binary:logistic", "max_depth": 2, "eval_metric": "auc"}
    booster = xgb.train(
        params, dtrain, 6, evals=[(dtrain, "train"), (dtest, "test")], verbose_eval=False
    )
    run = store.log(seen.fits[0])
    assert run.info.run_name == "xgboost.train-1"
    assert run.data.tags["estimator_class"] == "xgboost.core.Booster"
    assert run.data.params == {
        "objective": "binary:logistic",
        "max_depth": "2",
        "eval_metric": "auc",
        "num_boost_round": "6",
    }
    history = store.history(run, "test-auc")
    assert [step for step, _ in history] == list(range(6))
    assert history[-1][1] == pytest.approx(float(booster.eval(dtest).split(":")[1]), abs=1e-5)
    assert {"train-auc", "test-auc"} <= set(run.data.metrics)
    assert run.inputs.dataset_inputs == []  # the DMatrix stayed in the kernel

    uri = store.model_uri(run)
    loaded = mlflow.xgboost.load_model(uri)
    assert isinstance(loaded, xgb.Booster)
    assert np.allclose(loaded.predict(dtest), booster.predict(dtest))
    assert xgboost_distribution() in requirements_of(uri).splitlines()


def test_a_lightgbm_estimators_run(seen: Seen, store: Store) -> None:
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1)
    model.fit(X_train, y_train, eval_set=[(X_test, y_test)])
    run = store.log(seen.fits[0])
    assert run.info.run_name == "LGBMClassifier-1"
    assert run.data.params == {k: str(v) for k, v in model.get_params().items()}
    assert "training_log_loss" in run.data.metrics
    assert run.inputs.dataset_inputs[0].dataset.name == "X_train"
    assert len(store.history(run, "valid_0-binary_logloss")) == 5

    uri = store.model_uri(run)
    loaded = mlflow.lightgbm.load_model(uri)
    assert isinstance(loaded, lgb.LGBMClassifier)
    assert np.array_equal(loaded.predict(X_test), model.predict(X_test))
    assert f"lightgbm=={lgb.__version__}" in requirements_of(uri).splitlines()


def test_a_lightgbm_train_run(seen: Seen, store: Store) -> None:
    train_set = lgb.Dataset(X_train, y_train)
    valid = lgb.Dataset(X_test, y_test, reference=train_set)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1}
    booster = lgb.train(params, train_set, 4, valid_sets=[valid], valid_names=["test"])
    run = store.log(seen.fits[0])
    assert run.info.run_name == "lightgbm.train-1"
    assert run.data.tags["estimator_class"] == "lightgbm.basic.Booster"
    assert run.data.params == {
        "objective": "binary",
        "num_leaves": "7",
        "verbose": "-1",
        "num_boost_round": "4",
    }
    assert [step for step, _ in store.history(run, "test-binary_logloss")] == [0, 1, 2, 3]

    uri = store.model_uri(run)
    loaded = mlflow.lightgbm.load_model(uri)
    assert isinstance(loaded, lgb.Booster)
    assert np.allclose(loaded.predict(X_test), booster.predict(X_test))
    assert f"lightgbm=={lgb.__version__}" in requirements_of(uri).splitlines()


def test_a_failed_train_is_a_failed_run_with_its_params(seen: Seen, store: Store) -> None:
    with pytest.raises(xgb.core.XGBoostError):
        xgb.train({"objective": "no-such-objective"}, xgb.DMatrix(X_train, y_train), 2)
    run = store.log(seen.fits[0])
    assert run.info.run_name == "xgboost.train-1"
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.error"].startswith("XGBoostError")
    assert run.data.params == {"objective": "no-such-objective", "num_boost_round": "2"}


# --- pinned requirements ---------------------------------------------------------------


def test_whichever_distribution_of_a_module_is_installed_is_pinned() -> None:
    either = [("xgboost", "xgboost-cpu"), "numpy"]
    assert lineage.pinned(either, {"xgboost-cpu": "3.2.0", "numpy": "2.0"}) == [
        "xgboost-cpu==3.2.0",
        "numpy==2.0",
    ]
    assert lineage.pinned(either, {"xgboost": "3.1.0"}) == ["xgboost==3.1.0"]
    assert lineage.pinned(either, {}) == []
    assert xgboost_distribution() in lineage.pinned(fit_logging.FLAVOR_PACKAGES["xgboost"])
