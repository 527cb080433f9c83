"""SQLAlchemy table definitions. Change them only together with a new migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String
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
