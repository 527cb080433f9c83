"""REST handlers of schedules: create, list, pause, resume, delete, and a cron preview.

Each verb is a thin call into :mod:`mlops_lab.core.jobs.schedules`; the scheduler that
fires them runs beside these handlers in the same server (:mod:`.app`), or in
``mlops-lab scheduler``, against the same store.
"""

from __future__ import annotations

from collections.abc import Callable

from jupyter_server.auth.decorator import authorized
from tornado import web

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.jobs import schedules
from mlops_lab.core.jobs.entities import CronPreview, Schedule, ScheduleRequest
from mlops_lab.faces.server.handlers import MlopsHandler, _int_argument
from mlops_lab.faces.server.job_handlers import JobsHandlerBase, parse_request
from mlops_lab.faces.server.models import DeletedSchedule, ScheduleList, SlotList
from mlops_lab.faces.server.openapi import Operation, QueryParam

DEFAULT_SLOTS = 20


class SchedulesHandler(JobsHandlerBase):
    """``GET /schedules``: every schedule; ``POST /schedules``: create one."""

    operations = {
        "get": Operation(
            summary="Every schedule (newest first) with its state, next fire times and last "
            "execution.",
            response=ScheduleList,
            operation_id="listSchedules",
        ),
        "post": Operation(
            summary="Create a schedule: a notebook job fired at every slot of a cron "
            "expression in a time zone.",
            response=Schedule,
            operation_id="createSchedule",
            request=ScheduleRequest,
            status=201,
            errors=(400, 404),
        ),
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        settings = self.app.settings_
        found = await self.call_core(schedules.list_schedules, settings)
        self.finish_model(ScheduleList(schedules=found))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        settings = self.app.settings_
        request = parse_request(self.json_body(), ScheduleRequest)
        made = await self.call_core(schedules.create_schedule, settings, request, actor=self.actor)
        self.finish_model(made, status=201)


class CronPreviewHandler(JobsHandlerBase):
    """``GET /schedules/preview?cron=&timezone=``: a form's check as the user types."""

    operations = {
        "get": Operation(
            summary="A cron expression in words and its next three fire times; a 400 "
            "naming the wrong field otherwise.",
            response=CronPreview,
            operation_id="previewCron",
            query=(
                QueryParam(
                    "cron", "The cron expression (five fields, or six with seconds).", required=True
                ),
                QueryParam("timezone", "An IANA time zone (default: the server's)."),
            ),
            errors=(400,),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.app.settings_  # noqa: B018 - a broken configuration answers 503 here too
        cron = self.get_query_argument("cron", None)
        if cron is None:
            raise InvalidInput("Give the expression: ?cron=EXPR.", param="cron")
        timezone = self.get_query_argument("timezone", None)
        self.finish_model(await self.call_core(schedules.preview, cron, timezone))


class ScheduleHandler(JobsHandlerBase):
    """``GET /schedules/{id}``: one schedule; ``DELETE``: stop and forget it."""

    operations = {
        "get": Operation(
            summary="One schedule (a unique id prefix works too).",
            response=Schedule,
            operation_id="getSchedule",
            path_params=("schedule_id",),
            errors=(400, 404),
        ),
        "delete": Operation(
            summary="Delete a schedule: no slot fires any more; its executions stay.",
            response=DeletedSchedule,
            operation_id="deleteSchedule",
            path_params=("schedule_id",),
            errors=(400, 404),
        ),
    }

    @web.authenticated
    @authorized
    async def get(self, schedule_id: str) -> None:
        settings = self.app.settings_
        self.finish_model(await self.call_core(schedules.get_schedule, settings, schedule_id))

    @web.authenticated
    @authorized
    async def delete(self, schedule_id: str) -> None:
        settings = self.app.settings_
        deleted = await self.call_core(schedules.delete_schedule, settings, schedule_id)
        self.finish_model(DeletedSchedule(id=deleted))


class ScheduleSlotsHandler(JobsHandlerBase):
    """``GET /schedules/{id}/slots``: what happened at its newest slots."""

    operations = {
        "get": Operation(
            summary="The schedule's newest slots: fired (with its execution), skipped by "
            "the concurrency policy, or missed during a downtime.",
            response=SlotList,
            operation_id="listScheduleSlots",
            path_params=("schedule_id",),
            query=(
                QueryParam(
                    "max_results",
                    "How many slots.",
                    type="integer",
                    minimum=1,
                    maximum=1000,
                    default=DEFAULT_SLOTS,
                ),
            ),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, schedule_id: str) -> None:
        settings = self.app.settings_
        limit = _int_argument(self, "max_results", DEFAULT_SLOTS)
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"max_results must be 1..1000, got {limit}.", param="max_results")
        found = await self.call_core(schedules.schedule_slots, settings, schedule_id, limit)
        self.finish_model(SlotList(slots=found))


class ScheduleStateHandler(JobsHandlerBase):
    """``POST /schedules/{id}/pause`` and ``/resume``: one handler class per verb, made by
    :func:`_state_handler`, so each keeps its own OpenAPI operation."""

    change: Callable[[Settings, str], Schedule]

    @web.authenticated
    @authorized
    async def post(self, schedule_id: str) -> None:
        settings = self.app.settings_
        self.finish_model(await self.call_core(type(self).change, settings, schedule_id))


def _state_handler(
    change: Callable[[Settings, str], Schedule], operation_id: str, summary: str
) -> type[ScheduleStateHandler]:
    operation = Operation(
        summary=summary,
        response=Schedule,
        operation_id=operation_id,
        path_params=("schedule_id",),
        errors=(400, 404),
    )
    name = f"{operation_id[0].upper()}{operation_id[1:]}Handler"
    attributes = {"change": staticmethod(change), "operations": {"post": operation}}
    return type(name, (ScheduleStateHandler,), attributes)


SchedulePauseHandler = _state_handler(
    schedules.pause_schedule,
    "pauseSchedule",
    "Pause a schedule: no slot fires until it is resumed.",
)
ScheduleResumeHandler = _state_handler(
    schedules.resume_schedule,
    "resumeSchedule",
    "Resume a schedule from its next slot (slots passed while paused do not fire).",
)


SCHEDULE_ROUTES: list[tuple[str, type[MlopsHandler]]] = [
    (r"/mlops-lab/api/schedules", SchedulesHandler),
    (r"/mlops-lab/api/schedules/preview", CronPreviewHandler),
    (r"/mlops-lab/api/schedules/(?P<schedule_id>[^/]+)", ScheduleHandler),
    (r"/mlops-lab/api/schedules/(?P<schedule_id>[^/]+)/slots", ScheduleSlotsHandler),
    (r"/mlops-lab/api/schedules/(?P<schedule_id>[^/]+)/pause", SchedulePauseHandler),
    (r"/mlops-lab/api/schedules/(?P<schedule_id>[^/]+)/resume", ScheduleResumeHandler),
]
