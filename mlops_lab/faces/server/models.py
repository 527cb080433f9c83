"""Request and response bodies of the REST API (pydantic v2).

The OpenAPI document (``openapi.json``) is generated from these models, and the
TypeScript types in ``src/api/schema.ts`` from that document, so the sidebar and the
server cannot drift apart. The core's entities (``RunPage``, ``RunDetail``,
``Comparison``, ...) are response bodies as they are: one definition of a run from the
SQL row to the TypeScript type. Only what has no core entity is defined here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_lab.core.errors import ErrorCode
from mlops_lab.core.health import HealthReport
from mlops_lab.core.jobs.entities import Schedule, Slot
from mlops_lab.core.probes import StoreState


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


class RunNotebook(BaseModel):
    path: str = Field(description="Artifact path of the snapshot.")
    content: dict[str, Any] = Field(description="The notebook, nbformat JSON.")


class OutputNotebook(BaseModel):
    """An execution's output notebook, shaped like :class:`RunNotebook` so the sidebar
    shows it with the same read-only viewer."""

    path: str = Field(description="The output notebook's path, relative to the root.")
    content: dict[str, Any] = Field(description="The notebook, nbformat JSON (masked).")


class RerunRequest(BaseModel):
    """The optional body of ``POST /executions/{id}/rerun``."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str | None = Field(
        default=None,
        description="A second re-run with the same key returns the first one's execution.",
    )


class ScheduleList(BaseModel):
    """``GET /schedules``: every schedule, newest first (a project has tens, not thousands)."""

    schedules: list[Schedule]


class SlotList(BaseModel):
    """``GET /schedules/{id}/slots``: its newest slots, newest first."""

    slots: list[Slot]


class DeletedSchedule(BaseModel):
    id: str = Field(description="The deleted schedule; its executions stay.")
