"""Request and response bodies of the REST API (pydantic v2).

The OpenAPI document (``openapi.json``) is generated from these models, and the
TypeScript types in ``src/api/schema.ts`` from that document, so the sidebar and the
server cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_lab.core.errors import ErrorCode
from mlops_lab.core.health import HealthReport
from mlops_lab.core.probes import StoreState
from mlops_lab.core.runs.detail import RunDetail
from mlops_lab.core.runs.search import RunPage, RunSummary


class ErrorBody(BaseModel):
    """Every error response: a message a user can act on and a machine-readable code."""

    message: str
    code: ErrorCode
    param: str | None = Field(
        default=None, description="The request parameter that was wrong, when one was."
    )


class SettingModel(BaseModel):
    name: str
    value: str | None = Field(description="Passwords inside URIs are masked.")
    source: str = Field(description="argument, environment, pyproject or default")
    origin: str = Field(description="The variable or file the value came from.")


class StoreStatusModel(BaseModel):
    name: str = Field(description="tracking, registry or lab")
    uri: str
    state: StoreState = Field(
        description=(
            "answered: checked, answers, schema current; not_created: an embedded store "
            "created on first use; not_checked: a scheme mlops-lab cannot probe; down: "
            "checked, does not answer; broken: answers, but its schema is outdated or damaged."
        )
    )
    ok: bool = Field(description="state is answered, not_created or not_checked.")
    message: str


class HealthResponse(BaseModel):
    version: str
    tracking_uri: str | None
    mlflow_ui_url: str | None
    settings: list[SettingModel]
    stores: list[StoreStatusModel]
    config_error: str | None = Field(
        default=None, description="Set when the configuration could not be read."
    )

    @classmethod
    def from_report(cls, report: HealthReport) -> HealthResponse:
        return cls(
            version=report.version,
            tracking_uri=report.tracking_uri,
            mlflow_ui_url=report.mlflow_ui_url,
            settings=[
                SettingModel(
                    name=s.name, value=s.masked_value, source=s.source.value, origin=s.origin
                )
                for s in report.settings
            ],
            stores=[StoreStatusModel(**vars(s)) for s in report.stores],
        )


class Experiment(BaseModel):
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: int | None = Field(description="Milliseconds since the epoch.")
    last_update_time: int | None = Field(description="Milliseconds since the epoch.")


class ExperimentsResponse(BaseModel):
    experiments: list[Experiment] = Field(description="Active experiments, newest update first.")


class RunSummaryModel(BaseModel):
    run_id: str
    run_name: str | None
    experiment_id: str
    status: str = Field(description="RUNNING, SCHEDULED, FINISHED, FAILED or KILLED")
    start_time: int | None = Field(description="Milliseconds since the epoch.")
    end_time: int | None = Field(description="Milliseconds since the epoch.")
    user: str | None
    source_name: str | None = Field(description="Tag mlflow.source.name (the notebook).")
    git_commit: str | None
    params: dict[str, str]
    metrics: dict[str, float | None] = Field(description="Latest values; NaN is sent as null.")
    tags: dict[str, str]

    @classmethod
    def from_summary(cls, summary: RunSummary) -> RunSummaryModel:
        data = asdict(summary)
        data["metrics"] = {k: _finite(v) for k, v in summary.metrics.items()}
        return cls(**data)


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: they travel as null."""
    return value if math.isfinite(value) else None


class RunsPage(BaseModel):
    runs: list[RunSummaryModel]
    next_page_token: str | None = Field(description="Pass as page_token for the next page.")
    param_keys: list[str] = Field(description="Param keys of the runs on this page, sorted.")
    metric_keys: list[str] = Field(description="Metric keys of the runs on this page, sorted.")

    @classmethod
    def from_page(cls, page: RunPage) -> RunsPage:
        return cls(
            runs=[RunSummaryModel.from_summary(r) for r in page.runs],
            next_page_token=page.next_page_token,
            param_keys=page.param_keys,
            metric_keys=page.metric_keys,
        )


class DatasetModel(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    name: str
    digest: str
    source_type: str | None
    source: str | None
    context: str | None = Field(description="training, validation, ... when logged.")
    profile: str | None
    schema_: str | None = Field(alias="schema", description="Column schema, JSON.")


class RunDetailModel(RunSummaryModel):
    datasets: list[DatasetModel]
    notebook_path: str | None
    notebook_artifact: str | None = Field(description="Artifact path of the notebook snapshot.")
    git_branch: str | None
    git_dirty: bool | None
    artifacts: list[str] = Field(description="Artifact file paths (at most 200).")
    mlflow_url: str | None = Field(description="This run in the MLflow UI, when configured.")

    @classmethod
    def from_detail(cls, detail: RunDetail) -> RunDetailModel:
        summary = RunSummaryModel.from_summary(detail.summary).model_dump()
        return cls(
            **{**summary, "tags": detail.tags},
            datasets=[DatasetModel(**asdict(d)) for d in detail.datasets],
            notebook_path=detail.notebook_path,
            notebook_artifact=detail.notebook_artifact,
            git_branch=detail.git_branch,
            git_dirty=detail.git_dirty,
            artifacts=detail.artifacts,
            mlflow_url=detail.mlflow_url,
        )


class RunNotebook(BaseModel):
    path: str = Field(description="Artifact path of the snapshot.")
    content: dict[str, Any] = Field(description="The notebook, nbformat JSON.")
