"""Our SQLAlchemy store: migrated on first use, transactional, returns entities."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from mlops_lab.core.errors import ConfigError
from mlops_lab.core.store import AuditEvent, LabStore
from mlops_lab.core.store.db import session_scope
from mlops_lab.core.store.schema import AuditEventRow


def test_schema_is_created_by_migrations(tmp_path: Path) -> None:
    store = LabStore(f"sqlite:///{tmp_path}/sub/lab.db")
    store.ping()
    tables = set(inspect(store._engine).get_table_names())
    assert {"audit_events", "alembic_version"} <= tables


def test_events_round_trip_as_entities(tmp_path: Path) -> None:
    store = LabStore(f"sqlite:///{tmp_path}/lab.db")
    first = store.record_event("promote", "model:churn", {"version": 3}, actor="ana")
    store.record_event("rollback", "model:other", actor="bo")
    assert isinstance(first, AuditEvent)
    events = store.list_events("model:churn")
    assert [(e.action, e.actor, e.detail) for e in events] == [("promote", "ana", {"version": 3})]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = LabStore(f"sqlite:///{tmp_path}/lab.db")
    store.ping()
    with pytest.raises(RuntimeError), session_scope(store._sessions) as session:
        session.add(AuditEventRow(time=None, actor="x", action="a", subject="s", detail={}))
        raise RuntimeError("boom")
    assert store.list_events() == []


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        LabStore("not a url")
