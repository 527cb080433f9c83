"""MLflow schema checks: a damaged or outdated store is named, with what to do, not used."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from filelock import FileLock
from mlflow.store.db.utils import _get_alembic_config
from mlflow.version import VERSION as MLFLOW_VERSION

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import ErrorCode, MlopsError
from mlops_lab.core.health import check_health
from mlops_lab.core.mlflow import schema
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
from mlops_lab.core.probes import StoreState


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = resolve_settings(tmp_path, environ={})
    ensure_experiment(settings, "created")
    schema.forget(settings.tracking_uri)  # as a new process would see it
    return settings


def alter(settings: Settings, *statements: str) -> None:
    database = sqlite3.connect(Path(settings.root) / ".mlops" / "mlflow.db")
    for statement in statements:
        database.execute(statement)
    database.commit()
    database.close()


def previous_revision() -> str:
    script = ScriptDirectory.from_config(_get_alembic_config(""))
    down = script.get_revision(schema.head_revision()).down_revision
    assert isinstance(down, str)
    return down


DAMAGES: dict[str, tuple[Callable[[], list[str]], list[str]]] = {
    "interrupted migration": (
        lambda: ["CREATE TABLE _alembic_tmp_tags (key VARCHAR(250))"],
        ["damaged by an interrupted schema migration", "leftover _alembic_tmp_tags", "backup"],
    ),
    "outdated": (
        lambda: [f"UPDATE alembic_version SET version_num = '{previous_revision()}'"],
        [
            f"revision {previous_revision()}",
            f"MLflow {MLFLOW_VERSION} expects",
            "`mlflow db upgrade sqlite:///",
        ],
    ),
    "newer mlflow": (
        lambda: ["UPDATE alembic_version SET version_num = 'ffffffffffff'"],
        ["revision ffffffffffff", "does not know", "newer MLflow"],
    ),
    "not mlflow's": (
        lambda: ["DROP TABLE alembic_version"],
        ["no MLflow schema revision", "not an MLflow database"],
    ),
    "missing table": (
        lambda: ["DROP TABLE trace_tags"],
        ["lacks the tables trace_tags", "backup"],
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_store_is_broken_in_health_and_refused_on_use(
    settings: Settings, damage: str
) -> None:
    statements, phrases = DAMAGES[damage]
    alter(settings, *statements())

    stores = {s.name: s for s in check_health(settings).stores}
    assert stores["tracking"].state is StoreState.BROKEN
    assert not stores["tracking"].ok
    for phrase in phrases:
        assert phrase in stores["tracking"].message

    with pytest.raises(MlopsError) as caught:
        client_for(settings)
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert f"MLflow store {settings.tracking_uri}" in caught.value.message
    for phrase in phrases:
        assert phrase in caught.value.message


def test_current_store_answers_with_its_revision(settings: Settings) -> None:
    stores = {s.name: s for s in check_health(settings).stores}
    assert stores["tracking"].state is StoreState.ANSWERED
    assert f"revision {schema.head_revision()}" in stores["tracking"].message


def test_store_in_a_folder_we_cannot_write_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    settings = resolve_settings(
        tmp_path, environ={}, tracking_uri=f"sqlite:///{blocker}/sub/mlflow.db"
    )
    with pytest.raises(MlopsError) as caught:
        client_for(settings)
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "cannot be created" in caught.value.message
    assert str(blocker) in caught.value.message


def test_store_another_process_is_migrating_is_waited_for_not_called_damaged(
    settings: Settings,
) -> None:
    """Mid-migration, a store looks damaged (its temporary tables exist) to anyone who looks
    without the lock; health says it is being created, and a client waits for the lock."""
    lock = FileLock(f"{Path(settings.root) / '.mlops' / 'mlflow.db'}.lock")
    with lock:
        alter(settings, "CREATE TABLE _alembic_tmp_tags (key VARCHAR(250))")
        tracking = {s.name: s for s in check_health(settings, timeout=1.5).stores}["tracking"]
        assert tracking.state is StoreState.NOT_CREATED
        assert "being created or migrated by another process" in tracking.message

        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(client_for, settings)
            time.sleep(1.0)
            assert not waiting.done()
            alter(settings, "DROP TABLE _alembic_tmp_tags")  # the other process finishes
            lock.release()
            waiting.result(timeout=10)
