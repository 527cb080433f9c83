"""The OpenAPI document of our REST API, generated from the pydantic models.

``python -m mlops_lab.faces.server.openapi`` rewrites ``openapi.json`` beside this file; the
tests fail when the committed document differs from what the models say, and
``jlpm api:check`` fails when ``src/api/schema.ts`` differs from the document.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from mlops_lab.core.version import __version__

DOCUMENT = Path(__file__).with_name("openapi.json")
REF_TEMPLATE = "#/components/schemas/{model}"


@dataclass(frozen=True)
class QueryParam:
    """One query parameter; ``minimum``/``maximum``/``default`` go into its schema, so a
    client (and schemathesis) knows the range the handler accepts."""

    name: str
    description: str
    type: str = "string"
    required: bool = False
    array: bool = False
    """Repeated in the query string (``?run_id=a&run_id=b``)."""
    minimum: int | None = None
    maximum: int | None = None
    default: str | int | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        for key in ("minimum", "maximum", "default"):
            if getattr(self, key) is not None:
                schema[key] = getattr(self, key)
        return {"type": "array", "items": schema} if self.array else schema


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "INVALID: a value of the request is wrong; `param` names the parameter when one is.",
    403: "FORBIDDEN: not authenticated, or the authorizer denies the mlops-lab resource.",
    404: "NOT_FOUND: the experiment, run, artifact, notebook, execution or sweep does not exist.",
    409: "CONFLICT: the request does not fit the current state (e.g. an idempotency key "
    "reused with a different request).",
    413: "TOO_LARGE: the artifact is above max-served-artifact-mb; the message says how to "
    "download it instead.",
    500: "INTERNAL: a bug in mlops-lab; the server log has the traceback.",
    503: "UNAVAILABLE: a store does not answer; or MISCONFIGURED: the settings cannot be read "
    "(the message names the file or variable).",
}

ALWAYS = (403, 500, 503)
"""Statuses every operation can answer: the auth check, a bug, and a store or settings
failure (every route reads the settings, so a broken configuration is a 503 anywhere)."""


@dataclass(frozen=True)
class Operation:
    """What one verb of one route takes and returns, for the document.

    ``errors`` lists the error statuses this operation adds to :data:`ALWAYS`.
    """

    summary: str
    response: type[Any]
    """A pydantic model or a core dataclass: whatever the handler finishes with."""
    operation_id: str
    query: tuple[QueryParam, ...] = ()
    path_params: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    request: type[Any] | None = None
    """The JSON body a POST reads: a pydantic model or a core dataclass."""
    request_required: bool = True
    status: int = 200
    """The success status: 201 for a POST that creates something."""

    @property
    def statuses(self) -> list[int]:
        return sorted({*self.errors, *ALWAYS})


def _path_template(pattern: str) -> str:
    """``/runs/(?P<run_id>[^/]+)`` -> ``/runs/{run_id}``."""
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def build_document() -> dict[str, Any]:
    from mlops_lab.faces.server.models import ErrorBody
    from mlops_lab.faces.server.routes import ROUTES

    operations = [
        (pattern, method, op)
        for pattern, handler in ROUTES
        for method, op in getattr(handler, "operations", {}).items()
    ]
    models = {ErrorBody, *(op.response for _, _, op in operations)}
    # A request body is documented as what it accepts (fields with defaults optional),
    # a response as what it writes; no type is both here, so each keeps its own name.
    requests = {op.request for _, _, op in operations if op.request is not None}
    _, schema = TypeAdapter.json_schemas(
        [
            (m, "validation" if m in requests else "serialization", TypeAdapter(m))
            for m in sorted(models | requests, key=lambda m: m.__name__)
        ],
        ref_template=REF_TEMPLATE,
    )
    paths: dict[str, Any] = {}
    for pattern, method, op in operations:
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in op.path_params
        ] + [
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "description": q.description,
                "schema": q.schema(),
            }
            for q in op.query
        ]
        error = {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="ErrorBody")}}}
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "Created" if op.status == 201 else "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": REF_TEMPLATE.format(model=op.response.__name__)}
                    }
                },
            }
        }
        for status in op.statuses:
            responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "content": error}
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "responses": responses,
        }
        if parameters:
            entry["parameters"] = parameters
        if op.request is not None:
            entry["requestBody"] = {
                "required": op.request_required,
                "content": {
                    "application/json": {
                        "schema": {"$ref": REF_TEMPLATE.format(model=op.request.__name__)}
                    }
                },
            }
        paths.setdefault(_path_template(pattern), {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "mlops-lab", "version": __version__.split("+")[0]},
        "paths": paths,
        "components": {"schemas": schema.get("$defs", {})},
    }


def render() -> str:
    document = build_document()
    document["info"]["version"] = "0"  # keep the file stable across version bumps
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the document, or with ``--check`` fail when the committed one is stale."""
    if "--check" in argv:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != render():
            sys.stderr.write(
                f"{DOCUMENT} is out of date with the pydantic models: run `make api`.\n"
            )
            return 1
        return 0
    DOCUMENT.write_text(render())
    sys.stdout.write(f"wrote {DOCUMENT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
