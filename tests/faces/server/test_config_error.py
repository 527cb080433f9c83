"""A broken ``[tool.mlops-lab]`` is the same documented answer on every route.

Before, every route but ``/health`` answered 500 "Internal error": handlers read the
settings before any guard. Each operation of the OpenAPI document is called here, so a
route added later is covered without editing this file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.faces.server.openapi import build_document
from tests.faces.server.roots import misconfigured_root

OPERATIONS = [
    (path, method)
    for path, verbs in build_document()["paths"].items()
    for method in verbs
    if path != "/mlops-lab/api/health"
]


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    return misconfigured_root(tmp_path)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
async def test_every_route_answers_503_naming_file_and_key(
    jp_fetch, jp_root_dir: Path, path: str, method: str
) -> None:
    filled = re.sub(r"\{\w+\}", "abc", path).strip("/")
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(
            *filled.split("/"),
            method=method.upper(),
            params={"experiment": "x", "run_id": "abc"},
            **({"body": "{}"} if method in ("post", "put", "patch") else {}),
        )
    assert caught.value.code == 503
    body = json.loads(caught.value.response.body)
    assert body["code"] == "MISCONFIGURED"
    assert "Unknown key 'traking-uri'" in body["message"]
    assert str(jp_root_dir / "pyproject.toml") in body["message"]
    assert "Did you mean 'tracking-uri'?" in body["message"]


async def test_health_reports_it_instead_of_failing(jp_fetch, jp_root_dir: Path) -> None:
    """The sidebar reads /health to explain what is wrong, so it answers 200 with the error."""
    response = await jp_fetch("mlops-lab", "api", "health")
    body = json.loads(response.body)
    assert "Unknown key 'traking-uri'" in body["config_error"]
    assert str(jp_root_dir / "pyproject.toml") in body["config_error"]
