"""Which calls are model fits a user made, and which evaluate a model they fitted.

A notebook trains several models; each is tracked as its own run. To know where one model
starts, the fit methods of scikit-learn's estimators (and of XGBoost's and LightGBM's
scikit-learn estimators) are wrapped, and so are the methods that evaluate a fitted model
(``predict``, ``predict_proba``, ``decision_function``, ``score``) and scikit-learn's
common metric functions. XGBoost's and LightGBM's own ``train`` functions are wrapped too
(:mod:`~mlops_lab.core.tracking.native_training`): their ``Booster`` is the model. The
wrappers only observe: the call itself is the library's.

**A fit counts when the user made it** (:mod:`~mlops_lab.core.tracking.callers`). The
code that called ``fit`` decides: a notebook cell or the user's own module is the user;
scikit-learn itself (``Pipeline`` fitting its steps, ``GridSearchCV`` fitting candidates,
``cross_val_score`` fitting folds), any other installed package (``XGBClassifier.fit``
calling ``xgboost.train``) and the standard library are not. So a grid search is one
fit, a cross-validation is none, and no list of meta-estimators has to be kept up to date.

Wrapping happens as the framework's modules are imported (``wrapt``'s post-import hooks),
so turning tracking on never imports scikit-learn itself (about a second), and classes
imported later are covered too. Once installed the wrappers stay for the kernel's life and
cost an attribute check when tracking is off. This module never imports MLflow.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import threading
import time
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import wrapt

from mlops_lab.core.errors import one_line
from mlops_lab.core.tracking.callers import name_in, user_caller
from mlops_lab.core.tracking.native_training import TRAINING_FUNCTIONS, NativeCall

FIT_METHODS = ("fit", "fit_predict")
PREDICT_METHODS = ("predict", "predict_proba", "decision_function")
SCORE_METHOD = "score"

FRAMEWORK_MODULES = ("sklearn", "xgboost", "lightgbm")
"""Packages whose scikit-learn-style estimators are tracked (when installed)."""

SKLEARN_METRICS = (
    "accuracy_score",
    "balanced_accuracy_score",
    "f1_score",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "log_loss",
    "matthews_corrcoef",
    "r2_score",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "median_absolute_error",
)
"""``sklearn.metrics`` functions whose value on a tracked model's predictions is logged."""

_REMEMBERED_PREDICTIONS = 64


Wrapper = Callable[[Any, Any, tuple[Any, ...], dict[str, Any]], Any]
"""wrapt's wrapper signature: ``(wrapped, instance, args, kwargs)``."""


@dataclass
class FitCall:
    """One fit the user made: the estimator, its data, and how it went.

    ``X`` and ``y`` are references, not copies: the worker reads them after the cell
    goes on, as MLflow's autolog does, so data mutated in place after a fit would be
    seen as mutated (rare in notebooks; copying every training set would cost more).
    """

    estimator: Any
    method: str
    X: Any
    y: Any
    sample_weight: Any
    data_name: str | None
    """The name the user's code gives ``X`` (``X_train``), when one can be found."""
    started_ms: int
    ended_ms: int
    error: str | None = None
    """The fit's exception, in one line (the exception itself may not pickle)."""
    training_function: str | None = None
    """``xgboost.train`` or ``lightgbm.train`` for a native training call, whose
    ``estimator`` is the ``Booster`` it returned (None if it failed) and whose data is not
    shipped (a ``DMatrix`` cannot be pickled); None for an estimator's fit."""
    params: dict[str, Any] | None = None
    """A native training call's params dict and ``num_boost_round``; None for an
    estimator, whose params are its ``get_params()``."""
    metric_history: dict[str, list[float]] = field(default_factory=dict)
    """A native training call's evaluation per round (``eval-logloss``: one value a round)."""

    @property
    def kind(self) -> str:
        """What the fit's run is named after: the training function, or the class."""
        return self.training_function or type(self.estimator).__name__


@dataclass(frozen=True)
class Evaluation:
    """A tracked model's score on some data: ``RandomForestClassifier_score_X_test``."""

    estimator: Any
    key: str
    value: float


# --- the hooks -------------------------------------------------------------------------


class FitHooks:
    """The wrappers and what they report to: see the module docstring.

    Args:
        on_fit: called (in the user's thread, after the fit) with each user fit.
        on_evaluation: called with each score of a tracked model.
        on_error: told of an error raised by one of the callbacks above, which is
            never allowed to break the user's own call.
    """

    def __init__(
        self,
        on_fit: Callable[[FitCall], None],
        on_evaluation: Callable[[Evaluation], None],
        on_error: Callable[[str, BaseException], None],
    ) -> None:
        self.enabled = False
        self._on_fit = on_fit
        self._on_evaluation = on_evaluation
        self._on_error = on_error
        self._tracked: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        self._predictions: OrderedDict[int, tuple[weakref.ref[Any], weakref.ref[Any], str]] = (
            OrderedDict()
        )
        self._wrapped: list[tuple[Any, str, Any]] = []
        self._seen: set[tuple[type, str]] = set()
        self._installed = False
        self._lock = threading.Lock()
        self._busy = threading.local()

    # -- install -------------------------------------------------------------------------

    def install(self) -> None:
        """Wrap the frameworks' estimators now or as their modules get imported."""
        if self._installed:
            return
        self._installed = True
        for package in FRAMEWORK_MODULES:
            wrapt.register_post_import_hook(self._on_package_import, package)

    def uninstall(self) -> None:
        """Put every original method back (``%unload_ext``); modules imported later are
        left alone (wrapt keeps the import hooks registered, so they must check)."""
        self.enabled = False
        with self._lock:
            self._installed = False
            for owner, name, original in reversed(self._wrapped):
                setattr(owner, name, original)
            self._wrapped.clear()
            self._seen.clear()

    def _on_package_import(self, package: ModuleType) -> None:
        if not self._installed:
            return
        if package.__name__ == "sklearn":
            for sub in getattr(package, "__all__", ()):
                wrapt.register_post_import_hook(self._on_module_import, f"sklearn.{sub}")
        else:
            self._on_module_import(package)
            with self._lock:
                self._wrap_training(package)

    def _on_module_import(self, module: ModuleType) -> None:
        try:
            from sklearn.base import BaseEstimator
        except ImportError:
            return
        with self._lock:
            if not self._installed:
                return
            if module.__name__ == "sklearn.metrics":
                self._wrap_metrics(module)
            for value in list(vars(module).values()):
                if isinstance(value, type) and issubclass(value, BaseEstimator):
                    self._wrap_estimator(value)

    def _wrap_estimator(self, cls: type) -> None:
        for klass in cls.__mro__:
            if not klass.__module__.startswith(FRAMEWORK_MODULES):
                continue
            for name in (*FIT_METHODS, *PREDICT_METHODS, SCORE_METHOD):
                original = klass.__dict__.get(name)
                if original is None or (klass, name) in self._seen:
                    continue
                wrapper = (
                    self._fit
                    if name in FIT_METHODS
                    else self._score
                    if name == SCORE_METHOD
                    else self._predict
                )
                if inspect.isfunction(original):
                    self._seen.add((klass, name))
                    setattr(klass, name, wrapt.FunctionWrapper(original, wrapper))
                    self._wrapped.append((klass, name, original))
                elif inspect.isfunction(getattr(original, "fn", None)):
                    self._seen.add((klass, name))
                    self._wrap_delegated(original, wrapper)

    def _wrap_delegated(self, descriptor: Any, wrapper: Wrapper) -> None:
        """A method that is there only when a step has it (scikit-learn's ``available_if``,
        ``Pipeline.predict``): its function is wrapped inside the descriptor, which stays
        as it is, so MLflow's own autolog (which patches such a method through its ``fn``)
        still works beside us. The descriptor binds ``fn`` itself: our wrapper receives
        the instance as the first argument."""

        def as_method(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: Any) -> Any:
            __tracebackhide__ = True
            if instance is None and args:
                instance, args = args[0], args[1:]
                wrapped = types.MethodType(wrapped, instance)
            return wrapper(wrapped, instance, args, kwargs)

        original = descriptor.fn
        descriptor.fn = wrapt.FunctionWrapper(original, as_method)
        self._wrapped.append((descriptor, "fn", original))

    def _wrap_training(self, package: ModuleType) -> None:
        name = TRAINING_FUNCTIONS.get(package.__name__, "")
        original = getattr(package, name, None)
        key = (ModuleType, f"{package.__name__}.{name}")
        if not inspect.isfunction(original) or key in self._seen:
            return
        self._seen.add(key)
        wrapper = wrapt.FunctionWrapper(original, functools.partial(self._train, package))
        setattr(package, name, wrapper)
        self._wrapped.append((package, name, original))

    def _wrap_metrics(self, metrics: ModuleType) -> None:
        for name in SKLEARN_METRICS:
            original = getattr(metrics, name, None)
            if not inspect.isfunction(original) or (ModuleType, name) in self._seen:
                continue
            self._seen.add((ModuleType, name))
            setattr(metrics, name, wrapt.FunctionWrapper(original, self._metric))
            self._wrapped.append((metrics, name, original))

    # -- the wrappers ----------------------------------------------------------------------

    def _quiet(self) -> bool:
        """Off, or already inside one of our own calls in this thread."""
        return not self.enabled or getattr(self._busy, "depth", 0) > 0

    def _fit(
        self, wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        if instance is None or self._quiet():
            return wrapped(*args, **kwargs)
        caller = user_caller()
        if caller is None:
            return wrapped(*args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        call = FitCall(
            estimator=instance,
            method=wrapped.__name__,
            X=X,
            y=y,
            sample_weight=kwargs.get("sample_weight"),
            data_name=name_in(caller, X),
            started_ms=_now_ms(),
            ended_ms=0,
        )
        del caller  # no frame kept alive past this point
        return self._observe(call, wrapped, args, kwargs)

    def _train(
        self,
        package: ModuleType,
        wrapped: Any,
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """``xgboost.train``/``lightgbm.train``: the returned Booster is the fitted model."""
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        if self._quiet():
            return wrapped(*args, **kwargs)
        caller = user_caller()
        if caller is None:
            return wrapped(*args, **kwargs)
        try:
            native = NativeCall.bind(package, wrapped, args, kwargs)
        except Exception:  # arguments it refuses (let it say so) or we cannot read
            return wrapped(*args, **kwargs)
        call = FitCall(
            estimator=None,
            method=wrapped.__name__,
            X=None,
            y=None,
            sample_weight=None,
            data_name=name_in(caller, native.data),
            started_ms=_now_ms(),
            ended_ms=0,
            training_function=native.function,
            params=native.params,
        )
        del caller

        def trained(booster: Any) -> None:
            call.estimator, call.metric_history = booster, native.history()

        return self._observe(call, wrapped, native.args, native.kwargs, trained)

    def _observe(
        self,
        call: FitCall,
        fit: Callable[..., Any],
        args: Any,
        kwargs: Any,
        fitted: Callable[[Any], None] | None = None,
    ) -> Any:
        """Run the user's fit, time it and report it, failed or not; its error is raised
        unchanged. ``fitted`` completes the call from the result (a Booster). No lambda
        around ``fit``: its frame would show in the user's traceback."""
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        try:
            result = fit(*args, **kwargs)
        except BaseException as exc:
            call.ended_ms, call.error = _now_ms(), one_line(exc)
            self._report_fit(call)
            raise
        call.ended_ms = _now_ms()
        if fitted is not None:
            fitted(result)
        self._report_fit(call)
        return result

    def _report_fit(self, call: FitCall) -> None:
        with contextlib.suppress(TypeError):  # cannot be weakly referenced: no scores
            self._tracked[call.estimator] = True
        self._guarded(self._on_fit, call)

    def _is_tracked(self, estimator: Any) -> bool:
        """A fit of the user's made it; False for an estimator that cannot be hashed (one
        defining ``__eq__`` alone, a ``@dataclass`` subclass): it was never tracked."""
        try:
            return estimator in self._tracked
        except TypeError:
            return False

    def _predict(
        self, wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        result = wrapped(*args, **kwargs)
        if instance is None or self._quiet() or not self._is_tracked(instance):
            return result
        caller = user_caller()
        if caller is not None:
            X = args[0] if args else kwargs.get("X")
            self._remember(result, instance, name_in(caller, X) or "data")
        return result

    def _score(
        self, wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        if instance is None or self._quiet() or not self._is_tracked(instance):
            return wrapped(*args, **kwargs)
        caller = user_caller()
        if caller is None:
            return wrapped(*args, **kwargs)
        X = args[0] if args else kwargs.get("X")
        data = name_in(caller, X) or "data"
        del caller
        value = self._inside(wrapped, args, kwargs)
        if _is_number(value):
            key = f"{type(instance).__name__}_score_{data}"
            self._guarded(self._on_evaluation, Evaluation(instance, key, float(value)))
        return value

    def _metric(
        self, wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        __tracebackhide__ = True  # IPython leaves our frame out of the user's traceback
        if self._quiet() or not self._predictions:
            return wrapped(*args, **kwargs)
        caller = user_caller()
        if caller is None:
            return wrapped(*args, **kwargs)
        del caller
        value = self._inside(wrapped, args, kwargs)
        source = self._prediction_among([*args, *kwargs.values()])
        if source is not None and _is_number(value):
            estimator, data = source
            key = f"{wrapped.__name__}_{data}"
            self._guarded(self._on_evaluation, Evaluation(estimator, key, float(value)))
        return value

    # -- helpers ---------------------------------------------------------------------------

    def _inside(self, wrapped: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call ``wrapped`` with our wrappers quiet (``score`` calls ``predict`` itself)."""
        self._busy.depth = getattr(self._busy, "depth", 0) + 1
        try:
            return wrapped(*args, **kwargs)
        finally:
            self._busy.depth -= 1

    def _remember(self, result: Any, estimator: Any, data: str) -> None:
        try:
            ref = weakref.ref(result)
        except TypeError:  # a list or a scalar: cannot be told apart later
            return
        with self._lock:
            self._predictions[id(result)] = (ref, weakref.ref(estimator), data)
            while len(self._predictions) > _REMEMBERED_PREDICTIONS:
                self._predictions.popitem(last=False)

    def _prediction_among(self, values: list[Any]) -> tuple[Any, str] | None:
        with self._lock:
            for value in values:
                entry = self._predictions.get(id(value))
                if entry is not None and entry[0]() is value:
                    estimator = entry[1]()
                    return None if estimator is None else (estimator, entry[2])
        return None

    def _guarded(self, callback: Callable[[Any], None], value: Any) -> None:
        """Our callbacks never break the user's call: their errors go to ``on_error``."""
        self._busy.depth = getattr(self._busy, "depth", 0) + 1
        try:
            callback(value)
        except Exception as exc:
            self._on_error(f"tracking {type(value).__name__}", exc)
        finally:
            self._busy.depth -= 1


def _now_ms() -> int:
    return int(time.time() * 1000)


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
