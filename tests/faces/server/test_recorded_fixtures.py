"""The jest fixtures in ``src/__tests__/fixtures`` are the real server's answers.

Each scenario the front-end tests need is asked of a real Jupyter server with mlops-lab
on a real MLflow SQLite store. Volatile values (run ids, times, temporary paths, the
version, page tokens, timings) become stable placeholders, so a fixture only changes
when an answer's shape or wording does. With ``MLOPS_LAB_RECORD_FIXTURES=1`` the answers
are written to the fixture files; otherwise each committed fixture must equal the live
answer, so a fixture that drifts from the server fails here, not in a user's sidebar.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.version import __version__
from tests.faces.server.roots import add_job_notebooks, misconfigured_root
from tests.runs_data import Models, Runs, add_models, make_runs

FIXTURES = Path(__file__).resolve().parents[3] / "src" / "__tests__" / "fixtures"
RECORD = os.environ.get("MLOPS_LAB_RECORD_FIXTURES") == "1"


class Normaliser:
    """Replaces the values that change from one server start to the next."""

    def __init__(self, root: Path, runs: Runs | None = None, models: Models | None = None) -> None:
        self.texts: list[tuple[str, str]] = [
            (str(root.resolve()), "<root>"),
            (str(root), "<root>"),
        ]
        if runs is not None:
            for name in ("alpha", "beta", "bare"):
                run_id = getattr(runs, name)
                # Whole ids first, then the 8-character prefix labels carry.
                self.texts.append((run_id, f"<run:{name}>"))
                self.texts.append((run_id[:8], f"<run8:{name}>"))
        if models is not None:
            self.texts.append((models.logged_id, "<model:classifier>"))

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if key in ("end_time", "creation_time", "last_update_time") and value is not None:
            return 0
        if not isinstance(value, str):
            return value
        if key == "next_page_token":
            return "<page-token>"
        if key == "version" or value == __version__:
            return "<version>"
        for old, new in self.texts:
            value = value.replace(old, new)
        return re.sub(r"\b\d+(\.\d+)? ms\b", "<n> ms", value)


async def answer(jp_fetch, *path: str, params: Any = None, body: Any = None) -> dict[str, Any]:
    """The status and JSON body of a GET (a POST with ``body``), error statuses included."""
    post = {} if body is None else {"method": "POST", "body": json.dumps(body)}
    try:
        response = await jp_fetch("mlops-lab", "api", *path, params=params or {}, **post)
        status, body = response.code, response.body
    except HTTPClientError as error:
        assert error.response is not None
        status, body = error.code, error.response.body
    return {"status": status, "body": json.loads(body)}


def check(name: str, recorded: dict[str, Any]) -> None:
    """Write the fixture when recording; otherwise it must equal the live answer."""
    path = FIXTURES / f"{name}.json"
    if RECORD:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        return
    assert path.exists(), f"{path} is missing: run with MLOPS_LAB_RECORD_FIXTURES=1"
    assert json.loads(path.read_text()) == recorded, (
        f"{path.name} differs from the server's answer: re-record with "
        "MLOPS_LAB_RECORD_FIXTURES=1 and update the jest tests that read it"
    )


@pytest.fixture
def runs(jp_root_dir: Path, tmp_path: Path) -> Runs:
    """Runs in the store the server resolves by default: ``<root>/.mlops/mlflow.db``."""
    return make_runs(resolve_settings(jp_root_dir, environ={}), tmp_path)


async def test_health_ok(jp_fetch, jp_root_dir: Path) -> None:
    check("health_ok", Normaliser(jp_root_dir)(await answer(jp_fetch, "health")))


async def test_missing_route(jp_fetch, jp_root_dir: Path) -> None:
    live = await answer(jp_fetch, "no-such-route")
    check("missing_route", Normaliser(jp_root_dir)(live))


async def test_runs_answers(jp_fetch, jp_root_dir: Path, tmp_path: Path, runs: Runs) -> None:
    # alpha's details show a model of each kind (a logged model, a folder of artifacts).
    models = add_models(resolve_settings(jp_root_dir, environ={}), runs.alpha, tmp_path)
    normalise = Normaliser(jp_root_dir, runs, models)

    async def record(name: str, *path: str, params: Any = None) -> None:
        check(name, normalise(await answer(jp_fetch, *path, params=params)))

    await record("experiments", "experiments")
    await record("experiments_page", "experiments", params={"max_results": "1"})
    await record("experiments_by_name", "experiments", params={"name": "EX"})
    page = {"experiment": "exp", "order_by": "metrics.acc DESC", "max_results": "2"}
    await record("runs_page", "runs", params=page)
    await record("runs_bad_filter", "runs", params={"experiment": "exp", "filter": "metrics.acc >"})
    await record(
        "runs_bad_order_by", "runs", params={"experiment": "exp", "order_by": "metrics.`acc"}
    )
    await record("runs_bad_page_token", "runs", params={**page, "page_token": "zzz"})
    await record("runs_bad_max_results", "runs", params={"experiment": "exp", "max_results": "0"})
    await record("runs_unknown_experiment", "runs", params={"experiment": "nope"})
    await record("run_detail", "runs", runs.alpha)
    await record("run_not_found", "runs", "abc")
    await record("compare", "compare", params=[("run_id", runs.alpha), ("run_id", runs.beta)])


async def test_job_form_answers(jp_fetch, jp_root_dir: Path) -> None:
    """What the Run-as-job form reads, and the server's 400s it shows beside a field."""
    add_job_notebooks(jp_root_dir)
    normalise = Normaliser(jp_root_dir)

    async def record(name: str, *path: str, params: Any = None, body: Any = None) -> None:
        live = normalise(await answer(jp_fetch, *path, params=params, body=body))
        if "kernels" in live["body"]:  # the kernels installed differ from machine to machine
            assert "python3" in live["body"]["kernels"]
            live["body"]["kernels"] = ["python3"]
        check(name, live)

    await record("job_parameters", "jobs", "parameters", params={"notebook": "train.ipynb"})
    await record("job_parameters_none", "jobs", "parameters", params={"notebook": "plain.ipynb"})
    await record(
        "job_submit_bad_type",
        "jobs",
        body={"notebook": "train.ipynb", "parameters": {"alpha": "abc"}},
    )
    await record("job_submit_bad_timeout", "jobs", body={"notebook": "train.ipynb", "timeout": 0})
    await record("executions_empty", "executions")


def normalise_execution(value: Any, ids: dict[str, str]) -> Any:
    """Ids, users and times of an execution's answers as placeholders: ``ids`` maps each
    id seen to its placeholder; every time becomes ``<time>``."""
    if isinstance(value, dict):
        return {
            k: "<time>"
            if k in ("created_at", "started_at", "finished_at") and v is not None
            else "<user>"
            if k == "created_by"
            else normalise_execution(v, ids)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalise_execution(v, ids) for v in value]
    if isinstance(value, str):
        for old, new in ids.items():
            value = value.replace(old, new)
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<time>", value)
    return value


@pytest.mark.kernel
async def test_job_execution_answers(jp_fetch, jp_root_dir: Path) -> None:
    """A real execution of ``train.ipynb`` (real kernel, real papermill): the answers the
    Jobs section shows, once it has SUCCEEDED."""
    add_job_notebooks(jp_root_dir)
    submitted = await answer(
        jp_fetch, "jobs", body={"notebook": "train.ipynb", "parameters": {"alpha": 2.5}}
    )
    assert submitted["status"] == 201, submitted
    [execution] = submitted["body"]["executions"]
    deadline = time.monotonic() + 120  # a cold runner on a busy 2-core machine
    while True:
        live = await answer(jp_fetch, "executions", execution["id"])
        if live["body"]["state"] not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert live["body"]["state"] == "SUCCEEDED", live
    ids = {
        execution["id"]: "<execution>",
        execution["job_id"]: "<job>",
        live["body"]["run_id"]: "<run:execution>",
    }
    normalise = Normaliser(jp_root_dir)

    def record(name: str, recorded: dict[str, Any]) -> None:
        check(name, normalise_execution(normalise(recorded), ids))

    record("execution_succeeded", live)
    record("executions_page", await answer(jp_fetch, "executions"))
    record("execution_log", await answer(jp_fetch, "executions", execution["id"], "log"))


def normalise_schedule(value: Any, ids: dict[str, str], key: str = "") -> Any:
    """A schedule's ids, user and times as placeholders: the next fire times move with
    the clock, so each becomes ``<time>`` (the list's length stays, as the form shows it)."""
    if isinstance(value, dict):
        return {k: normalise_schedule(v, ids, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_schedule(v, ids, key) for v in value]
    if key in ("created_at", "next_fire_times", "end_at") and value is not None:
        return "<time>"
    if key == "created_by":
        return "<user>"
    if isinstance(value, str):
        for old, new in ids.items():
            value = value.replace(old, new)
    return value


async def test_schedule_answers(jp_fetch, jp_root_dir: Path) -> None:
    """What the form's Schedule tab and the Jobs section's schedules read: a cron's
    preview and its 400s, a schedule made, paused, and flagged once its notebook is gone."""
    add_job_notebooks(jp_root_dir)
    normalise = Normaliser(jp_root_dir)
    preview = ("schedules", "preview")
    weekly = {"cron": "30 2 * * 1", "timezone": "Europe/Paris"}
    check(
        "schedule_preview", normalise_schedule(await answer(jp_fetch, *preview, params=weekly), {})
    )
    bad_hour = {"cron": "0 25 * * *", "timezone": "UTC"}
    check("schedule_preview_bad_cron", normalise(await answer(jp_fetch, *preview, params=bad_hour)))
    bad_zone = {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}
    check(
        "schedule_preview_bad_timezone",
        normalise(await answer(jp_fetch, *preview, params=bad_zone)),
    )
    request = {"notebook": "train.ipynb", "parameters": {"alpha": 2.5}, **weekly}
    check(
        "schedule_create_bad_max_active",
        normalise(await answer(jp_fetch, "schedules", body={**request, "max_active": 0})),
    )
    made = await answer(jp_fetch, "schedules", body=request)
    assert made["status"] == 201, made
    ids = {made["body"]["id"]: "<schedule>", made["body"]["job_id"]: "<job>"}

    def record(name: str, recorded: dict[str, Any]) -> None:
        check(name, normalise_schedule(normalise(recorded), ids))

    record("schedule_created", made)
    record(
        "schedule_paused", await answer(jp_fetch, "schedules", made["body"]["id"], "pause", body={})
    )
    (jp_root_dir / "train.ipynb").unlink()
    record("schedules_problem", await answer(jp_fetch, "schedules"))


class TestBrokenConfiguration:
    @pytest.fixture
    def jp_root_dir(self, tmp_path: Path) -> Path:
        return misconfigured_root(tmp_path)

    async def test_answers(self, jp_fetch, jp_root_dir: Path) -> None:
        normalise = Normaliser(jp_root_dir)
        check("health_misconfigured", normalise(await answer(jp_fetch, "health")))
        check("experiments_misconfigured", normalise(await answer(jp_fetch, "experiments")))
