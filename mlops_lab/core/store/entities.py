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
