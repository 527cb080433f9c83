"""Rows of the jobs tables to entities and back: what leaves the store is never a row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlops_lab.core.jobs.entities import (
    Attempt,
    CellError,
    Execution,
    ExecutionState,
    Job,
    Sweep,
    SweepGoal,
)
from mlops_lab.core.store.schema import AttemptRow, ExecutionRow, JobRow, SweepRow

State = ExecutionState


def error_json(error: CellError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"cell_index": error.cell_index, "name": error.name, "message": error.message}


def cell_error(data: dict[str, Any] | None) -> CellError | None:
    if not data:
        return None
    return CellError(cell_index=data.get("cell_index"), name=data["name"], message=data["message"])


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def job_row(job: Job) -> JobRow:
    return JobRow(
        id=job.id,
        name=job.name,
        notebook=job.notebook,
        parameters=job.parameters,
        kernel_name=job.kernel_name,
        timeout=job.timeout,
        retries=job.retries,
        retry_backoff=job.retry_backoff,
        experiment=job.experiment,
        created_at=job.created_at,
        created_by=job.created_by,
    )


def job_entity(row: JobRow) -> Job:
    return Job(
        id=row.id,
        name=row.name,
        notebook=row.notebook,
        parameters=dict(row.parameters or {}),
        kernel_name=row.kernel_name,
        timeout=row.timeout,
        retries=row.retries,
        retry_backoff=row.retry_backoff,
        experiment=row.experiment,
        created_at=utc(row.created_at) or row.created_at,
        created_by=row.created_by,
    )


def sweep_row(sweep: Sweep, key: str | None) -> SweepRow:
    return SweepRow(
        id=sweep.id,
        job_id=sweep.job_id,
        run_id=sweep.run_id,
        grid=sweep.grid,
        metric=sweep.metric,
        goal=sweep.goal.value,
        concurrency=sweep.concurrency,
        state=State.QUEUED.value,
        created_at=sweep.created_at,
        idempotency_key=key,
    )


def sweep_entity(session: Session, row: SweepRow) -> Sweep:
    ids = list(
        session.scalars(
            select(ExecutionRow.id)
            .where(ExecutionRow.sweep_id == row.id)
            .order_by(ExecutionRow.created_at, ExecutionRow.id)
        )
    )
    running = session.scalar(
        select(func.count())
        .select_from(ExecutionRow)
        .where(ExecutionRow.sweep_id == row.id, ExecutionRow.state == State.RUNNING.value)
    )
    state = State(row.state)
    if state is State.QUEUED and (running or row.finished_at is not None):
        state = State.RUNNING  # the last ones run, or its summary is being written
    return Sweep(
        id=row.id,
        job_id=row.job_id,
        run_id=row.run_id,
        grid=dict(row.grid or {}),
        metric=row.metric,
        goal=SweepGoal(row.goal),
        concurrency=row.concurrency,
        state=state,
        execution_ids=ids,
        created_at=utc(row.created_at) or row.created_at,
        finished_at=utc(row.finished_at),
        best_execution_id=row.best_execution_id,
        best_value=row.best_value,
    )


def execution_entity(session: Session, row: ExecutionRow) -> Execution:
    return execution_entities(session, [row])[0]


def execution_entities(session: Session, rows: list[ExecutionRow]) -> list[Execution]:
    """Entities of ``rows`` with their jobs and attempts: three queries, not two a row."""
    if not rows:
        return []
    job_ids = {r.job_id for r in rows}
    jobs = {j.id: j for j in session.scalars(select(JobRow).where(JobRow.id.in_(job_ids)))}
    attempts: dict[str, list[Attempt]] = {r.id: [] for r in rows}
    for a in session.scalars(
        select(AttemptRow)
        .where(AttemptRow.execution_id.in_(list(attempts)))
        .order_by(AttemptRow.execution_id, AttemptRow.number)
    ):
        attempts[a.execution_id].append(
            Attempt(
                number=a.number,
                state=State(a.state),
                run_id=a.run_id,
                started_at=utc(a.started_at),
                finished_at=utc(a.finished_at),
                error=cell_error(a.error),
            )
        )
    return [_entity(row, jobs[row.job_id], attempts[row.id]) for row in rows]


def _entity(row: ExecutionRow, job: JobRow, attempts: list[Attempt]) -> Execution:
    return Execution(
        id=row.id,
        job_id=row.job_id,
        job_name=job.name,
        notebook=job.notebook,
        parameters=dict(row.parameters or {}),
        kernel_name=job.kernel_name,
        state=State(row.state),
        created_at=utc(row.created_at) or row.created_at,
        created_by=row.created_by,
        experiment_id=row.experiment_id,
        run_id=row.run_id,
        sweep_id=row.sweep_id,
        schedule_id=row.schedule_id,
        slot_at=utc(row.slot_at),
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        cells_done=row.cells_done,
        cells_total=row.cells_total,
        current_cell=row.current_cell,
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at),
        error=cell_error(row.error),
        output_path=row.output_path,
        cancel_requested=row.cancel_requested,
        attempts=attempts,
    )
