"""The same store code on a real PostgreSQL server (team mode's database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.health import check_health
from mlops_lab.core.store import LabStore
from tests.first_use_race import assert_all_succeeded, run_at_once
from tests.postgres_server import postgres_cluster


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


def test_migrations_and_events_on_postgres(postgres_url: str) -> None:
    store = LabStore(postgres_url)
    store.ping()
    assert {"audit_events", "alembic_version"} <= set(inspect(store._engine).get_table_names())
    store.record_event("promote", "model:churn", {"version": 2}, actor="ana")
    events = store.list_events("model:churn")
    assert [(e.action, e.detail, e.time.tzinfo is not None) for e in events] == [
        ("promote", {"version": 2}, True)
    ]
    # A second store on the same database finds the schema current and shares the rows.
    assert len(LabStore(postgres_url).list_events()) == 1


def test_health_reports_postgres_store_masked(postgres_url: str, tmp_path: Path) -> None:
    report = check_health(resolve_settings(tmp_path, environ={}, store_url=postgres_url))
    lab = next(s for s in report.stores if s.name == "lab")
    assert lab.ok, lab.message
    assert lab.uri.startswith("postgresql+psycopg://mlops:***@127.0.0.1:")


def test_unknown_database_is_reported_not_raised(postgres_url: str, tmp_path: Path) -> None:
    wrong = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    report = check_health(resolve_settings(tmp_path, environ={}, store_url=wrong), timeout=5)
    lab = next(s for s in report.stores if s.name == "lab")
    assert not lab.ok
    assert "no_such_db" in lab.message
    assert ":pw@" not in lab.message


def test_four_processes_migrate_a_new_postgres_store_once(
    postgres_url: str, tmp_path: Path
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE race"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/race"
    body = f"""
from mlops_lab.core.store import LabStore
# --- go ---
LabStore({url!r}).record_event("create", f"process:{{index}}")
"""
    assert_all_succeeded(run_at_once(body, tmp_path))
    assert len(LabStore(url).list_events()) == 4


def test_live_runs_on_postgres(postgres_url: str) -> None:
    from datetime import UTC, datetime

    from mlops_lab.core.store import LiveRun

    store = LabStore(postgres_url)
    run = LiveRun("c" * 32, "sqlite:///x.db", "1", "e", None, "h", 1, 1.5, None, datetime.now(UTC))
    store.add_live_run(run)
    assert [r.run_id for r in store.live_runs("h")] == ["c" * 32]
    assert store.claim_live_run("c" * 32) and not LabStore(postgres_url).claim_live_run("c" * 32)
    assert store.forget_live_run("c" * 32) and store.live_runs("h") == []
