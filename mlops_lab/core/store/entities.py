"""Plain data classes that leave the store; ORM rows never do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEvent:
    """Something a user did that must be answerable later: who, what, to which subject."""

    id: int
    time: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveRun:
    """An MLflow run a kernel has open, so whoever sees that kernel die can close the run.

    ``pid`` and ``process_started`` (seconds since the epoch, as psutil reports it) name
    the kernel process on ``host``: a live pid with another start time is a reused pid,
    so the kernel is gone. ``tracking_uri`` is stored masked: our store never holds a
    password.
    """

    run_id: str
    tracking_uri: str
    experiment_id: str
    experiment: str
    notebook: str | None
    host: str
    pid: int
    process_started: float
    kernel_id: str | None
    started_at: datetime
    history_file: str | None = None
    """IPython's history database holding the kernel's inputs, and its session there:
    the code the kernel ran can be read back after it died."""
    history_session: int | None = None
    first_cell: int | None = None
    """The execution count of ``%mlops track``: earlier cells are marked as such."""
