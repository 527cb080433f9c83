"""FitHooks on real scikit-learn: which calls are the user's fits, and which evaluate them.

This file is the "user's code" the hooks look for: it lives outside site-packages and
outside ``mlops_lab``, as a notebook cell or a user's module does, so what it calls
directly counts and what scikit-learn calls on its behalf does not.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import wrapt
from sklearn import metrics, pipeline, svm, tree
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_predict,
    cross_val_score,
    cross_validate,
    learning_curve,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlops_lab.core.tracking.fits import Evaluation, FitCall, FitHooks
from tests.core.tracking.splits import Split


@dataclass
class Seen:
    """What the hooks reported, and the hooks themselves."""

    hooks: FitHooks
    fits: list[FitCall] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)


@pytest.fixture
def seen() -> Iterator[Seen]:
    fits: list[FitCall] = []
    evaluations: list[Evaluation] = []
    errors: list[tuple[str, BaseException]] = []
    hooks = FitHooks(fits.append, evaluations.append, lambda what, e: errors.append((what, e)))
    hooks.install()
    hooks.enabled = True
    yield Seen(hooks, fits, evaluations, errors)
    hooks.uninstall()
    assert not wrapped_by(hooks), "uninstall left wrappers behind"


def wrapped_by(hooks: FitHooks) -> list[str]:
    """The scikit-learn methods and metrics that still carry one of ``hooks``' wrappers."""
    owners: list[Any] = [metrics]
    for module in (tree, svm, pipeline, sys.modules["sklearn.ensemble"]):
        owners += [v for v in vars(module).values() if isinstance(v, type)]
    owners += [
        klass for owner in list(owners) if isinstance(owner, type) for klass in owner.__mro__
    ]
    found = []
    for owner in owners:
        for name, value in list(vars(owner).items()):
            while isinstance(value, wrapt.FunctionWrapper):
                if getattr(value._self_wrapper, "__self__", None) is hooks:
                    found.append(f"{getattr(owner, '__name__', owner)}.{name}")
                value = value.__wrapped__
    return found


# --- fits ------------------------------------------------------------------------------


def test_three_models_are_three_fits_named_after_their_data(seen: Seen, digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    weights = np.ones(len(y_train))

    tree_model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X_train, y_train)
    forest = RandomForestClassifier(n_estimators=50, random_state=0)
    forest.fit(X_train, y_train, sample_weight=weights)
    logistic = LogisticRegression(max_iter=2000).fit(X=X_train, y=y_train)

    assert [type(c.estimator) for c in seen.fits] == [
        DecisionTreeClassifier,
        RandomForestClassifier,
        LogisticRegression,
    ]
    assert [c.estimator for c in seen.fits] == [tree_model, forest, logistic]
    for call in seen.fits:
        assert call.method == "fit"
        assert call.data_name == "X_train"
        assert call.X is X_train and call.y is y_train
        assert call.error is None
        assert 0 < call.started_ms <= call.ended_ms
    assert seen.fits[1].sample_weight is weights
    assert seen.fits[0].sample_weight is None
    # a forest's 50 trees are fitted by scikit-learn, not by this test: not the user's fits
    assert len(forest.estimators_) == 50
    assert seen.errors == []


def test_a_grid_search_is_one_fit(seen: Seen, digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    search = GridSearchCV(SVC(), {"C": [1.0, 10.0], "gamma": ["scale", 0.001]}, cv=3)
    search.fit(X_train, y_train)

    assert [c.estimator for c in seen.fits] == [search]
    assert seen.fits[0].data_name == "X_train"
    assert len(search.cv_results_["params"]) == 4  # 12 candidate fits and a refit happened


def test_a_pipeline_is_one_fit(seen: Seen, digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])
    model.fit(X_train, y_train)

    assert [c.estimator for c in seen.fits] == [model]
    assert seen.fits[0].data_name == "X_train"


def test_fit_predict_is_one_fit(seen: Seen, digits: Split) -> None:
    X_train = digits.X_train
    labels = KMeans(n_clusters=10, n_init=1, random_state=0).fit_predict(X_train)

    assert [(type(c.estimator), c.method) for c in seen.fits] == [(KMeans, "fit_predict")]
    assert seen.fits[0].y is None and len(labels) == len(X_train)


def test_cross_validation_and_learning_curves_fit_nothing_the_user_fitted(
    seen: Seen, digits: Split
) -> None:
    X_train, X_test, y_train, y_test = digits
    model = DecisionTreeClassifier(max_depth=4, random_state=0)

    scores = cross_val_score(model, X_train, y_train, cv=3)
    results = cross_validate(model, X_train, y_train, cv=3, return_estimator=True)
    sizes, *_ = learning_curve(model, X_train, y_train, cv=3, train_sizes=[0.5, 1.0])

    assert len(scores) == 3 and len(results["estimator"]) == 3 and len(sizes) == 2
    assert seen.fits == []
    # the folds' estimators were fitted inside scikit-learn: scoring them is not tracked
    fold_model = results["estimator"][0]
    fold_model.score(X_test, y_test)
    assert seen.evaluations == []


def test_a_fit_made_inside_an_installed_package_is_not_the_users(seen: Seen, digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    model = LogisticRegression(max_iter=500)

    predicted = cross_val_predict(model, X_train, y_train, cv=3)

    assert len(predicted) == len(y_train)
    assert seen.fits == [] and seen.evaluations == []


def test_a_failing_fit_is_reported_with_its_error_and_still_raises(
    seen: Seen, digits: Split
) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    X_broken = X_train.copy()
    X_broken[3, 5] = np.nan

    seen.hooks.enabled = False
    with pytest.raises(ValueError) as untracked:
        LogisticRegression().fit(X_broken, y_train)
    seen.hooks.enabled = True
    model = LogisticRegression()
    with pytest.raises(ValueError) as tracked:
        model.fit(X_broken, y_train)

    assert type(tracked.value) is type(untracked.value)
    assert str(tracked.value) == str(untracked.value)
    assert "NaN" in str(tracked.value)
    (call,) = seen.fits
    assert call.estimator is model and call.data_name == "X_broken"
    first_line = str(untracked.value).strip().splitlines()[0]
    assert call.error == f"ValueError: {first_line}"
    assert call.started_ms <= call.ended_ms


def test_a_failing_callback_never_breaks_the_users_fit(digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    errors: list[tuple[str, BaseException]] = []

    def broken(call: FitCall) -> None:
        raise RuntimeError("queue is full")

    hooks = FitHooks(broken, lambda e: None, lambda what, e: errors.append((what, e)))
    hooks.install()
    hooks.enabled = True
    try:
        model = DecisionTreeClassifier(max_depth=3).fit(X_train, y_train)
    finally:
        hooks.uninstall()
    assert model.tree_ is not None
    assert [(what, str(e)) for what, e in errors] == [("tracking FitCall", "queue is full")]


def test_what_a_callback_computes_is_not_reported_again(digits: Split) -> None:
    """The session's own work inside a callback (a prediction, a metric) is not the
    user's, even though it runs in the user's thread."""
    X_train, y_train = digits.X_train, digits.y_train
    from sklearn.metrics import accuracy_score

    evaluations: list[Evaluation] = []
    fits: list[FitCall] = []

    def on_fit(call: FitCall) -> None:
        fits.append(call)
        accuracy_score(call.y, call.estimator.predict(call.X))
        call.estimator.score(call.X, call.y)
        DecisionTreeClassifier(max_depth=2).fit(call.X, call.y)

    hooks = FitHooks(on_fit, evaluations.append, lambda what, e: None)
    hooks.install()
    hooks.enabled = True
    try:
        DecisionTreeClassifier(max_depth=3).fit(X_train, y_train)
    finally:
        hooks.uninstall()
    assert len(fits) == 1 and evaluations == []


# --- evaluations -----------------------------------------------------------------------


def test_score_of_a_tracked_model_is_one_evaluation_with_the_returned_value(
    seen: Seen, digits: Split
) -> None:
    X_train, X_test, y_train, y_test = digits
    model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X_train, y_train)

    value = model.score(X_test, y_test)

    # score() calls predict() and accuracy_score() itself: those are not evaluations again
    assert [(e.key, e.value) for e in seen.evaluations] == [
        ("DecisionTreeClassifier_score_X_test", value)
    ]
    assert seen.evaluations[0].estimator is model
    assert 0.5 < value < 1


def test_metrics_on_a_tracked_models_predictions_are_evaluations(seen: Seen, digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    # imported once the hooks are installed, as a notebook does after %mlops track
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    accuracy = accuracy_score(y_test, model.predict(X_test))
    predicted = model.predict(X_test)
    f1 = f1_score(y_true=y_test, y_pred=predicted, average="macro")
    loss = log_loss(y_test, model.predict_proba(X_test))
    unrelated = accuracy_score(y_test, y_test.copy())  # no model's predictions: not tracked

    assert [(e.key, e.value) for e in seen.evaluations] == [
        ("accuracy_score_X_test", accuracy),
        ("f1_score_X_test", f1),
        ("log_loss_X_test", loss),
    ]
    assert all(e.estimator is model for e in seen.evaluations)
    assert unrelated == 1.0


def test_regression_metrics_name_the_data_they_were_computed_on(
    seen: Seen, diabetes: Split
) -> None:
    X_train, X_test, y_train, y_test = diabetes
    model = LinearRegression().fit(X_train, y_train)
    from sklearn.metrics import mean_squared_error, r2_score

    train_error = mean_squared_error(y_train, model.predict(X_train))
    test_r2 = r2_score(y_test, model.predict(X_test))
    test_score = model.score(X_test, y_test)

    assert [(e.key, e.value) for e in seen.evaluations] == [
        ("mean_squared_error_X_train", train_error),
        ("r2_score_X_test", test_r2),
        ("LinearRegression_score_X_test", test_score),
    ]
    assert seen.fits[0].data_name == "X_train"


def test_scores_of_an_untracked_model_are_not_evaluations(seen: Seen, digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    seen.hooks.enabled = False
    model = DecisionTreeClassifier(max_depth=4).fit(X_train, y_train)
    seen.hooks.enabled = True
    from sklearn.metrics import accuracy_score

    model.score(X_test, y_test)
    accuracy_score(y_test, model.predict(X_test))

    assert seen.fits == [] and seen.evaluations == []


def test_disabled_hooks_report_nothing(seen: Seen, digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    model = DecisionTreeClassifier(max_depth=4).fit(X_train, y_train)
    seen.hooks.enabled = False
    from sklearn.metrics import accuracy_score

    DecisionTreeClassifier(max_depth=4).fit(X_train, y_train)
    model.score(X_test, y_test)
    accuracy_score(y_test, model.predict(X_test))

    assert [c.estimator for c in seen.fits] == [model]  # the fit made while still enabled
    assert seen.evaluations == []


class ComparableForest(RandomForestClassifier):
    """A user's subclass that defines ``__eq__`` (so Python gives it no ``__hash__``)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_params() == self.get_params()


def test_an_unhashable_estimator_is_still_fitted_predicted_and_scored(
    seen: Seen, digits: Split
) -> None:
    X_train, X_test, y_train, y_test = digits
    model = ComparableForest(n_estimators=5, random_state=0)
    with pytest.raises(TypeError):
        hash(model)

    model.fit(X_train, y_train)
    predicted = model.predict(X_test)
    value = model.score(X_test, y_test)

    assert len(predicted) == len(y_test) and 0.5 < value <= 1
    assert [c.data_name for c in seen.fits] == ["X_train"]
    assert seen.errors == []


# --- install and uninstall -----------------------------------------------------------


def test_uninstall_puts_the_original_methods_back(digits: Split) -> None:
    X_train, y_train = digits.X_train, digits.y_train
    original_fit = DecisionTreeClassifier.__dict__["fit"]
    original_accuracy = metrics.accuracy_score
    fits: list[FitCall] = []
    hooks = FitHooks(fits.append, lambda e: None, lambda what, e: None)
    hooks.install()
    assert wrapped_by(hooks), "installing wraps the classes already imported"
    hooks.enabled = True
    hooks.uninstall()

    assert not wrapped_by(hooks)
    assert not hooks.enabled
    DecisionTreeClassifier(max_depth=3).fit(X_train, y_train)
    assert fits == []
    if not isinstance(original_fit, wrapt.FunctionWrapper):  # no other test's hooks around
        assert DecisionTreeClassifier.__dict__["fit"] is original_fit
        assert metrics.accuracy_score is original_accuracy


def run_fresh(script: str, tmp_path: Path) -> list[str]:
    """Run ``script`` in a new interpreter (nothing imported yet); its printed lines."""
    path = tmp_path / "user_script.py"
    path.write_text(textwrap.dedent(script))
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_modules_imported_after_install_are_wrapped_and_install_imports_nothing(
    tmp_path: Path,
) -> None:
    lines = run_fresh(
        """
        import sys
        from mlops_lab.core.tracking.fits import FitHooks

        fits, evaluations = [], []
        hooks = FitHooks(fits.append, evaluations.append, lambda what, e: print(what, e))
        hooks.install()
        hooks.enabled = True
        print("sklearn imported by install:", "sklearn" in sys.modules)

        from sklearn.datasets import load_iris
        from sklearn.metrics import accuracy_score
        from sklearn.tree import DecisionTreeClassifier

        X_iris, y_iris = load_iris(return_X_y=True)
        model = DecisionTreeClassifier(random_state=0).fit(X_iris, y_iris)
        accuracy_score(y_iris, model.predict(X_iris))
        print("fits:", [(type(c.estimator).__name__, c.data_name) for c in fits])
        print("evaluations:", [e.key for e in evaluations])
        """,
        tmp_path,
    )
    assert lines == [
        "sklearn imported by install: False",
        "fits: [('DecisionTreeClassifier', 'X_iris')]",
        "evaluations: ['accuracy_score_X_iris']",
    ]


def test_modules_imported_after_uninstall_are_left_alone(tmp_path: Path) -> None:
    lines = run_fresh(
        """
        import sys
        import wrapt
        from mlops_lab.core.tracking.fits import FitHooks

        hooks = FitHooks(print, print, print)
        hooks.install()
        from sklearn.tree import DecisionTreeClassifier

        tree_fit = vars(DecisionTreeClassifier)["fit"]
        print("tree wrapped:", isinstance(tree_fit, wrapt.FunctionWrapper))
        hooks.uninstall()
        print("kernel_ridge imported before:", "sklearn.kernel_ridge" in sys.modules)
        from sklearn.kernel_ridge import KernelRidge

        print("later module wrapped:", isinstance(vars(KernelRidge)["fit"], wrapt.FunctionWrapper))

        hooks.install()
        print("installed again:", isinstance(vars(KernelRidge)["fit"], wrapt.FunctionWrapper))
        """,
        tmp_path,
    )
    assert lines == [
        "tree wrapped: True",
        "kernel_ridge imported before: False",
        "later module wrapped: False",
        "installed again: True",
    ]


def test_mlflows_own_autolog_still_works_beside_the_hooks(tmp_path: Path) -> None:
    """A user may turn on ``mlflow.sklearn.autolog()`` in a tracked kernel: MLflow patches
    our wrapped methods (``Pipeline.predict`` through its ``available_if`` function), and
    then the fit is MLflow's (its patch calls ours: the caller is MLflow, not the user)."""
    lines = run_fresh(
        f"""
        import mlflow, mlflow.sklearn
        from mlops_lab.core.tracking.fits import FitHooks
        calls = []
        hooks = FitHooks(calls.append, lambda e: None, lambda what, e: print("ERR", what, e))
        hooks.install()
        hooks.enabled = True
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        X, y = load_iris(return_X_y=True)
        mlflow.set_tracking_uri("sqlite:///{tmp_path}/mlflow.db")
        mlflow.sklearn.autolog(silent=True)
        with mlflow.start_run() as run:
            model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
            model.predict(X)
        print(len(calls), "training_accuracy_score" in mlflow.get_run(run.info.run_id).data.metrics)
        mlflow.sklearn.autolog(disable=True)
        hooks.uninstall()
        """,
        tmp_path,
    )
    assert lines[-1] == "0 True"
