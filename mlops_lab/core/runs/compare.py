"""Comparing runs: params and metrics side by side, differences marked, metric histories.

:func:`compare_runs` is the one comparison every face shows: ``%mlops compare`` (a
styled DataFrame and a plot), ``mlops-lab compare`` (a table) and the sidebar (through
``GET /compare``). Rows, labels and histories are plain typed data; pandas and
matplotlib come in only for the notebook and CLI renderings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.mlflow.connection import mlflow_errors, reader_for
from mlops_lab.core.mlflow.entities import RunSummary, column_keys, finite_or_none
from mlops_lab.core.runs.search import get_mlflow_run, summary_of

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

DIFFERENCE_COLOUR = "#fff3cd"
MAX_COMPARED = 50


@dataclass(frozen=True)
class ComparedRun:
    run_id: str
    run_name: str | None
    experiment_id: str
    label: Annotated[str, Field(description='"<name> (<8-char id>)", the same in every face.')]


@dataclass(frozen=True)
class ComparisonRow:
    """One param or metric across the runs; ``values`` line up with the comparison's runs."""

    key: Annotated[str, Field(description="params.<name> or metrics.<name>")]
    kind: Literal["param", "metric"]
    name: str
    values: Annotated[
        list[str | float | None], Field(description="null where a run lacks the key.")
    ]
    differs: Annotated[bool, Field(description="The values are not all equal.")]


@dataclass(frozen=True)
class HistoryPoint:
    step: int
    value: float | None


@dataclass(frozen=True)
class HistorySeries:
    run_id: str
    label: str
    points: list[HistoryPoint]


@dataclass(frozen=True)
class MetricHistory:
    """A metric every compared run logged, and at least one at more than one step."""

    metric: str
    series: list[HistorySeries]


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: params first, then metrics, each sorted by name."""

    runs: list[ComparedRun]
    rows: list[ComparisonRow]
    histories: list[MetricHistory]

    @property
    def differing(self) -> list[str]:
        return [row.key for row in self.rows if row.differs]

    def table(self) -> pd.DataFrame:
        """One row per key, one column per run label, for notebooks and the CLI."""
        import pandas as pd

        return pd.DataFrame.from_dict(
            {row.key: row.values for row in self.rows},
            orient="index",
            columns=[run.label for run in self.runs],
            dtype=object,
        )

    def styled(self) -> Styler:
        """The table with differing rows on a highlighted background."""
        differing = set(self.differing)

        def highlight(row: pd.Series) -> list[str]:
            css = f"background-color: {DIFFERENCE_COLOUR}" if row.name in differing else ""
            return [css] * len(row)

        return self.table().style.apply(highlight, axis=1)

    def plot(self) -> Figure | None:
        """One subplot per metric history (a curve); None when no metric has one."""
        if not self.histories:
            return None
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(
            len(self.histories),
            1,
            figsize=(7, 3 * len(self.histories)),
            squeeze=False,
            constrained_layout=True,
        )
        for axis, history in zip(axes[:, 0], self.histories, strict=True):
            for series in history.series:
                steps = [p.step for p in series.points]
                values = [p.value for p in series.points]
                axis.plot(steps, values, marker=".", label=series.label)
            axis.set_title(history.metric)
            axis.set_xlabel("step")
            axis.legend(fontsize="small")
        plt.close(figure)  # the caller displays it; keep pyplot's state clean
        return figure


def compare_runs(settings: Settings, run_ids: list[str]) -> Comparison:
    """Compare 2..50 runs (any experiments) by id.

    Raises:
        InvalidInput: fewer than two distinct run ids, or more than :data:`MAX_COMPARED`.
        NotFound: an unknown run, named.
    """
    ids = list(dict.fromkeys(r.strip() for r in run_ids if r and r.strip()))
    if len(ids) < 2:
        raise InvalidInput("Give at least two different run ids to compare.", param="run_id")
    if len(ids) > MAX_COMPARED:
        raise InvalidInput(
            f"{len(ids)} runs given; compare at most {MAX_COMPARED} at once.", param="run_id"
        )
    summaries = [summary_of(get_mlflow_run(settings, run_id)) for run_id in ids]
    param_keys, metric_keys = column_keys(summaries)
    rows = [_row("param", key, [s.params.get(key) for s in summaries]) for key in param_keys] + [
        _row("metric", key, [s.metrics.get(key) for s in summaries]) for key in metric_keys
    ]
    return Comparison(
        runs=[ComparedRun(s.run_id, s.run_name, s.experiment_id, s.label) for s in summaries],
        rows=rows,
        histories=_histories(settings, summaries),
    )


def _row(
    kind: Literal["param", "metric"], name: str, values: list[str | float | None]
) -> ComparisonRow:
    plural = "params" if kind == "param" else "metrics"
    return ComparisonRow(
        key=f"{plural}.{name}",
        kind=kind,
        name=name,
        values=values,
        differs=len({repr(v) for v in values}) > 1,
    )


def _histories(settings: Settings, summaries: list[RunSummary]) -> list[MetricHistory]:
    shared = set.intersection(*(set(s.metrics) for s in summaries))
    client = reader_for(settings)
    histories = []
    with mlflow_errors(settings):
        for key in sorted(shared):
            series = []
            for summary in summaries:
                points = sorted(
                    client.get_metric_history(summary.run_id, key),
                    key=lambda p: (p.step, p.timestamp),
                )
                series.append(
                    HistorySeries(
                        summary.run_id,
                        summary.label,
                        [HistoryPoint(p.step, finite_or_none(p.value)) for p in points],
                    )
                )
            # A metric logged once per run is a value, not a curve: the rows show it.
            if any(len({p.step for p in s.points}) > 1 for s in series):
                histories.append(MetricHistory(key, series))
    return histories
