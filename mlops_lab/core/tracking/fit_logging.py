"""What a tracked fit leaves in MLflow: a child run of the notebook's run, for one model.

Runs on the logging worker (:mod:`~mlops_lab.core.tracking.worker`), never in the user's
cell. A child run holds that fit's params (taken at fit time), its training dataset
(name and fingerprint), training metrics and confusion matrix, its model (unless
``log-models = "none"``) and, for a parameter search, the best params, the CV results and
one grandchild run per candidate. A boosted model's evaluation on the sets it watched
(``xgboost.train``'s ``evals``, an ``XGBClassifier``'s ``eval_set``) is a metric history,
one step per round. Keys follow MLflow's autolog (``training_accuracy_score``,
``best_cv_score``, ``RandomForestClassifier_score_X_test``) so what users know from MLflow
reads the same. Each step is independent: a plot that fails does not lose the model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import one_line
from mlops_lab.core.mlflow import tags as run_tags

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from mlops_lab.core.tracking.fits import FitCall

MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param's value
BATCH = 100  # MLflow's limit on params per log_batch
MAX_CANDIDATES = 100
"""Parameter-search candidates logged as runs, best ranked first; the CSV holds them all."""
INPUT_EXAMPLE_ROWS = 5
MAX_SHIPPED_BYTES = 256 * 1024 * 1024

ESTIMATOR_NAME = "estimator_name"  # MLflow autolog's tag keys, kept for familiarity
ESTIMATOR_CLASS = "estimator_class"
ERROR_TAG = run_tags.ERROR

FLAVOR_PACKAGES: dict[str, list[str | tuple[str, ...]]] = {
    "sklearn": ["scikit-learn", "cloudpickle", "numpy", "scipy", "pandas"],
    "xgboost": [("xgboost", "xgboost-cpu"), "scikit-learn", "numpy", "scipy", "pandas"],
    "lightgbm": ["lightgbm", "scikit-learn", "numpy", "scipy", "pandas"],
}
"""What a logged model needs to load, pinned to the kernel's versions (MLflow would infer
them in a subprocess, 2.5 s a model). A tuple lists distributions of the same module
(``xgboost-cpu`` installs ``import xgboost``): whichever is installed is pinned."""
METRICS_BATCH = 1000  # MLflow's limit on metrics per log_batch


@dataclass(frozen=True)
class ParentRun:
    """The notebook's run, as its fits need it."""

    run_id: str
    experiment_id: str
    lineage_tags: dict[str, str]
    """Source, user and git tags, copied onto each child so it stands on its own."""


@dataclass
class FitRecord:
    """One fit's run, named when the fit returns; its id is known once it is logged."""

    name: str
    """``<Estimator>-<n>``: the class and how many of that class this notebook run fitted
    (``xgboost.train-<n>`` for a native training call: both libraries' models are a class
    named ``Booster``, and a failed call has none)."""
    estimator_name: str
    estimator_class: str
    params: dict[str, str]
    """The estimator's params as they were at fit time, masked."""
    run_id: str | None = None
    metric_steps: dict[str, int] = field(default_factory=dict)
    """Post-training metrics logged so far (a second ``score`` on the same data: step 1)."""

    @classmethod
    def of(cls, call: FitCall, count: int, params: dict[str, str]) -> FitRecord:
        if call.estimator is None:  # a native training call that failed
            return cls(f"{call.kind}-{count}", call.kind, call.kind, params)
        kind = type(call.estimator)
        return cls(
            f"{call.kind}-{count}",
            kind.__name__,
            f"{kind.__module__}.{kind.__qualname__}",
            params,
        )

    def next_step(self, key: str) -> int:
        step = self.metric_steps[key] = self.metric_steps.get(key, -1) + 1
        return step


@dataclass(frozen=True)
class FitOptions:
    log_models: bool
    requirements: Mapping[str, list[str]]
    """Pinned requirements of each flavor's models."""


def pickle_fit(call: FitCall) -> bytes:
    """The fit as the logging process gets it, pickled now, in the user's cell: a refit
    or a change of the estimator in the next cell must not change what gets logged.

    Training data above ``MAX_SHIPPED_BYTES`` is left out (no dataset, training metrics
    or input example then): copying it would cost the cell memory and time.
    """
    import cloudpickle

    if _size(call.X) + _size(call.y) > MAX_SHIPPED_BYTES:
        call = dataclasses.replace(call, X=None, y=None, sample_weight=None)
    return bytes(cloudpickle.dumps(call))


def _size(value: Any) -> int:
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if hasattr(value, "toarray"):  # a scipy sparse matrix: the arrays it stores
        parts = (getattr(value, name, None) for name in ("data", "indices", "indptr", "row", "col"))
        return sum(_size(part) for part in parts if part is not None)
    memory = getattr(value, "memory_usage", None)  # a DataFrame
    if callable(memory):
        with contextlib.suppress(Exception):
            return int(memory(deep=False).sum())
    return 0


def flavor_of(estimator: Any) -> str:
    module = type(estimator).__module__.split(".")[0]
    return module if module in FLAVOR_PACKAGES else "sklearn"


def fit_params(call: FitCall) -> dict[str, Any]:
    """What to log as params: a native training call's params and rounds, a search's own
    settings (not its seed estimator's defaults), any other estimator's params including
    its steps' (a pipeline's ``clf__C``)."""
    if call.params is not None:
        return dict(call.params)
    estimator = call.estimator
    deep = not is_search(estimator)
    try:
        return dict(estimator.get_params(deep=deep))
    except Exception:  # a third-party estimator with a broken get_params
        return {}


def is_search(estimator: Any) -> bool:
    return hasattr(estimator, "param_grid") or hasattr(estimator, "param_distributions")


# --- the worker's steps ----------------------------------------------------------------


@dataclass(frozen=True)
class FitLogged:
    """What the logging process answers for a fit: its run, and the steps that failed."""

    run_id: str
    failures: list[tuple[str, str]]
    """``(what, error)`` of each step that failed while the others went on."""


def log_fit(
    settings: Settings,
    parent: ParentRun,
    record: FitRecord,
    call: bytes | FitCall,
    options: FitOptions,
) -> FitLogged:
    """Create the fit's child run and log everything about it; see the module docstring.

    ``call`` arrives pickled (the kernel pickles it in the user's cell, before the
    estimator can change) unless it could not be: then params are all there is.
    """
    import pickle

    import mlflow

    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    fit: FitCall = pickle.loads(call) if isinstance(call, bytes) else call
    client = client_for(settings)
    tags = {
        **parent.lineage_tags,
        run_tags.PARENT_RUN_ID: parent.run_id,
        ESTIMATOR_NAME: record.estimator_name,
        ESTIMATOR_CLASS: record.estimator_class,
    }
    if fit.error is not None:
        tags[ERROR_TAG] = fit.error[:5000]
    with mlflow_errors(settings):
        run = client.create_run(
            parent.experiment_id, start_time=fit.started_ms, tags=tags, run_name=record.name
        )
    run_id = run.info.run_id
    failures: list[tuple[str, str]] = []
    status = "FAILED" if fit.error is not None else "FINISHED"
    try:
        with mlflow_errors(settings):
            log_params(client, run_id, record.params)
        if fit.error is None and fit.estimator is not None:
            with _active(mlflow, settings, run_id):
                failures = _steps(client, parent, run_id, record, fit, options)
    finally:
        with mlflow_errors(settings):
            client.set_terminated(run_id, status, end_time=fit.ended_ms)
    return FitLogged(run_id, failures)


def _steps(
    client: MlflowClient,
    parent: ParentRun,
    run_id: str,
    record: FitRecord,
    call: FitCall,
    options: FitOptions,
) -> list[tuple[str, str]]:
    steps: list[tuple[str, Callable[[], None]]] = []
    if call.X is not None:
        steps.append(("dataset", lambda: _log_dataset(call)))
        steps.append(("training metrics", lambda: _log_training_metrics(client, run_id, call)))
    steps.append(("metric history", lambda: _log_metric_history(client, run_id, call)))
    if is_search(call.estimator):
        lineage = parent.lineage_tags
        steps.append(("search results", lambda: _log_search(client, run_id, record, call, lineage)))
    if options.log_models:
        steps.append(("model", lambda: _log_model(call, options)))
    failures: list[tuple[str, str]] = []
    for what, step in steps:
        try:
            step()
        except Exception as exc:
            failures.append((f"{what} of {record.name} (run {run_id[:8]})", one_line(exc)))
    return failures


@contextlib.contextmanager
def _active(mlflow: Any, settings: Settings, run_id: str) -> Iterator[None]:
    """The fit's run as this thread's fluent run (MLflow keeps one stack per thread), for
    the fluent-only calls (``log_input``, ``log_figure``, ``log_model``).

    The fluent API's store is set here, not left to an earlier ``open_run``: a logging
    process started after the last one died gets a fit first, and MLflow's default store
    would not know the run (and would leave an ``mlflow.db`` in the notebook's folder)."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.registry_uri)
    mlflow.start_run(run_id=run_id)
    try:
        yield
    finally:
        mlflow.end_run()


def log_params(client: MlflowClient, run_id: str, params: Mapping[str, str]) -> None:
    from mlflow.entities import Param

    items = [Param(k, v[:MAX_PARAM_LENGTH]) for k, v in params.items()]
    for start in range(0, len(items), BATCH):
        client.log_batch(run_id, params=items[start : start + BATCH])


def _log_dataset(call: FitCall) -> None:
    import mlflow
    from mlflow.data.numpy_dataset import from_numpy
    from mlflow.data.pandas_dataset import from_pandas

    name = call.data_name or "training data"
    if _is_dataframe(call.X):
        mlflow.log_input(from_pandas(call.X, name=name), context="train")
        return
    import numpy as np

    if hasattr(call.X, "toarray"):  # sparse: MLflow's datasets are dense (its autolog too)
        rows, columns = call.X.shape
        if rows * columns * call.X.dtype.itemsize > MAX_SHIPPED_BYTES:
            return  # densified it would not fit where the kernel's own data may not
        features = call.X.toarray()
    else:
        features = np.asarray(call.X)
    if call.y is None:
        mlflow.log_input(from_numpy(features, name=name), context="train")
    else:
        dataset = from_numpy(features, targets=np.asarray(call.y), name=name)
        mlflow.log_input(dataset, context="train")


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


# --- metrics ---------------------------------------------------------------------------


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any) -> dict[str, float]:
    """MLflow autolog's training metrics for a classifier or a regressor."""
    return _training_metrics(estimator, X, y, sample_weight)[0]


def _training_metrics(
    estimator: Any, X: Any, y: Any, sample_weight: Any
) -> tuple[dict[str, float], Any]:
    """The training metrics and the predictions they came from (predicting a 300-tree
    forest on its training set is the costly part: done once, shared with the plot)."""
    from sklearn import metrics
    from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier, is_regressor

    if y is None or not hasattr(estimator, "predict"):
        return {}, None
    weights = {"sample_weight": sample_weight}
    y_pred = estimator.predict(X)
    found: dict[str, float] = {}

    def add(key: str, compute: Callable[[], Any]) -> None:
        with contextlib.suppress(Exception):  # a metric that does not apply is left out
            value = float(compute())
            if math.isfinite(value):
                found[f"training_{key}"] = value

    if is_classifier(estimator):
        average = {"average": "weighted", "zero_division": 0}
        add("accuracy_score", lambda: metrics.accuracy_score(y, y_pred, **weights))
        add("precision_score", lambda: metrics.precision_score(y, y_pred, **average, **weights))
        add("recall_score", lambda: metrics.recall_score(y, y_pred, **average, **weights))
        add("f1_score", lambda: metrics.f1_score(y, y_pred, **average, **weights))
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            labels = getattr(estimator, "classes_", None)
            add("log_loss", lambda: metrics.log_loss(y, proba, labels=labels, **weights))
            add("roc_auc", lambda: _roc_auc(metrics, y, proba, labels, sample_weight))
    elif is_regressor(estimator):
        mse = metrics.mean_squared_error(y, y_pred, **weights)
        found["training_mean_squared_error"] = float(mse)
        found["training_root_mean_squared_error"] = math.sqrt(float(mse))
        add("mean_absolute_error", lambda: metrics.mean_absolute_error(y, y_pred, **weights))
        add("r2_score", lambda: metrics.r2_score(y, y_pred, **weights))
    default_score = {ClassifierMixin: "accuracy_score", RegressorMixin: "r2_score"}
    scorer = next((k for k in type(estimator).__mro__ if "score" in vars(k)), None)
    if scorer in default_score and f"training_{default_score[scorer]}" in found:
        found["training_score"] = found[f"training_{default_score[scorer]}"]  # the same
    elif hasattr(estimator, "score"):
        add("score", lambda: estimator.score(X, y, **_if_given(sample_weight)))
    return found, y_pred


def _roc_auc(metrics: Any, y: Any, proba: Any, labels: Any, weight: Any) -> float:
    if proba.shape[1] == 2:
        return float(metrics.roc_auc_score(y, proba[:, 1], sample_weight=weight))
    return float(
        metrics.roc_auc_score(y, proba, multi_class="ovr", labels=labels, sample_weight=weight)
    )


def _if_given(sample_weight: Any) -> dict[str, Any]:
    return {} if sample_weight is None else {"sample_weight": sample_weight}


def _log_training_metrics(client: MlflowClient, run_id: str, call: FitCall) -> None:
    import time

    from mlflow.entities import Metric

    found, y_pred = _training_metrics(call.estimator, call.X, call.y, call.sample_weight)
    now = int(time.time() * 1000)
    if found:
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in found.items()])
    if y_pred is not None:
        _log_confusion_matrix(call, y_pred)


def _metric_history(call: FitCall) -> dict[str, list[float]]:
    """A native call's recorded history, or a boosting estimator's ``evals_result_``
    (``XGBClassifier``'s and ``LGBMClassifier``'s ``eval_set``)."""
    from mlops_lab.core.tracking.native_training import flat_history

    if call.metric_history:
        return call.metric_history
    try:  # xgboost raises when fitted without an eval_set
        evals = getattr(call.estimator, "evals_result_", None)
    except Exception:
        return {}
    return flat_history(evals) if isinstance(evals, dict) else {}


def _log_metric_history(client: MlflowClient, run_id: str, call: FitCall) -> None:
    import time

    from mlflow.entities import Metric

    history = _metric_history(call)
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, step) for k, vs in history.items() for step, v in enumerate(vs)]
    for start in range(0, len(metrics), METRICS_BATCH):
        client.log_batch(run_id, metrics=metrics[start : start + METRICS_BATCH])


def _log_confusion_matrix(call: FitCall, y_pred: Any) -> None:
    """The training confusion matrix, drawn without pyplot (not thread-safe), if
    matplotlib is installed (it is not a dependency)."""
    from sklearn.base import is_classifier

    if call.y is None or not is_classifier(call.estimator):
        return
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return
    import mlflow
    from sklearn.metrics import ConfusionMatrixDisplay

    figure = Figure(figsize=(6, 6))
    ConfusionMatrixDisplay.from_predictions(call.y, y_pred, ax=figure.subplots(), colorbar=False)
    mlflow.log_figure(figure, "training_confusion_matrix.png")


def log_evaluation(
    settings: Settings, run_id: str, key: str, value: float, step: int, timestamp: int
) -> None:
    """A post-training score, on the run of the model it scores (again: the next step)."""
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    with mlflow_errors(settings):
        client_for(settings).log_metric(run_id, key, value, timestamp, step)


# --- search results ------------------------------------------------------------------


def _log_search(
    client: MlflowClient,
    run_id: str,
    record: FitRecord,
    call: FitCall,
    lineage_tags: Mapping[str, str],
) -> None:
    """Best params and score, the CV results as a CSV, and a run per candidate."""
    import time

    import mlflow
    import pandas as pd
    from mlflow.entities import Metric, Param

    search = call.estimator
    best = {f"best_{k}": str(v) for k, v in getattr(search, "best_params_", {}).items()}
    log_params(client, run_id, best)
    now = int(time.time() * 1000)
    if hasattr(search, "best_score_"):
        best_score = Metric("best_cv_score", float(search.best_score_), now, 0)
        client.log_batch(run_id, metrics=[best_score])
    results = pd.DataFrame(search.cv_results_)
    mlflow.log_text(results.to_csv(index=False), "cv_results.csv")
    scores = [c for c in results.columns if c.startswith(("mean_test_", "std_test_", "rank_test_"))]
    scores += [c for c in ("mean_fit_time", "mean_score_time") if c in results.columns]
    order = results.sort_values(
        [c for c in results.columns if c.startswith("rank_test_")][:1] or ["mean_fit_time"]
    ).index[:MAX_CANDIDATES]
    experiment_id = client.get_run(run_id).info.experiment_id
    for position, index in enumerate(order, start=1):
        row = results.loc[index]
        candidate = client.create_run(
            experiment_id,
            start_time=call.started_ms,
            tags={**lineage_tags, run_tags.PARENT_RUN_ID: run_id},
            run_name=f"{record.name}-candidate-{position}",
        )
        params = [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in row["params"].items()]
        metrics = [Metric(c, float(row[c]), now, 0) for c in scores if _finite(row[c])]
        client.log_batch(candidate.info.run_id, params=params[:BATCH], metrics=metrics)
        client.set_terminated(candidate.info.run_id, end_time=call.ended_ms)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# --- the model -----------------------------------------------------------------------


def _log_model(call: FitCall, options: FitOptions) -> None:
    """The fitted model (a search's best estimator), with signature and input example."""
    import importlib

    estimator = call.estimator
    if is_search(estimator) and hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    flavor = flavor_of(estimator)
    module: Any = importlib.import_module(f"mlflow.{flavor}")
    example, signature = _example_and_signature(estimator, call.X)
    kwargs: dict[str, Any] = {"name": "model", "signature": signature, "input_example": example}
    if flavor == "sklearn":  # what MLflow's autolog uses; skops refuses trees without a trust list
        kwargs["serialization_format"] = "cloudpickle"
    module.log_model(estimator, pip_requirements=list(options.requirements[flavor]), **kwargs)


def _example_and_signature(estimator: Any, X: Any) -> tuple[Any, Any]:
    from mlflow.models import infer_signature

    try:
        example = X.iloc[:INPUT_EXAMPLE_ROWS] if hasattr(X, "iloc") else X[:INPUT_EXAMPLE_ROWS]
    except Exception:
        return None, None
    if hasattr(example, "toarray"):  # a sparse matrix: MLflow wants it dense in examples
        example = example.toarray()
    try:
        output = estimator.predict(example) if hasattr(estimator, "predict") else None
        return example, infer_signature(example, output)
    except Exception:
        return example, None
