"""The migrations build exactly the tables the models describe: no drift between the two."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mlops_lab.core.store import LabStore
from mlops_lab.core.store.schema import Base


def test_the_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    store = LabStore(f"sqlite:///{tmp_path / 'lab.db'}")
    store.ping()  # migrates to head
    with store._engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
