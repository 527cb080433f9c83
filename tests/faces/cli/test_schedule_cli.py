"""``mlops-lab schedule ...`` and ``mlops-lab scheduler`` against a temp root's real stores.

The commands run through click's CliRunner; slots are fired by the core's real scheduler
driven at chosen moments (queueing only, so nothing needs a kernel), and the
``scheduler`` command runs as the real program in its own process, stopped by SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.jobs import schedules
from mlops_lab.core.jobs.scheduler import Scheduler
from mlops_lab.core.store.schema import ScheduleRow
from mlops_lab.faces.cli import cli
from mlops_lab.faces.execution_text import FRAME_COLUMNS
from tests.faces.job_notebooks import adds

COMMAND = [sys.executable, "-c", "from mlops_lab.faces.cli import main; main()"]
"""``mlops-lab`` as its console script runs it, from this tree."""
TREE = str(Path(__file__).parents[3])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    adds(folder)
    return folder


def invoke(root: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "schedule", *args], input=stdin)


def listed(root: Path) -> list[dict]:
    result = invoke(root, "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def create(root: Path, *args: str) -> dict:
    result = invoke(root, "create", "work/adds.ipynb", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_prints_the_schedule_in_words_in_its_zone_with_its_next_three_times(
    root: Path,
) -> None:
    result = invoke(
        root,
        "create",
        "work/adds.ipynb",
        "--cron",
        "30 2 * * 1",
        "--tz",
        "Europe/Paris",
        "-p",
        "alpha=2",
        "-p",
        "name=a b",
        "--name",
        "weekly",
        "--concurrency",
        "QUEUE",
        "--max-active",
        "2",
        "--catch-up",
        "all",
        "--end",
        "2099-01-01",
        "--timeout",
        "90",
        "--retries",
        "2",
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("schedule   ") and lines[0].endswith(" (weekly)")
    assert "parameters alpha=2.0 name=a b" in lines
    assert "runs       At 02:30, only on Monday (30 2 * * 1), Europe/Paris" in lines
    nexts = lines[lines.index("state      ACTIVE") + 1 :][:3]
    assert nexts[0].startswith("next       Mon ")
    assert all(" Mon " in line and " 02:30 CE" in line for line in nexts)  # CET or CEST
    assert "policy     concurrency queue, at most 2 active, catch-up all" in lines
    assert "ends       Thu 2099-01-01 00:00 CET" in lines
    assert lines[-1].startswith("it fires while a scheduler runs for this project")

    (record,) = listed(root)
    assert (record["name"], record["timezone"], record["max_active"]) == (
        "weekly",
        "Europe/Paris",
        2,
    )
    assert record["parameters"] == {"alpha": 2.0, "name": "a b"}
    assert (record["timeout"], record["retries"], record["concurrency"]) == (90.0, 2, "queue")
    assert len(record["next_fire_times"]) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "61 2 * * *"], "the minute field '61' is wrong"),
        (["--cron", "0 2 * * * * *"], "it has 7 field(s)"),
        (["--cron", "0 2 * * *", "--tz", "Mars/Olympus"], "Unknown time zone 'Mars/Olympus'"),
        (["--cron", "0 2 * * *", "--end", "2001-01-01"], "is in the past"),
        (["--cron", "0 2 * * *", "--end", "soon"], "--end must be a date"),
        (["--cron", "0 2 * * *", "--concurrency", "maybe"], "concurrency must be one of"),
        (["--cron", "0 2 * * *", "--catch-up", "some"], "catch_up must be one of"),
        (["--cron", "0 2 * * *", "--max-active", "0"], "max_active must be 1..100, got 0"),
        (["--cron", "0 2 * * *", "-p", "alpha=abc"], "alpha expects float, got 'abc'"),
        (["--cron", "0 2 * * *", "-p", "alpha=1,2"], "several values"),
        (["--cron", "0 2 * * *", "--kernel", "pyhton3"], "no kernel named 'pyhton3'"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_writes_nothing(
    root: Path, args: list[str], message: str
) -> None:
    result = invoke(root, "create", "work/adds.ipynb", *args)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listed(root) == []


def test_a_missing_notebook_or_cron_is_refused(root: Path) -> None:
    missing = invoke(root, "create", "work/gone.ipynb", "--cron", "0 2 * * *")
    assert missing.exit_code == 1 and "work/gone.ipynb was not found" in missing.stderr
    no_cron = invoke(root, "create", "work/adds.ipynb")
    assert no_cron.exit_code == 2 and "Missing option '--cron'" in no_cron.stderr
    assert listed(root) == []


def test_list_pause_resume_then_delete_after_confirming(root: Path) -> None:
    assert invoke(root, "list").stdout.startswith("No schedules")
    made = create(root, "--cron", "0 3 * * *", "--tz", "UTC", "--name", "nightly")
    table = invoke(root, "list")
    assert table.exit_code == 0, table.output
    header, row = table.stdout.splitlines()
    assert header.split()[:4] == ["!", "id", "name", "notebook"]
    assert row.split()[:4] == [made["id"][:8], "nightly", "work/adds.ipynb", "0"]
    assert "At 03:00" in row and "ACTIVE" in row

    paused = invoke(root, "pause", made["id"][:6])  # a unique prefix is enough
    assert paused.exit_code == 0, paused.output
    assert paused.stdout == f"schedule {made['id']} PAUSED: no slot fires until it is resumed\n"
    assert listed(root)[0]["next_fire_times"] == []
    resumed = invoke(root, "resume", made["id"])
    assert resumed.stdout.startswith(f"schedule {made['id']} ACTIVE: next run ")
    assert " 03:00 UTC (in " in resumed.stdout

    declined = invoke(root, "delete", made["id"], stdin="n\n")
    assert declined.exit_code == 1 and "Delete schedule" in declined.stdout
    assert [s["id"] for s in listed(root)] == [made["id"]]
    deleted = invoke(root, "delete", made["id"], stdin="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert f"deleted schedule {made['id']}; its executions stay" in deleted.stdout
    assert listed(root) == []


def test_delete_yes_does_not_ask(root: Path) -> None:
    made = create(root, "--cron", "@daily")
    deleted = invoke(root, "delete", made["id"], "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert (
        deleted.stdout
        == f"deleted schedule {made['id']}; its executions stay (mlops-lab job list)\n"
    )
    assert listed(root) == []


def test_an_unknown_schedule_is_one_line_exit_1(root: Path) -> None:
    for command in ("show", "pause", "resume", "delete"):
        result = invoke(root, command, "nosuchid")
        assert result.exit_code == 1, (command, result.output)
        assert result.stderr == (
            "Error: No schedule 'nosuchid'. `mlops-lab schedule list` shows them.\n"
        )


def test_show_lists_slots_fired_skipped_and_missed_with_their_reasons(root: Path) -> None:
    """The core's scheduler, driven at chosen moments, only queues: slot 1 fires, slot 2
    is skipped (slot 1's execution is still queued), and after a downtime with catch-up
    'none' the newest slot is recorded as missed."""
    made = create(root, "--cron", "0 * * * *", "--tz", "UTC", "--catch-up", "none")
    settings = resolve_settings(root, environ={})
    store = schedules.schedule_store(settings)
    start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with store.store.transaction() as session:  # as if it had been created at 09:30
        row = session.get(ScheduleRow, made["id"])
        assert row is not None
        row.active_since = start
    scheduler = Scheduler(settings, store, runs_jobs=False)
    scheduler.fire_due(start + timedelta(minutes=30, seconds=5))  # 10:00 fires
    scheduler.fire_due(start + timedelta(minutes=90, seconds=5))  # 11:00: 10:00's still queued
    scheduler.fire_due(start + timedelta(hours=5))  # 12:00 .. 14:00 passed unseen

    shown = invoke(root, "show", made["id"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    slots = lines[lines.index("recent slots (newest first, UTC):") + 1 :][:3]
    assert slots[0].startswith("  Mon 2026-01-05 14:00 UTC  missed   no scheduler ran at its")
    assert slots[1].startswith("  Mon 2026-01-05 11:00 UTC  skipped  1 earlier execution(s)")
    assert slots[2].startswith("  Mon 2026-01-05 10:00 UTC  fired    execution ")
    fired_id = slots[2].split()[-1]
    executions = lines[lines.index("recent executions:") + 1 :]
    assert executions[0].split() == list(FRAME_COLUMNS)  # the table of `job list`
    assert executions[1].split()[:3] == [fired_id, "work/adds.ipynb", "QUEUED"]
    assert "last       missed Mon 2026-01-05 14:00 UTC" in lines

    body = json.loads(invoke(root, "show", made["id"][:6], "--json").stdout)
    assert body["schedule"]["id"] == made["id"]
    assert [s["outcome"] for s in body["slots"]] == ["missed", "skipped", "fired"]
    assert body["slots"][2]["execution_id"] == body["executions"][0]["id"]
    assert body["executions"][0]["slot_at"] == "2026-01-05T10:00:00+00:00"


def test_a_schedule_whose_notebook_is_gone_is_flagged(root: Path) -> None:
    made = create(root, "--cron", "0 3 * * *")
    (root / "work" / "adds.ipynb").unlink()

    table = invoke(root, "list").stdout.splitlines()
    assert table[1].split()[0] == "!"
    assert table[-1] == (
        f"! {made['id'][:8]}: its notebook work/adds.ipynb no longer exists: restore it, "
        "or delete this schedule"
    )
    shown = invoke(root, "show", made["id"]).stdout
    assert "problem    its notebook work/adds.ipynb no longer exists" in shown


def scheduler_process(root: Path, log: Path, *where: str) -> subprocess.Popen[bytes]:
    """``mlops-lab`` started with ``where`` (e.g. ``scheduler --root DIR``), in another folder."""
    env = {**os.environ, "PYTHONPATH": TREE}
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [*COMMAND, *where],
            cwd=root.parent,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while text not in (content := log.read_text()):
        assert process.poll() is None, content
        assert time.monotonic() < deadline, f"no {text!r} in: {content}"
        time.sleep(0.1)
    return content


def test_scheduler_exits_0_on_sigterm_with_its_log_on_stderr(root: Path, tmp_path: Path) -> None:
    """In a folder with no store yet it waits for one; SIGTERM ends that wait at once.
    ``--root`` may follow the command's name, as a service's command line writes it."""
    log = tmp_path / "scheduler.log"
    process = scheduler_process(root, log, "scheduler", "--root", str(root))
    try:
        wait_for(log, "mlops-lab: scheduler ", process, 60)  # its start, cold imports included
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert time.monotonic() - stopped_at < 5
    text = log.read_text()
    assert f"for {root}" in text and "INFO" in text
    assert "got SIGTERM, stopping" in text and text.rstrip().endswith("stopped")


@pytest.mark.kernel
def test_scheduler_fires_a_slot_into_an_execution_then_stops_on_sigterm(
    root: Path, tmp_path: Path
) -> None:
    """Every second: the running program claims a slot and queues its execution (the job
    runner it starts then runs it in a real kernel)."""
    made = create(root, "--cron", "* * * * * *", "--tz", "UTC", "--catch-up", "none")
    log = tmp_path / "scheduler.log"
    process = scheduler_process(root, log, "--root", str(root), "scheduler")
    try:
        wait_for(log, ": fired", process, 90)
        assert invoke(root, "pause", made["id"]).exit_code == 0  # one execution is enough
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert f"mlops-lab: schedule {made['id']} slot " in log.read_text()
    body = json.loads(invoke(root, "show", made["id"], "--json").stdout)
    fired = [s for s in body["slots"] if s["outcome"] == "fired"]
    assert fired and fired[-1]["execution_id"] in {e["id"] for e in body["executions"]}
