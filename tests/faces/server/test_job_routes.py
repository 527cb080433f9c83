"""The jobs' REST routes through real HTTP, on a root with real notebooks.

Bad input must be a 400 (or 404) naming the field, with nothing queued; a POST sent
with the login cookie but without the XSRF token must be refused; and one test runs a
real notebook job (real kernel, real papermill) from the POST to SUCCEEDED, its log and
its output notebook.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.faces.server.openapi import DOCUMENT
from tests.faces.server.roots import add_job_notebooks


@pytest.fixture
def notebooks(jp_root_dir: Path) -> Path:
    return add_job_notebooks(jp_root_dir)


async def call(jp_fetch, method: str, *path: str, body: Any = None, **kwargs: Any) -> Any:
    """(status, JSON body) of a request, error statuses included."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body))
    try:
        response = await jp_fetch("mlops-lab", "api", *path, method=method, body=data, **kwargs)
        status, text = response.code, response.body
    except HTTPClientError as error:
        assert error.response is not None, error
        status, text = error.code, error.response.body
    return status, json.loads(text)


async def executions(jp_fetch) -> list[dict[str, Any]]:
    status, page = await call(jp_fetch, "GET", "executions")
    assert status == 200, page
    return page["executions"]


# -- GET /jobs/parameters ----------------------------------------------------------------


async def test_parameters_of_a_notebook_are_typed(jp_fetch, notebooks: Path) -> None:
    status, body = await call(
        jp_fetch, "GET", "jobs", "parameters", params={"notebook": "train.ipynb"}
    )
    assert status == 200, body
    assert body["notebook"] == "train.ipynb"
    assert body["has_parameters_cell"] is True
    by_name = {p["name"]: p for p in body["parameters"]}
    assert list(by_name) == ["alpha", "epochs", "name", "flags", "verbose"]
    assert (by_name["alpha"]["type"], by_name["alpha"]["default"]) == ("float", 0.5)
    assert (by_name["epochs"]["type"], by_name["epochs"]["default"]) == ("int", 3)
    assert (by_name["name"]["type"], by_name["name"]["default"]) == ("str", "base")
    assert (by_name["flags"]["type"], by_name["flags"]["default"]) == ("list", [1, 2])
    assert (by_name["verbose"]["type"], by_name["verbose"]["default"]) == ("bool", False)
    assert body["kernel_name"] == "python3"
    assert "python3" in body["kernels"]


async def test_parameters_without_a_parameters_cell(jp_fetch, notebooks: Path) -> None:
    status, body = await call(
        jp_fetch, "GET", "jobs", "parameters", params={"notebook": "plain.ipynb"}
    )
    assert status == 200, body
    assert body["has_parameters_cell"] is False
    assert body["parameters"] == []


@pytest.mark.parametrize(
    "notebook,status,words",
    [
        ("", 400, "notebook"),
        ("missing.ipynb", 404, "missing.ipynb"),
        ("../../etc/passwd", 400, "../../etc/passwd"),
        ("not-json.ipynb", 400, "not-json.ipynb"),
        ("not-a-notebook.ipynb", 400, "not-a-notebook.ipynb"),
    ],
)
async def test_parameters_of_a_bad_notebook(
    jp_fetch, notebooks: Path, notebook: str, status: int, words: str
) -> None:
    got, body = await call(jp_fetch, "GET", "jobs", "parameters", params={"notebook": notebook})
    assert got == status, body
    assert words in body["message"]


# -- POST /jobs: bad input is a 400 naming the field, and nothing is queued ---------------


@pytest.mark.parametrize(
    "request_body,param,words",
    [
        ({"notebook": "train.ipynb", "parameters": {"alpha": "abc"}}, "alpha", "alpha"),
        ({"notebook": "train.ipynb", "parameters": {"nope": 1}}, "nope", "alpha"),
        ({"notebook": "train.ipynb", "sweep": {"epochs": [1, "x"]}}, "epochs", "epochs"),
        ({"notebook": "train.ipynb", "kernel_name": "no-such-kernel"}, "kernel_name", "python3"),
        ({"notebook": "train.ipynb", "timeout": 0}, "timeout", "timeout"),
        ({"notebook": "train.ipynb", "timeout": "soon"}, "timeout", "timeout"),
        ({"notebook": "train.ipynb", "timout": 5}, "timout", "timeout"),
        ({"notebook": "../../etc/passwd"}, "notebook", "../../etc/passwd"),
        ({"notebook": "not-json.ipynb"}, "notebook", "not-json.ipynb"),
        ({"notebook": "not-a-notebook.ipynb"}, "notebook", "not-a-notebook.ipynb"),
        ({"notebook": "a\u0000b.ipynb"}, "notebook", "not a valid path"),
        ({"notebook": "\uda6d.ipynb"}, "notebook", "not a valid path"),
        ({"notebook": "plain.ipynb", "parameters": {"alpha": 1}}, "alpha", "parameters"),
        ({"parameters": {}}, "notebook", "notebook"),
        (
            {
                "notebook": "train.ipynb",
                "sweep": {"alpha": list(range(11)), "epochs": list(range(10))},
            },
            "sweep",
            "100",
        ),
    ],
)
async def test_bad_submit_is_400_and_queues_nothing(
    jp_fetch, notebooks: Path, request_body: dict[str, Any], param: str, words: str
) -> None:
    status, body = await call(jp_fetch, "POST", "jobs", body=request_body)
    assert status == 400, body
    assert body["code"] == "INVALID"
    assert body["param"] == param, body
    assert words in body["message"]
    assert await executions(jp_fetch) == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"train.ipynb"'])
async def test_a_body_that_is_not_a_json_object_is_400(
    jp_fetch, notebooks: Path, raw: bytes
) -> None:
    status, body = await call(jp_fetch, "POST", "jobs", body=raw, allow_nonstandard_methods=True)
    assert status == 400, body
    assert body["code"] == "INVALID"
    assert "JSON" in body["message"]


async def test_a_missing_notebook_is_404_and_queues_nothing(jp_fetch, notebooks: Path) -> None:
    status, body = await call(jp_fetch, "POST", "jobs", body={"notebook": "missing.ipynb"})
    assert status == 404, body
    assert "missing.ipynb" in body["message"]
    assert await executions(jp_fetch) == []


@pytest.mark.parametrize(
    "path",
    [
        ("executions", "no-such-id"),
        ("executions", "no-such-id", "log"),
        ("executions", "no-such-id", "notebook"),
        ("sweeps", "no-such-id"),
    ],
)
async def test_unknown_ids_are_404(jp_fetch, notebooks: Path, path: tuple[str, ...]) -> None:
    status, body = await call(jp_fetch, "GET", *path)
    assert status == 404, body
    assert body["code"] == "NOT_FOUND"
    assert "no-such-id" in body["message"]


@pytest.mark.parametrize("verb", ["cancel", "rerun"])
async def test_cancel_or_rerun_of_an_unknown_id_is_404(
    jp_fetch, notebooks: Path, verb: str
) -> None:
    status, body = await call(jp_fetch, "POST", "executions", "no-such-id", verb, body={})
    assert status == 404, body
    assert "no-such-id" in body["message"]


@pytest.mark.parametrize(
    "params,param",
    [({"max_results": "lots"}, "max_results"), ({"state": "SLEEPING"}, "state")],
)
async def test_bad_listing_query_is_400(
    jp_fetch, notebooks: Path, params: dict[str, str], param: str
) -> None:
    status, body = await call(jp_fetch, "GET", "executions", params=params)
    assert status == 400, body
    assert body["param"] == param


# -- XSRF: the browser's cookie alone must not be enough to POST --------------------------


async def login_cookie(jp_fetch) -> str:
    """The login cookie the server sets for a token-authenticated request."""
    response = await jp_fetch("api", "status")
    cookies = [
        c.split(";", 1)[0]
        for c in response.headers.get_list("Set-Cookie")
        if not c.startswith("_xsrf")
    ]
    assert cookies, "the server set no login cookie"
    return "; ".join(cookies)


async def test_cookie_post_without_xsrf_is_refused(jp_fetch, notebooks: Path) -> None:
    cookie = await login_cookie(jp_fetch)
    headers = {"Authorization": "", "Cookie": cookie}
    status, body = await call(
        jp_fetch, "POST", "jobs", body={"notebook": "train.ipynb"}, headers=headers
    )
    assert status == 403, body
    assert "_xsrf" in body["message"]
    assert await executions(jp_fetch) == []

    # The same cookie with a matching XSRF token gets through to our validation.
    token = uuid.uuid4().hex
    headers = {"Authorization": "", "Cookie": f"{cookie}; _xsrf={token}", "X-XSRFToken": token}
    status, body = await call(
        jp_fetch,
        "POST",
        "jobs",
        body={"notebook": "train.ipynb", "timeout": -1},
        headers=headers,
    )
    assert status == 400, body
    assert body["param"] == "timeout"


def test_every_job_route_is_in_the_document() -> None:
    paths = set(json.loads(DOCUMENT.read_text())["paths"])
    for route in [
        "/mlops-lab/api/jobs",
        "/mlops-lab/api/jobs/parameters",
        "/mlops-lab/api/executions",
        "/mlops-lab/api/executions/{execution_id}",
        "/mlops-lab/api/executions/{execution_id}/log",
        "/mlops-lab/api/executions/{execution_id}/notebook",
        "/mlops-lab/api/executions/{execution_id}/cancel",
        "/mlops-lab/api/executions/{execution_id}/rerun",
        "/mlops-lab/api/sweeps/{sweep_id}",
    ]:
        assert route in paths, route


# -- a real job, end to end ----------------------------------------------------------------


async def wait_finished(jp_fetch, execution_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, execution = await call(jp_fetch, "GET", "executions", execution_id)
        assert status == 200, execution
        if execution["state"] not in ("QUEUED", "RUNNING"):
            return execution
        assert time.monotonic() < deadline, f"still {execution['state']} after {timeout} s"
        await asyncio.sleep(0.2)


@pytest.mark.kernel
async def test_a_notebook_job_runs_to_succeeded(jp_fetch, notebooks: Path) -> None:
    key = uuid.uuid4().hex
    request = {
        "notebook": "train.ipynb",
        "parameters": {"alpha": 2.5, "epochs": 4},
        "timeout": 60,
        "idempotency_key": key,
    }
    status, submission = await call(jp_fetch, "POST", "jobs", body=request)
    assert status == 201, submission
    assert submission["reused"] is False
    [queued] = submission["executions"]
    assert queued["state"] in ("QUEUED", "RUNNING")
    assert queued["parameters"] == {"alpha": 2.5, "epochs": 4}

    # A double click (same key) queues nothing new.
    status, again = await call(jp_fetch, "POST", "jobs", body=request)
    assert status == 201, again
    assert again["reused"] is True
    assert [e["id"] for e in again["executions"]] == [queued["id"]]

    execution = await wait_finished(jp_fetch, queued["id"])
    assert execution["state"] == "SUCCEEDED", execution
    assert execution["cells_done"] == execution["cells_total"] > 0
    assert execution["run_id"]

    listed = await executions(jp_fetch)
    assert [e["id"] for e in listed] == [queued["id"]]

    status, log = await call(jp_fetch, "GET", "executions", queued["id"], "log")
    assert status == 200, log
    assert "alpha=2.5 epochs=4" in log["text"]
    assert log["complete"] is True
    status, tail = await call(
        jp_fetch, "GET", "executions", queued["id"], "log", params={"offset": log["next_offset"]}
    )
    assert (status, tail["text"]) == (200, "")

    status, output = await call(jp_fetch, "GET", "executions", queued["id"], "notebook")
    assert status == 200, output
    assert output["path"].endswith(".ipynb")
    sources = "\n".join("".join(c["source"]) for c in output["content"]["cells"])
    assert "alpha = 2.5" in sources  # papermill's injected parameters
    outputs = json.dumps(output["content"]["cells"][-1]["outputs"])
    assert "10.0" in outputs

    status, rerun = await call(jp_fetch, "POST", "executions", queued["id"], "rerun", body={})
    assert status == 201, rerun
    [again_execution] = rerun["executions"]
    assert again_execution["id"] != queued["id"]
    assert again_execution["parameters"] == {"alpha": 2.5, "epochs": 4}
    finished = await wait_finished(jp_fetch, again_execution["id"])
    assert finished["state"] == "SUCCEEDED", finished
    assert [e["id"] for e in await executions(jp_fetch)] == [again_execution["id"], queued["id"]]
