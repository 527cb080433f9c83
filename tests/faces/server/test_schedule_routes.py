"""The schedules' REST routes through real HTTP: create, preview, list, pause, resume,
delete; bad input is a 400 naming the field with nothing written; and the scheduler
inside the server fires a real slot into a real execution."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.faces.server.roots import add_job_notebooks
from tests.faces.server.test_job_routes import call


@pytest.fixture
def notebooks(jp_root_dir: Path) -> Path:
    return add_job_notebooks(jp_root_dir)


async def schedules(jp_fetch) -> list[dict]:
    status, body = await call(jp_fetch, "GET", "schedules")
    assert status == 200, body
    return body["schedules"]


async def test_preview_describes_a_cron_and_names_the_wrong_field(jp_fetch) -> None:
    status, body = await call(
        jp_fetch, "GET", "schedules", "preview", params={"cron": "30 2 * * 1", "timezone": "UTC"}
    )
    assert status == 200, body
    assert body["description"] == "At 02:30, only on Monday"
    assert len(body["next_fire_times"]) == 3 and body["timezone"] == "UTC"
    status, body = await call(
        jp_fetch, "GET", "schedules", "preview", params={"cron": "0 25 * * *"}
    )
    assert status == 400 and body["param"] == "cron"
    assert "the hour field '25'" in body["message"]
    status, body = await call(
        jp_fetch, "GET", "schedules", "preview", params={"cron": "0 2 * * *", "timezone": "Nowhere"}
    )
    assert (status, body["param"]) == (400, "timezone")


async def test_create_list_pause_resume_delete(jp_fetch, notebooks: Path) -> None:
    request = {
        "notebook": "train.ipynb",
        "cron": "0 3 * * *",
        "timezone": "Europe/Paris",
        "parameters": {"alpha": 0.75},
        "concurrency": "queue",
        "max_active": 2,
        "catch_up": "all",
        "name": "nightly",
    }
    status, made = await call(jp_fetch, "POST", "schedules", body=request)
    assert status == 201, made
    assert (made["name"], made["state"], made["concurrency"]) == ("nightly", "ACTIVE", "queue")
    assert made["parameters"]["alpha"] == 0.75 and len(made["next_fire_times"]) == 3
    assert made["description"] == "At 03:00" and made["created_by"]
    assert [s["id"] for s in await schedules(jp_fetch)] == [made["id"]]

    status, paused = await call(jp_fetch, "POST", "schedules", made["id"], "pause", body={})
    assert (status, paused["state"], paused["next_fire_times"]) == (200, "PAUSED", [])
    status, resumed = await call(jp_fetch, "POST", "schedules", made["id"][:6], "resume", body={})
    assert (status, resumed["state"]) == (200, "ACTIVE")
    status, shown = await call(jp_fetch, "GET", "schedules", made["id"])
    assert status == 200 and shown["id"] == made["id"]
    status, slots = await call(jp_fetch, "GET", "schedules", made["id"], "slots")
    assert (status, slots) == (200, {"slots": []})

    status, deleted = await call(jp_fetch, "DELETE", "schedules", made["id"])
    assert (status, deleted) == (200, {"id": made["id"]})
    assert await schedules(jp_fetch) == []
    status, body = await call(jp_fetch, "GET", "schedules", made["id"])
    assert status == 404 and "No schedule" in body["message"]


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"cron": "61 * * * *"}, "cron", "the minute field '61'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone"),
        ({"end_at": "2001-01-01T00:00:00Z"}, "end_at", "is in the past"),
        ({"notebook": "gone.ipynb"}, None, "gone.ipynb"),
        ({"concurrency": "sometimes"}, "concurrency", "sometimes"),
        ({"cadence": "daily"}, "cadence", "Unknown field 'cadence'"),
        ({"parameters": {"epochs": "many"}}, "epochs", "epochs"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    jp_fetch, notebooks: Path, change: dict, param: str | None, words: str
) -> None:
    request = {"notebook": "train.ipynb", "cron": "0 3 * * *", "timezone": "UTC", **change}
    status, body = await call(jp_fetch, "POST", "schedules", body=request)
    assert status in (400, 404), body
    assert words in body["message"]
    if param:
        assert body["param"] == param
    assert await schedules(jp_fetch) == []


async def test_the_servers_scheduler_fires_a_slot_into_a_real_execution(
    jp_fetch, notebooks: Path
) -> None:
    """Every second; the first slot after the create must become an execution that runs."""
    request = {"notebook": "train.ipynb", "cron": "* * * * * *", "timezone": "UTC"}
    status, made = await call(jp_fetch, "POST", "schedules", body=request)
    assert status == 201, made
    deadline = time.monotonic() + 90
    execution = None
    while time.monotonic() < deadline:
        status, page = await call(jp_fetch, "GET", "executions", params={"schedule_id": made["id"]})
        done = [e for e in page["executions"] if e["state"] == "SUCCEEDED"]
        if done:
            execution = done[0]
            break
        await asyncio.sleep(0.3)
    status, _ = await call(jp_fetch, "POST", "schedules", made["id"], "pause", body={})
    assert execution is not None, page
    assert execution["schedule_id"] == made["id"] and execution["slot_at"]
    status, slots = await call(
        jp_fetch, "GET", "schedules", made["id"], "slots", params={"max_results": "1000"}
    )
    fired = [s for s in slots["slots"] if s["execution_id"] == execution["id"]]
    assert fired and fired[0]["outcome"] == "fired"
