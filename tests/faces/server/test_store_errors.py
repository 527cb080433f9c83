"""A tracking database that breaks and is restored, seen through real HTTP: 503, then 200."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.core.config import resolve_settings
from tests.core.mlflow.test_database_errors import corrupt
from tests.faces.server.test_openapi import response_validator
from tests.runs_data import make_runs


async def test_corrupt_store_is_503_until_restored(
    jp_fetch, jp_root_dir: Path, tmp_path: Path
) -> None:
    runs = make_runs(resolve_settings(jp_root_dir, environ={}), tmp_path)
    path = jp_root_dir / ".mlops" / "mlflow.db"
    response = await jp_fetch("mlops-lab", "api", "runs", params={"experiment": "exp"})
    assert runs.alpha in response.body.decode()
    backup = tmp_path / "mlflow.db.backup"
    shutil.copyfile(path, backup)

    corrupt(path)
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("mlops-lab", "api", "runs", params={"experiment": "exp"})
    body = json.loads(caught.value.response.body)
    assert caught.value.code == 503
    assert body["code"] == "UNAVAILABLE"
    assert "not a database" in body["message"] and "SELECT" not in body["message"]
    assert await tracking_health(jp_fetch) == ("broken", False)

    os.replace(backup, path)
    response = await jp_fetch("mlops-lab", "api", "runs", params={"experiment": "exp"})
    assert response.code == 200
    assert runs.alpha in response.body.decode()
    assert await tracking_health(jp_fetch) == ("answered", True)


async def tracking_health(jp_fetch) -> tuple[str, bool]:
    response = await jp_fetch("mlops-lab", "api", "health")
    body = json.loads(response.body)
    response_validator("getHealth").validate(body)
    tracking = next(s for s in body["stores"] if s["name"] == "tracking")
    return tracking["state"], tracking["ok"]
