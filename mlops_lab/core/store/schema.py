"""SQLAlchemy table definitions. Change them only together with a new migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlops_lab.core.store.entities import AuditEvent


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
