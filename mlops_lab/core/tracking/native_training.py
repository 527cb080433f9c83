"""XGBoost's and LightGBM's own training functions, as a tracked fit sees them.

Many notebooks train with ``xgboost.train(params, dtrain, num_boost_round, evals=...)`` or
``lightgbm.train(params, train_set, num_boost_round, valid_sets=...)`` rather than with the
scikit-learn estimators. Such a call has no ``get_params`` and no ``fit``: its params are
the dict it was given plus the number of rounds, its model is the ``Booster`` it returns,
and its training metrics are the evaluation of each round on the sets it was asked to
watch. This module reads those from the call's arguments and makes the call record its
evaluation history, in the library's own way, without changing what the user gets back.

This module never imports MLflow, XGBoost or LightGBM: the library's module is handed in
by the post-import hook that found it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

TRAINING_FUNCTIONS = {"xgboost": "train", "lightgbm": "train"}
"""Package -> its native training function, wrapped when the package is imported."""

_DATA_ARGUMENT = {"xgboost": "dtrain", "lightgbm": "train_set"}
_ROUNDS = "num_boost_round"


@dataclass
class NativeCall:
    """One call of a native training function, its arguments bound and ready to run.

    ``args`` and ``kwargs`` are what the function gets: the user's, with an evaluation
    recorder added (xgboost's ``evals_result`` dict, lightgbm's ``record_evaluation``
    callback). ``history`` reads what was recorded, once the call has returned.
    """

    function: str
    """``xgboost.train``: what the user called, and what the fit's run is named after."""
    params: dict[str, Any]
    data: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    history: Callable[[], dict[str, list[float]]]

    @classmethod
    def bind(
        cls,
        package: ModuleType,
        wrapped: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> NativeCall:
        """Raises for arguments that cannot be read (``TypeError`` for those the function
        itself would refuse): the caller then runs the user's call untouched and untracked,
        and the library says what is wrong, if anything."""
        name = package.__name__
        signature = inspect.signature(wrapped)
        bound = signature.bind(*args, **kwargs)
        given = bound.arguments
        rounds = given.get(_ROUNDS, signature.parameters[_ROUNDS].default)
        params = {**dict(given.get("params") or {}), _ROUNDS: rounds}
        evals: dict[str, dict[str, list[Any]]]
        if name == "lightgbm":
            evals = {}
            callbacks = list(given.get("callbacks") or [])
            given["callbacks"] = [*callbacks, package.record_evaluation(evals)]
        else:  # xgboost fills the dict it is given; the user's own when they gave one
            user_dict = given.get("evals_result")
            evals = user_dict if isinstance(user_dict, dict) else {}
            given["evals_result"] = evals
        return cls(
            function=f"{name}.{TRAINING_FUNCTIONS[name]}",
            params=params,
            data=given.get(_DATA_ARGUMENT[name]),
            args=bound.args,
            kwargs=bound.kwargs,
            history=lambda: flat_history(evals),
        )


def flat_history(evals_result: Mapping[str, Mapping[str, Any]] | None) -> dict[str, list[float]]:
    """``{"eval": {"logloss": [..]}}`` as ``{"eval-logloss": [..]}``: MLflow autolog's keys
    for both libraries, one value per boosting round (a value that is not a number, such
    as a ``(mean, std)`` pair, ends that metric's history)."""
    flat: dict[str, list[float]] = {}
    for data, metrics in (evals_result or {}).items():
        for metric, values in metrics.items():
            series: list[float] = []
            for value in values:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    break
                series.append(number)
            if series:
                flat[f"{data}-{metric}"] = series
    return flat
