"""SQLAlchemy table definitions. Change them only together with a new migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlops_lab.core.store.entities import AuditEvent, LiveRun


class Base(DeclarativeBase):
    pass


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(512), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    __table_args__ = (Index("ix_audit_events_subject_time", "subject", "time"),)

    def to_entity(self) -> AuditEvent:
        return AuditEvent(
            id=self.id,
            time=self.time,
            actor=self.actor,
            action=self.action,
            subject=self.subject,
            detail=dict(self.detail or {}),
        )


class LiveRunRow(Base):
    """One row per MLflow run a kernel has open; deleted when the run ends or is reaped."""

    __tablename__ = "live_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tracking_uri: Mapped[str] = mapped_column(String(2048), nullable=False)
    experiment_id: Mapped[str] = mapped_column(String(64), nullable=False)
    experiment: Mapped[str] = mapped_column(String(512), nullable=False)
    notebook: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    process_started: Mapped[float] = mapped_column(Float, nullable=False)
    kernel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    history_file: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    history_session: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_cell: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_live_runs_host", "host"),)

    def to_entity(self) -> LiveRun:
        return LiveRun(
            run_id=self.run_id,
            tracking_uri=self.tracking_uri,
            experiment_id=self.experiment_id,
            experiment=self.experiment,
            notebook=self.notebook,
            host=self.host,
            pid=self.pid,
            process_started=self.process_started,
            kernel_id=self.kernel_id,
            started_at=self.started_at,
            history_file=self.history_file,
            history_session=self.history_session,
            first_cell=self.first_cell,
        )


# -- jobs (core/jobs/store.py reads and writes these) ---------------------------------------


class JobRow(Base):
    """A notebook with its parameters and options: what one or many executions run."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    notebook: Mapped[str] = mapped_column(String(4096), nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    kernel_name: Mapped[str] = mapped_column(String(255), nullable=False)
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    retries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_backoff: Mapped[float] = mapped_column(Float, nullable=False, default=10.0)
    experiment: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)


class SweepRow(Base):
    """A grid of executions of one job under one parent MLflow run."""

    __tablename__ = "sweeps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), nullable=False)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    grid: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    metric: Mapped[str | None] = mapped_column(String(255), nullable=True)
    goal: Mapped[str] = mapped_column(String(8), nullable=False, default="max")
    concurrency: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    best_execution_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    best_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)


class ExecutionRow(Base):
    """One run of a job, from QUEUED to a final state, through one or more attempts.

    ``values`` holds the parameters in clear for the worker that runs it (a secret must
    reach the kernel) and is emptied when the execution ends; ``parameters`` is the
    masked copy every face shows.
    """

    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), nullable=False)
    sweep_id: Mapped[str | None] = mapped_column(ForeignKey("sweeps.id"), nullable=True)
    schedule_id: Mapped[str | None] = mapped_column(ForeignKey("schedules.id"), nullable=True)
    slot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    experiment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cells_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cells_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    current_cell: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    output_path: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)

    __table_args__ = (
        Index("ix_executions_state_created", "state", "created_at"),
        Index("ix_executions_job", "job_id"),
        Index("ix_executions_sweep", "sweep_id"),
        Index("ix_executions_schedule_state", "schedule_id", "state"),
    )


class AttemptRow(Base):
    """One try of an execution: its own MLflow run and output notebook."""

    __tablename__ = "execution_attempts"

    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RunnerRow(Base):
    """A process that claims queued executions; its heartbeat says it is alive."""

    __tablename__ = "job_runners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ScheduleRow(Base):
    """A job fired at every slot of a cron expression in a time zone.

    ``values`` keeps the parameters in clear for as long as the schedule exists: every
    slot's execution needs them. A deleted schedule keeps its row (``deleted_at``) so its
    executions and slots still say where they came from; its values are erased.
    """

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), nullable=False)
    values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cron: Mapped[str] = mapped_column(String(255), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    concurrency: Mapped[str] = mapped_column(String(8), nullable=False)
    max_active: Mapped[int] = mapped_column(Integer, nullable=False)
    catch_up: Mapped[str] = mapped_column(String(8), nullable=False)
    end_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    """Created or last resumed: slots before it are not missed, they were not wanted."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SlotRow(Base):
    """A slot of a schedule, claimed once: the primary key is what makes a slot fire at
    most once however many schedulers race for it."""

    __tablename__ = "schedule_slots"

    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id"), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    fired_by: Mapped[str] = mapped_column(String(64), nullable=False)
    execution_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class SchedulerRow(Base):
    """A running scheduler: its heartbeat, and the loopback port that wakes it when a
    schedule changes."""

    __tablename__ = "schedulers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    wake_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
