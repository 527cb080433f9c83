"""What a tracked fit leaves in MLflow, checked against scikit-learn's own answers.

Fits are made by this file (the "user") with FitHooks on, named, given their params and
pickled as the session does in the user's cell, then logged with ``log_fit`` in this
process (the logging process calls the same function) into a real SQLite store.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.models
import numpy as np
import pandas as pd
import pytest
import sklearn
from mlflow.data.numpy_dataset import from_numpy
from mlflow.data.pandas_dataset import from_pandas
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from sklearn import metrics
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.tracking import fit_logging, run_logging
from mlops_lab.core.tracking.fit_logging import (
    ERROR_TAG,
    FitLogged,
    FitOptions,
    FitRecord,
    fit_params,
    log_fit,
    pickle_fit,
)
from mlops_lab.core.tracking.fits import FitCall, FitHooks
from tests.core.tracking.splits import Split


@dataclass
class Fitted:
    """One fit as the session hands it to the logging process."""

    call: FitCall
    record: FitRecord
    payload: bytes


@dataclass
class Notebook:
    """The session's part without a kernel: each user fit named, its params taken and
    pickled at once (``TrackingSession._on_fit``), then logged into ``run``."""

    settings: Settings
    run: run_logging.OpenedRun
    fits: list[Fitted] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def on_fit(self, call: FitCall) -> None:
        name = type(call.estimator).__name__
        count = self.counts[name] = self.counts.get(name, 0) + 1
        params = {k: str(v) for k, v in fit_params(call).items()}
        record = FitRecord.of(call, count, params)
        self.fits.append(Fitted(call, record, pickle_fit(call)))

    def log(self, fitted: Fitted, options: FitOptions | None = None) -> FitLogged:
        return log_fit(
            self.settings,
            self.run.parent,
            fitted.record,
            fitted.payload,
            options or self.run.options,
        )

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(self.settings.tracking_uri)

    def children(self, parent_id: str) -> list[Run]:
        runs = self.client.search_runs(
            [self.run.experiment_id], f"tags.mlflow.parentRunId = '{parent_id}'"
        )
        return sorted(runs, key=lambda r: r.info.run_name)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One store for the module (creating MLflow's schema costs a second or more)."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    fluent = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    yield resolve_settings(tmp_path_factory.mktemp("store"), environ={})
    mlflow.set_tracking_uri(fluent[0])  # as the other test modules found it
    mlflow.set_registry_uri(fluent[1])


@pytest.fixture
def notebook(settings: Settings, tmp_path: Path) -> Iterator[Notebook]:
    """A notebook's run, opened as the logging process opens it, with FitHooks on."""
    kernel = run_logging.Kernel(kernel_id=None, history=None, first_cell=1)
    opened = run_logging.open_run(settings, "fits", None, "in-test", kernel, {})
    book = Notebook(settings, opened)
    hooks = FitHooks(book.on_fit, lambda e: None, lambda what, e: pytest.fail(f"{what}: {e}"))
    hooks.install()
    hooks.enabled = True
    yield book
    hooks.uninstall()
    run_logging.close_run(settings, opened.run_id, "FINISHED", tmp_path, [], {})


@pytest.fixture
def inferred(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Calls of MLflow's requirement inference (a 2.5 s subprocess per model): tracking
    pins requirements itself and must never make MLflow infer them."""
    calls: list[object] = []

    def counting_infer(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(args)
        return ["scikit-learn"]

    monkeypatch.setattr(mlflow.models, "infer_pip_requirements", counting_infer)
    return calls


def as_params(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def artifact_text(run_id: str, path: str, dst: Path) -> str:
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=path, dst_path=str(dst)
    )
    return Path(local).read_text()


def classifier_training_metrics(model: Any, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """MLflow autolog's training metrics, computed here straight from scikit-learn."""
    predicted = model.predict(X)
    proba = model.predict_proba(X)
    weighted = {"average": "weighted", "zero_division": 0}
    return {
        "training_accuracy_score": metrics.accuracy_score(y, predicted),
        "training_precision_score": metrics.precision_score(y, predicted, **weighted),
        "training_recall_score": metrics.recall_score(y, predicted, **weighted),
        "training_f1_score": metrics.f1_score(y, predicted, **weighted),
        "training_log_loss": metrics.log_loss(y, proba, labels=model.classes_),
        "training_roc_auc": metrics.roc_auc_score(
            y, proba, multi_class="ovr", labels=model.classes_
        ),
        "training_score": model.score(X, y),
    }


def assert_metrics(run: Run, expected: dict[str, float]) -> None:
    assert set(run.data.metrics) == set(expected)
    for key, value in expected.items():
        assert run.data.metrics[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def assert_model_predicts_like(run_id: str, model: Any, X: np.ndarray) -> None:
    loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# --- one child run per fit -------------------------------------------------------------


def test_each_fit_is_a_child_run_with_its_params_tags_metrics_data_and_model(
    notebook: Notebook, digits: Split, inferred: list[object], tmp_path: Path
) -> None:
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    shallow = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X_train, y_train)
    forest = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0)
    forest.fit(X_train, y_train)
    logistic = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    deep = DecisionTreeClassifier(random_state=1).fit(X_train, y_train)

    logged = [notebook.log(f) for f in notebook.fits]

    assert [f.failures for f in logged] == [[], [], [], []]
    runs = [notebook.client.get_run(f.run_id) for f in logged]
    assert [r.info.run_name for r in runs] == [
        "DecisionTreeClassifier-1",
        "RandomForestClassifier-1",
        "LogisticRegression-1",
        "DecisionTreeClassifier-2",
    ]
    children = notebook.children(notebook.run.run_id)
    assert sorted(c.info.run_id for c in children) == sorted(f.run_id for f in logged)
    parent_tags = notebook.client.get_run(notebook.run.run_id).data.tags
    models = [shallow, forest, logistic, deep]
    for run, model, fitted in zip(runs, models, notebook.fits, strict=True):
        assert fitted.call.estimator is model
        assert run.info.status == "FINISHED"
        assert (run.info.start_time, run.info.end_time) == (
            fitted.call.started_ms,
            fitted.call.ended_ms,
        )
        assert run.data.params == as_params(model.get_params())
        tags = run.data.tags
        assert tags["mlflow.parentRunId"] == notebook.run.run_id
        assert tags["estimator_name"] == type(model).__name__
        assert tags["estimator_class"] == f"{type(model).__module__}.{type(model).__name__}"
        assert tags["mlflow.user"] == parent_tags["mlflow.user"]
        assert tags["mlflow.source.type"] == "NOTEBOOK"
        assert ERROR_TAG not in tags
        assert_metrics(run, classifier_training_metrics(model, X_train, y_train))

        (dataset_input,) = run.inputs.dataset_inputs
        assert dataset_input.dataset.name == "X_train"
        assert dataset_input.dataset.digest == from_numpy(X_train, targets=y_train).digest
        assert [t.value for t in dataset_input.tags if t.key == "mlflow.data.context"] == ["train"]
        artifacts = {a.path for a in notebook.client.list_artifacts(run.info.run_id)}
        assert "training_confusion_matrix.png" in artifacts
        assert_model_predicts_like(run.info.run_id, model, X_test)

    pyfunc = mlflow.pyfunc.load_model(f"runs:/{runs[1].info.run_id}/model")
    np.testing.assert_array_equal(pyfunc.predict(X_test), forest.predict(X_test))
    requirements = artifact_text(runs[1].info.run_id, "model/requirements.txt", tmp_path)
    pinned = notebook.run.options.requirements["sklearn"]
    assert requirements.split() == [f"mlflow=={mlflow.__version__}", *pinned]
    assert f"scikit-learn=={sklearn.__version__}" in requirements.split()
    assert inferred == []


def test_the_inference_counter_sees_mlflows_own_inference(
    inferred: list[object], tmp_path: Path
) -> None:
    """Guards the guard: without pinned requirements MLflow does call the patched name."""
    model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    mlflow.sklearn.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    assert len(inferred) == 1


def test_a_grid_search_run_has_best_params_cv_results_and_a_run_per_candidate(
    notebook: Notebook, digits: Split, inferred: list[object], tmp_path: Path
) -> None:
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    grid = {"C": [1.0, 10.0], "gamma": ["scale", 0.001]}
    search = GridSearchCV(SVC(), grid, cv=3).fit(X_train, y_train)

    (fitted,) = notebook.fits
    logged = notebook.log(fitted)

    assert logged.failures == []
    run = notebook.client.get_run(logged.run_id)
    assert run.info.run_name == "GridSearchCV-1"
    best = {f"best_{k}": v for k, v in search.best_params_.items()}
    assert run.data.params == as_params(search.get_params(deep=False) | best)
    assert {"best_C", "best_gamma", "estimator", "param_grid"} <= set(run.data.params)
    assert run.data.metrics["best_cv_score"] == pytest.approx(search.best_score_, rel=1e-12)
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(
        metrics.accuracy_score(y_train, search.predict(X_train)), rel=1e-12
    )

    csv = pd.read_csv(io.StringIO(artifact_text(logged.run_id, "cv_results.csv", tmp_path)))
    assert len(csv) == 4
    np.testing.assert_allclose(csv["mean_test_score"], search.cv_results_["mean_test_score"])

    candidates = notebook.children(logged.run_id)
    assert [c.info.run_name for c in candidates] == [
        f"GridSearchCV-1-candidate-{i}" for i in range(1, 5)
    ]
    by_params = {
        tuple(sorted(as_params(p).items())): i for i, p in enumerate(search.cv_results_["params"])
    }
    ranks = []
    for candidate in candidates:
        assert candidate.info.status == "FINISHED"
        index = by_params[tuple(sorted(candidate.data.params.items()))]
        mean_test = candidate.data.metrics["mean_test_score"]
        assert mean_test == pytest.approx(search.cv_results_["mean_test_score"][index])
        assert candidate.data.metrics["std_test_score"] == pytest.approx(
            search.cv_results_["std_test_score"][index]
        )
        ranks.append(candidate.data.metrics["rank_test_score"])
        assert candidate.data.tags["mlflow.user"] == run.data.tags["mlflow.user"]
    assert ranks == sorted(ranks) and ranks[0] == 1, "candidate-1 is the best ranked"
    assert sorted(by_params.values()) == [0, 1, 2, 3]

    # the model of a search is its best estimator, refitted on all the training data
    loaded = mlflow.sklearn.load_model(f"runs:/{logged.run_id}/model")
    assert type(loaded) is SVC and loaded.get_params() == search.best_estimator_.get_params()
    np.testing.assert_array_equal(loaded.predict(X_test), search.predict(X_test))
    assert inferred == []


def test_a_pipeline_run_has_every_steps_params_and_the_whole_pipeline_as_its_model(
    notebook: Notebook, digits: Split
) -> None:
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])
    model.fit(X_train, y_train)

    (fitted,) = notebook.fits
    logged = notebook.log(fitted)

    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == [] and run.info.run_name == "Pipeline-1"
    assert run.data.params == as_params(model.get_params())
    assert run.data.params["clf__C"] == "1.0" and run.data.params["scale__with_mean"] == "True"
    assert_metrics(run, classifier_training_metrics(model, X_train, y_train))
    loaded = mlflow.pyfunc.load_model(f"runs:/{logged.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))


def test_a_regressor_run_has_regression_training_metrics_and_no_confusion_matrix(
    notebook: Notebook, diabetes: Split
) -> None:
    X_train, X_test, y_train = diabetes.X_train, diabetes.X_test, diabetes.y_train
    model = Ridge(alpha=0.5).fit(X_train, y_train)

    logged = notebook.log(notebook.fits[0])

    run = notebook.client.get_run(logged.run_id)
    predicted = model.predict(X_train)
    mse = metrics.mean_squared_error(y_train, predicted)
    assert_metrics(
        run,
        {
            "training_mean_squared_error": mse,
            "training_root_mean_squared_error": math.sqrt(mse),
            "training_mean_absolute_error": metrics.mean_absolute_error(y_train, predicted),
            "training_r2_score": metrics.r2_score(y_train, predicted),
            "training_score": model.score(X_train, y_train),
        },
    )
    artifacts = {a.path for a in notebook.client.list_artifacts(logged.run_id)}
    assert "training_confusion_matrix.png" not in artifacts
    assert_model_predicts_like(logged.run_id, model, X_test)


def test_with_models_off_no_model_is_logged(notebook: Notebook, digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X_train, y_train)

    options = FitOptions(log_models=False, requirements=notebook.run.options.requirements)
    logged = notebook.log(notebook.fits[0], options)

    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == [] and run.info.status == "FINISHED"
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(
        model.score(X_train, y_train)
    )
    assert run.outputs is None or run.outputs.model_outputs == []
    models = notebook.client.search_logged_models(
        experiment_ids=[notebook.run.experiment_id],
        filter_string=f"source_run_id = '{logged.run_id}'",
    )
    assert models == []


def test_a_fit_on_a_dataframe_keeps_its_column_names(notebook: Notebook) -> None:
    digits_frame = load_digits(as_frame=True).frame.iloc[:800]
    X_frame, y_series = digits_frame.drop(columns="target"), digits_frame["target"]
    model = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X_frame, y_series)

    logged = notebook.log(notebook.fits[0])

    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == []
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "X_frame"
    assert dataset_input.dataset.digest == from_pandas(X_frame).digest
    loaded = mlflow.pyfunc.load_model(f"runs:/{logged.run_id}/model")
    assert loaded.metadata.get_input_schema().input_names() == list(X_frame.columns)
    np.testing.assert_array_equal(loaded.predict(X_frame.iloc[:50]), model.predict(X_frame[:50]))


REVIEWS = [
    "a good film with a great cast",
    "bad plot and awful acting",
    "great fun, good music",
    "dull, bad and far too long",
    "good story, great ending",
    "awful script, bad jokes",
] * 10
LIKED = [1, 0, 1, 0, 1, 0] * 10


def test_a_fit_on_sparse_features_logs_its_dataset_like_mlflows_autolog(
    notebook: Notebook,
) -> None:
    """TF-IDF features are a scipy sparse matrix: the dataset is fingerprinted dense, as
    MLflow's autolog does, instead of failing on every such fit."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    X_tfidf = TfidfVectorizer().fit_transform(REVIEWS)
    model = LogisticRegression().fit(X_tfidf, LIKED)

    logged = notebook.log(notebook.fits[0])

    assert logged.failures == []
    run = notebook.client.get_run(logged.run_id)
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "X_tfidf"
    expected = from_numpy(X_tfidf.toarray(), targets=np.asarray(LIKED)).digest
    assert dataset_input.dataset.digest == expected
    assert run.data.metrics["training_accuracy_score"] == model.score(X_tfidf, LIKED)
    assert_model_predicts_like(logged.run_id, model, X_tfidf)


def test_sparse_training_data_counts_what_it_stores_against_the_limit(
    notebook: Notebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    X_tfidf = TfidfVectorizer().fit_transform(REVIEWS)
    stored = X_tfidf.data.nbytes + X_tfidf.indices.nbytes + X_tfidf.indptr.nbytes
    monkeypatch.setattr(fit_logging, "MAX_SHIPPED_BYTES", stored - 1)
    LogisticRegression().fit(X_tfidf, LIKED)

    left_out = pickle.loads(notebook.fits[0].payload)
    assert left_out.X is None and left_out.y is None

    # stored small enough to ship, too large to densify for a dataset: no dataset, no error
    dense = X_tfidf.shape[0] * X_tfidf.shape[1] * X_tfidf.dtype.itemsize
    monkeypatch.setattr(fit_logging, "MAX_SHIPPED_BYTES", dense - 1)
    model = LogisticRegression().fit(X_tfidf, LIKED)
    assert pickle.loads(notebook.fits[1].payload).X is not None

    logged = notebook.log(notebook.fits[1])
    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == [] and run.inputs.dataset_inputs == []
    assert run.data.metrics["training_accuracy_score"] == model.score(X_tfidf, LIKED)


# --- failures --------------------------------------------------------------------------


def test_a_failed_fit_is_a_failed_run_with_its_error_and_params(
    notebook: Notebook, digits: Split
) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    X_holes = X_train.copy()
    X_holes[0, 0] = np.nan
    model = LogisticRegression(C=0.5)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X_holes, y_train)

    (fitted,) = notebook.fits
    logged = notebook.log(fitted)

    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == []
    assert run.info.status == "FAILED"
    assert run.info.end_time == fitted.call.ended_ms
    assert run.data.tags[ERROR_TAG] == fitted.call.error
    assert run.data.tags[ERROR_TAG].startswith("ValueError: Input X contains NaN")
    assert run.data.params == as_params(model.get_params())
    assert run.data.metrics == {} and run.inputs.dataset_inputs == []
    assert notebook.client.list_artifacts(logged.run_id) == []


class PredictsNothing(DecisionTreeClassifier):
    """Fits like a tree, then cannot predict: every step that needs a prediction fails."""

    def predict(self, X: Any, check_input: bool = True) -> Any:
        raise RuntimeError("predict is broken\nsecond line")


def test_a_failing_step_is_reported_while_the_other_steps_land(
    notebook: Notebook, digits: Split
) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    model = PredictsNothing(max_depth=3).fit(X_train, y_train)

    logged = notebook.log(notebook.fits[0])

    short_id = logged.run_id[:8]
    assert logged.failures == [
        (
            f"training metrics of PredictsNothing-1 (run {short_id})",
            "RuntimeError: predict is broken",
        )
    ]
    run = notebook.client.get_run(logged.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == as_params(model.get_params())
    assert run.data.metrics == {}
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["X_train"]
    loaded = mlflow.sklearn.load_model(f"runs:/{logged.run_id}/model")
    np.testing.assert_array_equal(loaded.predict_proba(X_train), model.predict_proba(X_train))


# --- what is shipped, and when -----------------------------------------------------------


def test_params_and_model_are_those_at_fit_time(notebook: Notebook, digits: Split) -> None:
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    model = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X_train, y_train)
    predicted_then = model.predict(X_test)
    first = notebook.fits[0]
    model.set_params(max_depth=1)  # the next cell changes and refits the same object
    model.fit(X_train, y_train)

    logged = notebook.log(first)

    run = notebook.client.get_run(logged.run_id)
    assert run.data.params["max_depth"] == "5"
    loaded = mlflow.sklearn.load_model(f"runs:/{logged.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_test), predicted_then)
    assert not np.array_equal(model.predict(X_test), predicted_then)
    assert [f.record.name for f in notebook.fits] == [
        "DecisionTreeClassifier-1",
        "DecisionTreeClassifier-2",
    ]


def test_training_data_above_the_limit_stays_in_the_kernel(
    notebook: Notebook, digits: Split, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    monkeypatch.setattr(fit_logging, "MAX_SHIPPED_BYTES", X_train.nbytes + y_train.nbytes - 1)
    model = DecisionTreeClassifier(max_depth=4, random_state=0)
    model.fit(X_train, y_train, sample_weight=np.ones(len(y_train)))
    monkeypatch.setattr(fit_logging, "MAX_SHIPPED_BYTES", X_train.nbytes + y_train.nbytes)
    model.fit(X_train, y_train)

    left_out, shipped = (pickle.loads(f.payload) for f in notebook.fits)
    assert (left_out.X, left_out.y, left_out.sample_weight) == (None, None, None)
    assert left_out.data_name == "X_train" and left_out.error is None
    np.testing.assert_array_equal(shipped.X, X_train)
    np.testing.assert_array_equal(shipped.y, y_train)
    assert notebook.fits[0].call.X is X_train, "the user's call itself is left as it was"

    logged = notebook.log(notebook.fits[0])
    run = notebook.client.get_run(logged.run_id)
    assert logged.failures == []
    assert run.data.params == as_params(model.get_params())
    assert run.data.metrics == {} and run.inputs.dataset_inputs == []
    assert_model_predicts_like(logged.run_id, model, X_test)


def test_a_fit_logged_by_a_fresh_process_lands_in_the_settings_store(
    notebook: Notebook, digits: Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logging process started after the previous one died gets a fit before any
    ``open_run``: MLflow's fluent API still points at its default store there."""
    X_train, X_test, y_train = digits.X_train, digits.X_test, digits.y_train
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X_train, y_train)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    mlflow.set_registry_uri(None)  # type: ignore[arg-type]

    logged = notebook.log(notebook.fits[0])

    assert logged.failures == []
    assert notebook.client.get_run(logged.run_id).inputs.dataset_inputs
    assert_model_predicts_like(logged.run_id, model, X_test)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing left in the cwd"


def test_a_later_score_lands_on_the_fits_run_as_steps(notebook: Notebook, digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X_train, y_train)
    logged = notebook.log(notebook.fits[0])
    record = notebook.fits[0].record
    first, second = model.score(X_test, y_test), model.score(X_test[:100], y_test[:100])

    key = "DecisionTreeClassifier_score_X_test"
    for value in (first, second):
        step = record.next_step(key)
        fit_logging.log_evaluation(notebook.settings, logged.run_id, key, value, step, 1000 + step)

    history = notebook.client.get_metric_history(logged.run_id, key)
    assert [(m.step, m.value, m.timestamp) for m in history] == [
        (0, first, 1000),
        (1, second, 1001),
    ]
