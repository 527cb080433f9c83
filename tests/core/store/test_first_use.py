"""Several processes opening a new mlops-lab store at once: the schema is migrated once."""

from __future__ import annotations

from pathlib import Path

from tests.first_use_race import assert_all_succeeded, leftovers_and_rows, run_at_once

FIRST_EVENT = """
from mlops_lab.core.store import LabStore
# --- go ---
store = LabStore(f"sqlite:///{root}/.mlops/lab.db")
store.record_event("create", f"process:{index}")
"""


def test_four_processes_migrate_the_store_once(tmp_path: Path) -> None:
    assert_all_succeeded(run_at_once(FIRST_EVENT, tmp_path))
    database = tmp_path / "project" / ".mlops" / "lab.db"
    assert leftovers_and_rows(database, "audit_events") == ([], 4)
