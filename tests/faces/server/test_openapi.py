"""The OpenAPI document is valid, current, and what the server really returns."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from tornado.httpclient import HTTPClientError

from mlops_lab.faces.server.openapi import DOCUMENT, build_document, render


def test_document_is_valid_openapi() -> None:
    validate(build_document())


def test_committed_document_is_current() -> None:
    assert DOCUMENT.read_text() == render(), "run `make api` and commit the result"


def response_validator(operation_id: str) -> Draft202012Validator:
    document = json.loads(DOCUMENT.read_text())
    for methods in document["paths"].values():
        for operation in methods.values():
            if operation["operationId"] == operation_id:
                schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
                return Draft202012Validator({**schema, "components": document["components"]})
    raise AssertionError(f"no operation {operation_id}")


def error_validator() -> Draft202012Validator:
    document = json.loads(DOCUMENT.read_text())
    schema = {"$ref": "#/components/schemas/ErrorBody", "components": document["components"]}
    return Draft202012Validator(schema)


async def test_health_response_matches_document(jp_fetch) -> None:
    response = await jp_fetch("mlops-lab", "api", "health")
    response_validator("getHealth").validate(json.loads(response.body))


async def test_error_response_matches_document(jp_fetch) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("mlops-lab", "api", "no-such-route")
    error_validator().validate(json.loads(caught.value.response.body))


def operations() -> dict[str, dict]:
    document = build_document()
    return {
        op["operationId"]: op for methods in document["paths"].values() for op in methods.values()
    }


def test_every_operation_documents_denied_internal_and_unavailable() -> None:
    for operation_id, op in operations().items():
        assert {"403", "500", "503"} <= set(op["responses"]), operation_id


def test_error_statuses_each_route_can_answer() -> None:
    ops = operations()
    assert {"400", "404"} <= set(ops["searchRuns"]["responses"])
    assert {"400", "404"} <= set(ops["getRun"]["responses"])
    assert {"400", "404", "413"} <= set(ops["getRunNotebook"]["responses"])


def test_page_size_range_is_documented() -> None:
    [size] = [p for p in operations()["searchRuns"]["parameters"] if p["name"] == "max_results"]
    assert size["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}
