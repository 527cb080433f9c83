"""A tracking database that breaks and is restored: 503 with a short message, then back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import ErrorCode, MlopsError
from mlops_lab.core.mlflow.connection import client_for
from mlops_lab.core.runs.search import list_experiments, search_runs
from tests.runs_data import make_runs

SQL_WORDS = ("SELECT", "FROM ", "WHERE", "[SQL", "sqlalche.me")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return resolve_settings(tmp_path / "project", environ={})


def database(settings: Settings) -> Path:
    return Path(settings.root) / ".mlops" / "mlflow.db"


def corrupt(path: Path) -> None:
    """Overwrite the file with random bytes in place, as a bad copy or a disk error would."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.write(os.urandom(size))


def assert_unavailable(caught: pytest.ExceptionInfo[MlopsError], settings: Settings) -> None:
    message = caught.value.message
    assert caught.value.code is ErrorCode.UNAVAILABLE, message
    assert caught.value.http_status == 503
    assert f"MLflow store {settings.tracking_uri}" in message
    assert "not a database" in message
    assert not [word for word in SQL_WORDS if word in message], message


@pytest.mark.parametrize("call", ["experiments", "runs"])
def test_corrupt_then_restored_database_without_restart(
    settings: Settings, tmp_path: Path, call: str
) -> None:
    runs = make_runs(settings, tmp_path)
    search = {
        "experiments": lambda: [e.name for e in list_experiments(settings).experiments],
        "runs": lambda: [r.run_id for r in search_runs(settings, "exp", max_results=10).runs],
    }[call]
    healthy = search()
    assert healthy and (call == "experiments" or runs.alpha in healthy)
    backup = database(settings).with_suffix(".backup")
    shutil.copyfile(database(settings), backup)

    corrupt(database(settings))
    with pytest.raises(MlopsError) as caught:
        search()
    assert_unavailable(caught, settings)

    os.replace(backup, database(settings))
    assert search() == healthy


def test_corrupt_database_on_first_use_says_what_to_do(settings: Settings) -> None:
    database(settings).parent.mkdir(parents=True)
    database(settings).write_bytes(os.urandom(64 * 1024))
    with pytest.raises(MlopsError) as caught:
        client_for(settings)
    assert_unavailable(caught, settings)
    assert "move the file away" in caught.value.message
