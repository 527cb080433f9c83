"""Several processes opening a new mlops-lab store at once: the schema is migrated once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.first_use_race import run_at_once

FIRST_EVENT = """
from mlops_lab.core.store import LabStore
# --- go ---
store = LabStore(f"sqlite:///{root}/.mlops/lab.db")
store.record_event("create", f"process:{index}")
"""


def test_four_processes_migrate_the_store_once(tmp_path: Path) -> None:
    results = run_at_once(FIRST_EVENT, tmp_path)
    failures = [r.stderr[-2000:] for r in results if r.returncode != 0]
    assert not failures, failures
    database = sqlite3.connect(tmp_path / "project" / ".mlops" / "lab.db")
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    events = database.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    database.close()
    assert not [t for t in tables if t.startswith("_alembic_tmp")]
    assert events == 4
