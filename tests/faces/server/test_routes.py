"""The server extension through real HTTP: /health, auth on every route, JSON errors."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from mlops_lab.faces.server.handlers import UnknownRouteHandler
from mlops_lab.faces.server.openapi import DOCUMENT
from mlops_lab.faces.server.routes import ROUTES
from tests.stalling_server import stalling_server


async def test_health_reports_embedded_default(jp_fetch, jp_root_dir: Path) -> None:
    response = await jp_fetch("mlops-lab", "api", "health")
    body = json.loads(response.body)
    assert response.code == 200
    assert body["tracking_uri"] == f"sqlite:///{jp_root_dir.resolve()}/.mlops/mlflow.db"
    assert body["config_error"] is None
    assert {s["name"]: s["ok"] for s in body["stores"]} == {
        "tracking": True,
        "registry": True,
        "lab": True,
    }
    sources = {s["name"]: s["source"] for s in body["settings"]}
    assert sources["tracking_uri"] == "default"


def route_verbs() -> list[tuple[str, str]]:
    """(verb, pattern) of every verb every route's handler defines (the catch-all: GET)."""
    return [
        (verb, pattern)
        for pattern, handler in ROUTES
        for verb in handler.SUPPORTED_METHODS
        if verb.lower() in vars(handler)
    ]


@pytest.mark.parametrize("verb,pattern", route_verbs())
async def test_every_route_refuses_a_request_without_token(
    jp_fetch, verb: str, pattern: str
) -> None:
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "abc", pattern).strip("/")
    body = b"{}" if verb in ("POST", "PUT", "PATCH") else None
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*path.split("/"), method=verb, body=body, headers={"Authorization": ""})
    assert caught.value.code == 403


class DenyAll(Authorizer):
    """An authorizer that refuses everything: only ``@authorized`` can turn it into a 403."""

    def is_authorized(self, handler, user, action, resource) -> bool:  # type: ignore[no-untyped-def]
        return False


def documented_requests() -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document, path params filled."""
    document = json.loads(DOCUMENT.read_text())
    return [
        (method.upper(), re.sub(r"\{\w+\}", "abc", path))
        for path, methods in document["paths"].items()
        for method in methods
    ]


class TestDenyingAuthorizer:
    """With an authenticated user whom the authorizer denies, every route must answer 403.

    Authentication alone (the token test above) passes with ``@authorized`` removed; this
    one fails for any documented verb or the catch-all route that skips authorization.
    """

    @pytest.fixture
    def jp_server_config(self) -> dict:
        return {
            "ServerApp": {
                "jpserver_extensions": {"mlops_lab": True},
                "authorizer_class": DenyAll,
            }
        }

    @pytest.mark.parametrize(
        "method,path", [*documented_requests(), ("GET", "/mlops-lab/api/no/such/route")]
    )
    async def test_every_route_and_verb_is_denied(self, jp_fetch, method: str, path: str) -> None:
        body = None if method in ("GET", "DELETE", "HEAD", "OPTIONS") else b"{}"
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch(*path.strip("/").split("/"), method=method, body=body)
        assert caught.value.code == 403
        error = json.loads(caught.value.response.body)
        assert error["code"] == "FORBIDDEN"
        assert "not authorized" in error["message"]


def test_every_verb_of_every_route_is_documented() -> None:
    """So the denying-authorizer test above reaches every verb a handler defines."""
    documented = {(m, p) for m, p in documented_requests()}
    for pattern, handler in ROUTES:
        if handler is UnknownRouteHandler:
            continue
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "abc", pattern)
        for verb in handler.SUPPORTED_METHODS:
            if verb.lower() in vars(handler):
                assert (verb, path) in documented, f"{verb} {pattern} is not in openapi.json"


async def test_unsupported_verb_is_json_405_with_allow(jp_fetch) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("mlops-lab", "api", "runs", method="DELETE")
    assert caught.value.code == 405
    assert caught.value.response.headers["Allow"] == "GET, OPTIONS"
    assert json.loads(caught.value.response.body)["code"] == "INVALID"


async def test_unknown_route_under_api_is_json_404(jp_fetch) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("mlops-lab", "api", "nothing-here")
    assert caught.value.code == 404
    body = json.loads(caught.value.response.body)
    assert body["code"] == "NOT_FOUND"
    assert "'/mlops-lab/api/nothing-here'" in body["message"]


class TestHungTrackingServer:
    @pytest.fixture
    def stalled_uri(self):  # type: ignore[no-untyped-def]
        with stalling_server() as uri:
            yield uri

    @pytest.fixture
    def jp_server_config(self, stalled_uri: str) -> dict:
        return {
            "ServerApp": {"jpserver_extensions": {"mlops_lab": True}},
            "MlopsLabApp": {"tracking_uri": stalled_uri},
        }

    async def test_health_says_so_within_5_seconds(self, jp_fetch) -> None:
        started = time.monotonic()
        response = await jp_fetch("mlops-lab", "api", "health")
        elapsed = time.monotonic() - started
        body = json.loads(response.body)
        tracking = next(s for s in body["stores"] if s["name"] == "tracking")
        assert elapsed < 6.0
        assert tracking["ok"] is False
        assert "did not answer within 5 s" in tracking["message"]
        assert next(s for s in body["settings"] if s["name"] == "tracking_uri")["source"] == (
            "argument"
        )
