"""Schedules, their slots and the schedulers in our store; entities out, never ORM rows.

A slot fires at most once because claiming it is inserting its row: the primary key
(schedule, slot time) lets exactly one of any number of racing schedulers commit it,
and the slot's execution is queued in that same transaction, so a scheduler killed
between the two leaves neither behind. A slot is never lost across a restart either:
the next scheduler starts from the newest claimed slot, not from its own memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs.entities import (
    CatchUp,
    ConcurrencyPolicy,
    Execution,
    ExecutionState,
    Job,
    Slot,
    SlotOutcome,
)
from mlops_lab.core.jobs.rows import execution_entity, job_entity, job_row, utc
from mlops_lab.core.jobs.store import ACTIVE, ID_PREFIX_MIN, new_id, now
from mlops_lab.core.store import LabStore
from mlops_lab.core.store.schema import (
    ExecutionRow,
    JobRow,
    ScheduleRow,
    SchedulerRow,
    SlotRow,
)


@dataclass(frozen=True)
class StoredSchedule:
    """A schedule as stored, with its job, newest slot and that slot's execution."""

    id: str
    job: Job
    cron: str
    timezone: str
    concurrency: ConcurrencyPolicy
    max_active: int
    catch_up: CatchUp
    end_at: datetime | None
    paused: bool
    active_since: datetime
    created_at: datetime
    created_by: str
    last_slot: Slot | None
    last_execution: Execution | None


@dataclass(frozen=True)
class Cursor:
    """What a scheduler needs of an active schedule to find its due slots."""

    id: str
    cron: str
    timezone: str
    catch_up: CatchUp
    end_at: datetime | None
    after: datetime
    """Slots after this moment are due: the newest claimed slot, or when it was created or
    last resumed."""
    notebook: str


class _Abandon(Exception):
    """Roll the slot's claim back: its schedule was paused or deleted meanwhile."""


class ScheduleStore:
    def __init__(self, store: LabStore) -> None:
        self.store = store

    # -- create, read, change -----------------------------------------------------------------

    def add(
        self,
        job: Job,
        values: dict[str, Any],
        *,
        cron: str,
        timezone: str,
        concurrency: ConcurrencyPolicy,
        max_active: int,
        catch_up: CatchUp,
        end_at: datetime | None,
    ) -> str:
        """The job and its schedule in one transaction: nothing half-written on failure."""
        schedule_id = new_id()
        with self.store.transaction() as session:
            session.add(job_row(job))
            session.flush()
            session.add(
                ScheduleRow(
                    id=schedule_id,
                    job_id=job.id,
                    values=values,
                    cron=cron,
                    timezone=timezone,
                    concurrency=concurrency.value,
                    max_active=max_active,
                    catch_up=catch_up.value,
                    end_at=end_at,
                    paused=False,
                    active_since=job.created_at,
                    created_at=job.created_at,
                    created_by=job.created_by,
                )
            )
        return schedule_id

    def get(self, schedule_id: str) -> StoredSchedule:
        """One schedule by id or a unique prefix of at least 4 characters."""
        with self.store.transaction() as session:
            return _stored(session, _find(session, schedule_id))

    def all(self) -> list[StoredSchedule]:
        """Every schedule not deleted, newest first."""
        with self.store.transaction() as session:
            rows = session.scalars(
                select(ScheduleRow)
                .where(ScheduleRow.deleted_at.is_(None))
                .order_by(ScheduleRow.created_at.desc(), ScheduleRow.id.desc())
            )
            return [_stored(session, row) for row in rows]

    def set_paused(self, schedule_id: str, paused: bool) -> StoredSchedule:
        """Pause, or resume from now: slots that passed while paused are not caught up."""
        with self.store.transaction() as session:
            row = _find(session, schedule_id)
            if row.paused != paused:
                row.paused = paused
                if not paused:
                    row.active_since = now()
            session.flush()
            return _stored(session, row)

    def delete(self, schedule_id: str) -> str:
        """Stop firing it; its executions and slots stay, still naming it."""
        with self.store.transaction() as session:
            row = _find(session, schedule_id)
            row.deleted_at = now()
            row.values = None  # the parameters in clear are not kept once unneeded
            return row.id

    # -- the scheduler's side -----------------------------------------------------------------

    def cursors(self) -> list[Cursor]:
        """Every schedule that may fire: neither paused nor deleted."""
        newest = (
            select(SlotRow.schedule_id, func.max(SlotRow.slot_at).label("newest"))
            .group_by(SlotRow.schedule_id)
            .subquery()
        )
        query = (
            select(ScheduleRow, JobRow.notebook, newest.c.newest)
            .join(JobRow, JobRow.id == ScheduleRow.job_id)
            .outerjoin(newest, newest.c.schedule_id == ScheduleRow.id)
            .where(ScheduleRow.deleted_at.is_(None), ScheduleRow.paused.is_(False))
        )
        with self.store.transaction() as session:
            found = []
            for row, notebook, newest_slot in session.execute(query):
                since = utc(row.active_since) or row.active_since
                last = utc(newest_slot)
                found.append(
                    Cursor(
                        id=row.id,
                        cron=row.cron,
                        timezone=row.timezone,
                        catch_up=CatchUp(row.catch_up),
                        end_at=utc(row.end_at),
                        after=max(since, last) if last else since,
                        notebook=notebook,
                    )
                )
            return found

    def claim_slot(
        self,
        schedule_id: str,
        slot_at: datetime,
        scheduler_id: str,
        *,
        missed: str | None = None,
        notebook_missing: str | None = None,
    ) -> Slot | None:
        """Claim ``slot_at`` and act on it in one transaction; None when another scheduler
        claimed it first (or the schedule was paused or deleted meanwhile).

        ``missed`` records the slot without running it (catch-up said no); otherwise the
        concurrency policy decides between queueing an execution and skipping the slot.
        ``notebook_missing`` makes the slot's execution FAILED at once, saying why.
        """
        moment = now()
        try:
            with self.store.transaction() as session:
                slot = SlotRow(
                    schedule_id=schedule_id,
                    slot_at=slot_at,
                    outcome=SlotOutcome.FIRED.value,
                    fired_at=moment,
                    fired_by=scheduler_id,
                )
                session.add(slot)
                session.flush()  # the claim itself: a second insert of this key fails here
                row = session.get(ScheduleRow, schedule_id)
                if row is None or row.deleted_at is not None or row.paused:
                    raise _Abandon
                if missed is not None:
                    slot.outcome, slot.reason = SlotOutcome.MISSED.value, missed
                else:
                    _fire(session, row, slot, moment, notebook_missing)
                return _slot(slot)
        except (IntegrityError, _Abandon):
            return None

    def beat(self, scheduler_id: str, host: str, pid: int, wake_port: int | None) -> None:
        moment = now()
        with self.store.transaction() as session:
            row = session.get(SchedulerRow, scheduler_id)
            if row is None:
                session.add(
                    SchedulerRow(
                        id=scheduler_id,
                        host=host,
                        pid=pid,
                        wake_port=wake_port,
                        started_at=moment,
                        heartbeat_at=moment,
                    )
                )
            else:
                row.heartbeat_at = moment

    def wake_ports(self, host: str, stale_after: timedelta) -> list[int]:
        """The wake ports of the live schedulers on ``host``; the dead ones are forgotten."""
        cutoff = now() - stale_after
        with self.store.transaction() as session:
            session.execute(delete(SchedulerRow).where(SchedulerRow.heartbeat_at < cutoff))
            return [
                port
                for port in session.scalars(
                    select(SchedulerRow.wake_port).where(SchedulerRow.host == host)
                )
                if port
            ]

    def live_schedulers(self, stale_after: timedelta) -> int:
        cutoff = now() - stale_after
        with self.store.transaction() as session:
            query = select(func.count()).select_from(SchedulerRow)
            return int(session.scalar(query.where(SchedulerRow.heartbeat_at >= cutoff)) or 0)

    def counts(self) -> tuple[int, int]:
        """Schedules not deleted: (active, paused)."""
        with self.store.transaction() as session:
            rows = session.execute(
                select(ScheduleRow.paused, func.count())
                .where(ScheduleRow.deleted_at.is_(None))
                .group_by(ScheduleRow.paused)
            ).all()
        by_state = {bool(paused): int(n) for paused, n in rows}
        return by_state.get(False, 0), by_state.get(True, 0)

    def forget(self, scheduler_id: str) -> None:
        with self.store.transaction() as session:
            session.execute(delete(SchedulerRow).where(SchedulerRow.id == scheduler_id))

    def slots(self, schedule_id: str, limit: int = 20) -> list[Slot]:
        """The newest claimed slots of a schedule, newest first."""
        with self.store.transaction() as session:
            rows = session.scalars(
                select(SlotRow)
                .where(SlotRow.schedule_id == schedule_id)
                .order_by(SlotRow.slot_at.desc())
                .limit(limit)
            )
            return [_slot(r) for r in rows]


def _fire(
    session: Session,
    schedule: ScheduleRow,
    slot: SlotRow,
    moment: datetime,
    notebook_missing: str | None,
) -> None:
    """Queue the slot's execution, or record why the concurrency policy skipped it."""
    active = int(
        session.scalar(
            select(func.count())
            .select_from(ExecutionRow)
            .where(ExecutionRow.schedule_id == schedule.id, ExecutionRow.state.in_(ACTIVE))
        )
        or 0
    )
    if schedule.concurrency == ConcurrencyPolicy.SKIP.value and active >= schedule.max_active:
        slot.outcome = SlotOutcome.SKIPPED.value
        slot.reason = (
            f"{active} earlier execution(s) of this schedule still queued or running "
            f"(concurrency 'skip', max_active {schedule.max_active})"
        )
        return
    job = session.get(JobRow, schedule.job_id)
    assert job is not None
    execution_id = new_id()
    failed = notebook_missing is not None
    session.add(
        ExecutionRow(
            id=execution_id,
            job_id=job.id,
            schedule_id=schedule.id,
            slot_at=slot.slot_at,
            parameters=dict(job.parameters or {}),
            values=None if failed else dict(schedule.values or {}),
            state=(ExecutionState.FAILED if failed else ExecutionState.QUEUED).value,
            attempt=1,
            max_attempts=job.retries + 1,
            cells_done=0,
            cells_total=0,
            cancel_requested=False,
            created_at=moment,
            created_by=schedule.created_by,
            finished_at=moment if failed else None,
            error={"cell_index": None, "name": "NotebookNotFound", "message": notebook_missing}
            if failed
            else None,
        )
    )
    slot.execution_id = execution_id


def _find(session: Session, schedule_id: str) -> ScheduleRow:
    wanted = (schedule_id or "").strip()
    row = session.get(ScheduleRow, wanted)
    if row is None and len(wanted) >= ID_PREFIX_MIN:
        matches = list(
            session.scalars(
                select(ScheduleRow).where(ScheduleRow.id.startswith(wanted, autoescape=True))
            ).all()[:2]
        )
        if len(matches) > 1:
            raise InvalidInput(
                f"'{wanted}' is the start of several schedule ids: give more characters.",
                param="schedule_id",
            )
        row = matches[0] if matches else None
    if row is None or row.deleted_at is not None:
        raise NotFound(f"No schedule '{wanted}'. `mlops-lab schedule list` shows them.")
    return row


def _slot(row: SlotRow) -> Slot:
    return Slot(
        slot_at=utc(row.slot_at) or row.slot_at,
        outcome=SlotOutcome(row.outcome),
        fired_at=utc(row.fired_at) or row.fired_at,
        execution_id=row.execution_id,
        reason=row.reason,
    )


def _stored(session: Session, row: ScheduleRow) -> StoredSchedule:
    job = session.get(JobRow, row.job_id)
    assert job is not None
    newest = session.scalar(
        select(SlotRow)
        .where(SlotRow.schedule_id == row.id)
        .order_by(SlotRow.slot_at.desc())
        .limit(1)
    )
    last_fired = session.scalar(
        select(ExecutionRow)
        .where(ExecutionRow.schedule_id == row.id)
        .order_by(ExecutionRow.slot_at.desc(), ExecutionRow.created_at.desc())
        .limit(1)
    )
    return StoredSchedule(
        id=row.id,
        job=job_entity(job),
        cron=row.cron,
        timezone=row.timezone,
        concurrency=ConcurrencyPolicy(row.concurrency),
        max_active=row.max_active,
        catch_up=CatchUp(row.catch_up),
        end_at=utc(row.end_at),
        paused=row.paused,
        active_since=utc(row.active_since) or row.active_since,
        created_at=utc(row.created_at) or row.created_at,
        created_by=row.created_by,
        last_slot=_slot(newest) if newest is not None else None,
        last_execution=execution_entity(session, last_fired) if last_fired else None,
    )
