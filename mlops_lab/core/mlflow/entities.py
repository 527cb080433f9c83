"""The run and experiment records every face shows: one definition, from SQL row to JSON.

The fast SQL search, MLflow's own search and a single ``get_run`` all build the same
:class:`RunSummary`; the REST models embed it as is, so the sidebar, the CLI and the
magic cannot disagree about what a run is. Field descriptions land in the OpenAPI
document through pydantic's ``Field`` metadata (pydantic is no face framework).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from mlops_lab.core.mlflow import tags as run_tags

Millis = Annotated[int | None, Field(description="Milliseconds since the epoch.")]


@dataclass(frozen=True)
class ExperimentInfo:
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: Millis
    last_update_time: Millis


@dataclass(frozen=True)
class ExperimentPage:
    """One page of experiments, the most recently updated first."""

    experiments: list[ExperimentInfo]
    next_page_token: Annotated[
        str | None, Field(description="Pass as page_token for the next page.")
    ]


@dataclass(frozen=True)
class RunSummary:
    """What a runs table shows: attributes, params, latest metrics and tags."""

    run_id: str
    run_name: str | None
    experiment_id: str
    status: Annotated[str, Field(description="RUNNING, SCHEDULED, FINISHED, FAILED or KILLED")]
    start_time: Millis
    end_time: Millis
    user: str | None
    source_name: Annotated[str | None, Field(description="Tag mlflow.source.name (the notebook).")]
    git_commit: str | None
    parent_run_id: Annotated[
        str | None, Field(description="The run this one is nested under (mlflow.parentRunId).")
    ]
    params: dict[str, str]
    metrics: Annotated[
        dict[str, float | None],
        Field(description="Latest values; NaN and infinities (which JSON lacks) are null."),
    ]
    tags: dict[str, str]

    @property
    def label(self) -> str:
        """How every face names a run: ``"<name> (<8-char id>)"``, unique enough to tell apart."""
        return f"{self.run_name or 'run'} ({self.run_id[:8]})"


def finite_or_none(value: float | None) -> float | None:
    """MLflow metrics may be NaN or infinite; JSON and our tables show those as missing."""
    return value if value is not None and math.isfinite(value) else None


def run_summary(
    *,
    run_id: str,
    run_name: str | None,
    experiment_id: str,
    status: str,
    start_time: int | None,
    end_time: int | None,
    user: str | None,
    params: Mapping[str, str],
    metrics: Mapping[str, float | None],
    tags: Mapping[str, str],
) -> RunSummary:
    """A :class:`RunSummary` from a run's columns; what the tags say fills the rest."""
    return RunSummary(
        run_id=run_id,
        run_name=run_name or tags.get(run_tags.RUN_NAME),
        experiment_id=experiment_id,
        status=status,
        start_time=start_time,
        end_time=end_time,
        user=user or tags.get(run_tags.USER),
        source_name=tags.get(run_tags.SOURCE_NAME),
        git_commit=tags.get(run_tags.GIT_COMMIT),
        parent_run_id=tags.get(run_tags.PARENT_RUN_ID),
        params=dict(params),
        metrics={k: finite_or_none(v) for k, v in metrics.items()},
        tags=dict(tags),
    )


@dataclass(frozen=True)
class RunPage:
    """One page of runs; ``param_keys``/``metric_keys`` are the keys seen on this page."""

    runs: list[RunSummary]
    next_page_token: Annotated[
        str | None, Field(description="Pass as page_token for the next page.")
    ]
    param_keys: Annotated[list[str], Field(description="Param keys of this page's runs, sorted.")]
    metric_keys: Annotated[list[str], Field(description="Metric keys of this page's runs, sorted.")]


def column_keys(runs: list[RunSummary]) -> tuple[list[str], list[str]]:
    """The sorted param and metric keys any of ``runs`` has: a table's columns."""
    return (
        sorted({k for r in runs for k in r.params}),
        sorted({k for r in runs for k in r.metrics}),
    )
