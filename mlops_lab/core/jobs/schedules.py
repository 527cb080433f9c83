"""The entry functions of schedules: every face (REST, magic, CLI) calls these and only these.

A create checks everything a submit checks (the notebook, each value, the kernel, the
options) plus the cron expression, the time zone and the end date, and writes nothing
until all of it passed. Every change wakes the running schedulers, so a new schedule's
first slot is not missed by one sleeping until an older schedule's next slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.jobs import spec
from mlops_lab.core.jobs.api import checked_job
from mlops_lab.core.jobs.cron import PREVIEW_COUNT, Cron, local_timezone, parse_cron
from mlops_lab.core.jobs.entities import (
    CatchUp,
    ConcurrencyPolicy,
    CronPreview,
    JobRequest,
    Schedule,
    ScheduleRequest,
    ScheduleState,
    SchedulingStatus,
    Slot,
)
from mlops_lab.core.jobs.schedule_store import ScheduleStore, StoredSchedule
from mlops_lab.core.jobs.store import now
from mlops_lab.core.store import store_exists, store_for

MAX_ACTIVE_LIMIT = 100


def schedule_store(settings: Settings) -> ScheduleStore:
    """The schedules tables of the process's one store for the settings' URL."""
    return ScheduleStore(store_for(settings))


def preview(cron: str, timezone: str | None = None) -> CronPreview:
    """What ``cron`` means in words and when it fires next, or why it is invalid."""
    checked = parse_cron(cron, timezone or local_timezone())
    return CronPreview(
        cron=checked.expression,
        timezone=checked.timezone,
        description=checked.description,
        next_fire_times=checked.next_after(now(), PREVIEW_COUNT),
    )


def create_schedule(
    settings: Settings, request: ScheduleRequest, *, actor: str | None = None
) -> Schedule:
    """Check ``request`` whole, then store its job and schedule in one transaction."""
    cron = parse_cron(request.cron, request.timezone or local_timezone())
    end_at = _end_at(request.end_at, cron)
    if not 1 <= request.max_active <= MAX_ACTIVE_LIMIT:
        raise InvalidInput(
            f"max_active must be 1..{MAX_ACTIVE_LIMIT}, got {request.max_active}.",
            param="max_active",
        )
    declared = spec.inspect_parameters(settings.root, request.notebook, spec.installed_kernels())
    job_request = JobRequest(
        notebook=request.notebook,
        parameters=request.parameters,
        kernel_name=request.kernel_name,
        timeout=request.timeout,
        retries=request.retries,
        retry_backoff=request.retry_backoff,
        experiment=request.experiment,
        name=request.name,
    )
    job, values, _ = checked_job(settings, job_request, declared, actor)
    schedule_id = schedule_store(settings).add(
        job,
        values,
        cron=cron.expression,
        timezone=cron.timezone,
        concurrency=_choice(ConcurrencyPolicy, request.concurrency, "concurrency"),
        max_active=request.max_active,
        catch_up=_choice(CatchUp, request.catch_up, "catch_up"),
        end_at=end_at,
    )
    _changed(settings)
    return get_schedule(settings, schedule_id)


def create_schedule_text(
    settings: Settings,
    notebook: str,
    texts: Mapping[str, str],
    *,
    cron: str,
    actor: str | None = None,
    **options: Any,
) -> Schedule:
    """A create from a command line: ``texts`` are ``-p name=value`` strings read as each
    parameter's declared type. A schedule has no sweep: a comma-separated value, which
    ``job run`` reads as one, is refused here rather than silently taken as text."""
    declared = spec.inspect_parameters(settings.root, notebook, spec.installed_kernels())
    values, sweep = spec.parse_text_values(texts, declared)
    if sweep:
        name = next(iter(sweep))
        raise InvalidInput(
            f"Parameter '{name}' has several values ({texts[name]}): a schedule runs one "
            "execution a slot; create one schedule per value, or sweep with `job run`.",
            param=name,
        )
    request = ScheduleRequest(notebook=notebook, cron=cron, parameters=values, **options)
    return create_schedule(settings, request, actor=actor)


def list_schedules(settings: Settings) -> list[Schedule]:
    return [_entity(settings, s) for s in schedule_store(settings).all()]


def get_schedule(settings: Settings, schedule_id: str) -> Schedule:
    return _entity(settings, schedule_store(settings).get(schedule_id))


def schedule_slots(settings: Settings, schedule_id: str, limit: int = 20) -> list[Slot]:
    """Its newest slots, newest first: fired, skipped (concurrency) or missed (downtime)."""
    store = schedule_store(settings)
    return store.slots(store.get(schedule_id).id, limit)


def pause_schedule(settings: Settings, schedule_id: str) -> Schedule:
    stored = schedule_store(settings).set_paused(schedule_id, True)
    _changed(settings)
    return _entity(settings, stored)


def resume_schedule(settings: Settings, schedule_id: str) -> Schedule:
    """Fire again from the next slot on; the slots that passed while paused do not fire."""
    stored = schedule_store(settings).set_paused(schedule_id, False)
    _changed(settings)
    return _entity(settings, stored)


def delete_schedule(settings: Settings, schedule_id: str) -> str:
    """Stop firing it; its executions (and a running one) are left as they are."""
    deleted = schedule_store(settings).delete(schedule_id)
    _changed(settings)
    return deleted


def scheduling_status(settings: Settings) -> SchedulingStatus:
    """How many schedules would fire and how many schedulers run to fire them; a project
    whose store was never created has neither (and is not given one by looking)."""
    if not store_exists(settings):
        return SchedulingStatus(active=0, paused=0, schedulers=0)
    store = schedule_store(settings)
    active, paused = store.counts()
    live = store.live_schedulers(timedelta(seconds=settings.heartbeat_timeout))
    return SchedulingStatus(active=active, paused=paused, schedulers=live)


def _changed(settings: Settings) -> None:
    from mlops_lab.core.jobs.scheduler import wake_schedulers

    wake_schedulers(settings)


def _choice(enum: Any, text: str, param: str) -> Any:
    """``text`` as a member of ``enum`` (a face may send the word as it was typed)."""
    try:
        return enum(str(text).strip().lower())
    except ValueError:
        allowed = ", ".join(f"'{m.value}'" for m in enum)
        raise InvalidInput(
            f"{param} must be one of {allowed}, got '{text}'.", param=param
        ) from None


def _end_at(end_at: datetime | None, cron: Cron) -> datetime | None:
    """The end date in UTC (a naive one is read in the schedule's zone), never past."""
    if end_at is None:
        return None
    if end_at.tzinfo is None:
        end_at = end_at.replace(tzinfo=cron.zone)
    moment = now()
    if end_at <= moment:
        raise InvalidInput(
            f"The end date {end_at.isoformat()} is in the past: give a later one, or none.",
            param="end_at",
        )
    first = cron.next_after(moment)
    if not first or first[0] > end_at:
        raise InvalidInput(
            f"'{cron.expression}' does not fire before the end date {end_at.isoformat()}: "
            "give a later end date.",
            param="end_at",
        )
    return end_at.astimezone(UTC)


def _entity(settings: Settings, stored: StoredSchedule) -> Schedule:
    cron = Cron(stored.cron, stored.timezone)
    moment = now()
    ended = stored.end_at is not None and stored.end_at <= moment
    state = (
        ScheduleState.ENDED
        if ended
        else ScheduleState.PAUSED
        if stored.paused
        else ScheduleState.ACTIVE
    )
    upcoming: list[datetime] = []
    if state is ScheduleState.ACTIVE:
        upcoming = [
            t
            for t in cron.next_after(moment, PREVIEW_COUNT)
            if stored.end_at is None or t <= stored.end_at
        ]
    job = stored.job
    problem = None
    if not (settings.root / job.notebook).is_file():
        problem = (
            f"its notebook {job.notebook} no longer exists: restore it, or delete this schedule"
        )
    return Schedule(
        id=stored.id,
        name=job.name,
        job_id=job.id,
        notebook=job.notebook,
        parameters=job.parameters,
        kernel_name=job.kernel_name,
        experiment=job.experiment,
        timeout=job.timeout,
        retries=job.retries,
        cron=stored.cron,
        timezone=stored.timezone,
        description=cron.description,
        state=state,
        concurrency=stored.concurrency,
        max_active=stored.max_active,
        catch_up=stored.catch_up,
        created_at=stored.created_at,
        created_by=stored.created_by,
        end_at=stored.end_at.astimezone(cron.zone) if stored.end_at else None,
        next_fire_times=upcoming,
        last_slot=stored.last_slot,
        last_execution=stored.last_execution,
        problem=problem,
    )
