"""Comparing runs: params and metrics side by side, differences marked, metric histories.

``compare_runs`` is the core of ``%mlops compare``, ``mlops-lab compare`` and the
sidebar's comparison; pandas is the shared currency, matplotlib is imported only when a
notebook asks for a plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.mlflow.connection import client_for, mlflow_errors
from mlops_lab.core.runs.search import RunSummary, column_keys, get_mlflow_run, summary_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

DIFFERENCE_COLOUR = "#fff3cd"


@dataclass(frozen=True)
class Comparison:
    """Runs side by side.

    Attributes:
        table: one row per ``params.<k>`` / ``metrics.<k>`` (params first, each sorted),
            one column per run labelled ``"<run name> (<8-char id>)"``; a run that lacks a
            key shows ``None``.
        differing: labels of the rows whose values are not all equal (a missing value
            differs from any present one; NaN equals NaN).
        histories: metric key -> long frame ``run, step, value`` for every metric that
            all runs logged and at least one logged at more than one step (a curve).
    """

    table: pd.DataFrame
    differing: list[str]
    histories: dict[str, pd.DataFrame]

    def styled(self) -> Styler:
        """The table with differing rows on a highlighted background, for notebooks."""
        differing = set(self.differing)

        def highlight(row: pd.Series) -> list[str]:
            css = f"background-color: {DIFFERENCE_COLOUR}" if row.name in differing else ""
            return [css] * len(row)

        return self.table.style.apply(highlight, axis=1)

    def plot(self) -> Figure | None:
        """One subplot per shared metric history; None when no metric has a curve."""
        if not self.histories:
            return None
        import matplotlib.pyplot as plt

        keys = sorted(self.histories)
        figure, axes = plt.subplots(
            len(keys), 1, figsize=(7, 3 * len(keys)), squeeze=False, constrained_layout=True
        )
        for axis, key in zip(axes[:, 0], keys, strict=True):
            for run, points in self.histories[key].groupby("run", sort=False):
                axis.plot(points["step"], points["value"], marker=".", label=str(run))
            axis.set_title(key)
            axis.set_xlabel("step")
            axis.legend(fontsize="small")
        plt.close(figure)  # the caller displays it; keep pyplot's state clean
        return figure


def run_label(summary: RunSummary) -> str:
    return f"{summary.run_name or 'run'} ({summary.run_id[:8]})"


def _same(values: list[Any]) -> bool:
    def norm(v: Any) -> Any:
        return "NaN" if isinstance(v, float) and math.isnan(v) else v

    return len({repr(norm(v)) for v in values}) <= 1


def compare_runs(settings: Settings, run_ids: list[str]) -> Comparison:
    """Compare two or more runs (any experiments) by id.

    Raises:
        InvalidInput: fewer than two distinct run ids.
        NotFound: an unknown run, named.
    """
    ids = list(dict.fromkeys(r.strip() for r in run_ids if r and r.strip()))
    if len(ids) < 2:
        raise InvalidInput("Give at least two different run ids to compare.")
    summaries = [summary_of(get_mlflow_run(settings, run_id)) for run_id in ids]
    labels = [run_label(s) for s in summaries]
    param_keys, metric_keys = column_keys(summaries)
    rows: dict[str, list[Any]] = {}
    for key in param_keys:
        rows[f"params.{key}"] = [s.params.get(key) for s in summaries]
    for key in metric_keys:
        rows[f"metrics.{key}"] = [s.metrics.get(key) for s in summaries]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=labels, dtype=object)
    differing = [label for label, values in rows.items() if not _same(values)]
    return Comparison(
        table=table, differing=differing, histories=_histories(settings, summaries, labels)
    )


def _histories(
    settings: Settings, summaries: list[RunSummary], labels: list[str]
) -> dict[str, pd.DataFrame]:
    shared = set.intersection(*(set(s.metrics) for s in summaries))
    client = client_for(settings)
    histories: dict[str, pd.DataFrame] = {}
    with mlflow_errors(settings):
        for key in sorted(shared):
            records = []
            longest = 0
            for summary, label in zip(summaries, labels, strict=True):
                points = client.get_metric_history(summary.run_id, key)
                longest = max(longest, len(points))
                records += [
                    {"run": label, "step": p.step, "value": p.value}
                    for p in sorted(points, key=lambda p: (p.step, p.timestamp))
                ]
            if longest > 1:
                histories[key] = pd.DataFrame.from_records(
                    records, columns=["run", "step", "value"]
                )
    return histories
