"""``mlops-lab info``: every setting with its source, passwords masked, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_lab.faces.cli import cli
from tests.dask_cluster import free_port


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_info_prints_every_setting_with_source(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["--root", str(tmp_path), "info"],
        env={"MLOPS_LAB_STORE_URL": f"sqlite:///{tmp_path}/team.db"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    tracking = next(line for line in lines if line.strip().startswith("tracking_uri"))
    assert f"sqlite:///{tmp_path.resolve()}/.mlops/mlflow.db" in tracking
    assert "[default]" in tracking
    store = next(line for line in lines if line.strip().startswith("store_url"))
    assert "[environment (MLOPS_LAB_STORE_URL)]" in store
    log_models = next(line for line in lines if line.strip().startswith("log_models"))
    assert log_models.split() == ["log_models", "all", "[default]"]
    assert any(line.split()[:2] == ["answered", "lab"] for line in lines)
    assert any(line.split()[:2] == ["not_created", "tracking"] for line in lines)


def test_info_masks_passwords(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["--root", str(tmp_path), "info", "--json", "--timeout", "1"],
        env={"MLFLOW_TRACKING_URI": "http://u:hunter2@127.0.0.1:1"},
    )
    assert "hunter2" not in result.output
    body = json.loads(result.output)
    tracking = next(s for s in body["settings"] if s["name"] == "tracking_uri")
    assert tracking == {
        "name": "tracking_uri",
        "value": "http://u:***@127.0.0.1:1",
        "source": "environment",
        "origin": "MLFLOW_TRACKING_URI",
    }


def test_info_exits_2_when_a_store_is_down(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        ["--root", str(tmp_path), "info", "--timeout", "1"],
        env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:1"},
    )
    assert result.exit_code == 2
    assert any(line.split()[:2] == ["DOWN", "tracking"] for line in result.output.splitlines())


def test_info_json_exits_2_when_a_store_is_broken(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / ".mlops").mkdir()
    (tmp_path / ".mlops" / "mlflow.db").write_bytes(b"not sqlite at all" * 1000)
    result = runner.invoke(cli, ["--root", str(tmp_path), "info", "--json"])
    assert result.exit_code == 2, result.output
    stores = {s["name"]: s for s in json.loads(result.output)["stores"]}
    assert (stores["tracking"]["state"], stores["tracking"]["ok"]) == ("broken", False)
    assert (stores["lab"]["state"], stores["lab"]["ok"]) == ("answered", True)


def test_info_json_exits_0_when_stores_are_not_created_yet(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["--root", str(tmp_path), "info", "--json"])
    assert result.exit_code == 0, result.output
    states = {s["name"]: s["state"] for s in json.loads(result.output)["stores"]}
    assert states == {"tracking": "not_created", "registry": "not_created", "lab": "answered"}


def test_bad_pyproject_is_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mlops-lab]\nbogus = "1"\n')
    result = runner.invoke(cli, ["--root", str(tmp_path), "info"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Unknown key 'bogus' in [tool.mlops-lab] of ")
    assert "Traceback" not in result.output


def test_info_says_where_jobs_run(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--root", str(tmp_path), "info"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[lines.index("jobs run on:") + 1].split()[:2] == ["answered", "local:"]


def test_info_exits_2_when_the_dask_scheduler_does_not_answer(
    runner: CliRunner, tmp_path: Path
) -> None:
    url = f"dask://127.0.0.1:{free_port()}"
    result = runner.invoke(
        cli,
        ["--root", str(tmp_path), "info", "--json", "--timeout", "1.5"],
        env={"MLOPS_LAB_EXECUTOR": url},
    )
    assert result.exit_code == 2, result.output
    executor = json.loads(result.output)["executor"]
    assert (executor["uri"], executor["state"], executor["ok"]) == (url, "down", False)


def test_info_warns_when_schedules_have_no_scheduler_to_fire_them(
    runner: CliRunner, tmp_path: Path
) -> None:
    from mlops_lab.core.config import resolve_settings
    from mlops_lab.core.jobs import schedules
    from mlops_lab.core.jobs.entities import ScheduleRequest
    from mlops_lab.core.jobs.scheduler import Scheduler
    from tests.faces.job_notebooks import adds

    adds(tmp_path)
    settings = resolve_settings(tmp_path, environ={})
    request = ScheduleRequest(notebook="work/adds.ipynb", cron="0 3 * * *", timezone="UTC")
    made = schedules.create_schedule(settings, request)
    schedules.create_schedule(settings, request)
    schedules.pause_schedule(settings, made.id)
    result = runner.invoke(cli, ["--root", str(tmp_path), "info"], env={})
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1]
    assert line.startswith("schedules: 1 active, 1 paused; schedulers running: 0")
    assert "no slot fires until one runs" in line
    scheduler = Scheduler(settings, schedules.schedule_store(settings), runs_jobs=False)
    scheduler.store.beat(scheduler.id, "here", 1, scheduler.port)  # what run() does first
    try:
        result = runner.invoke(cli, ["--root", str(tmp_path), "info", "--json"], env={})
        assert json.loads(result.output)["scheduling"] == {
            "active": 1,
            "paused": 1,
            "schedulers": 1,
        }
    finally:
        scheduler.stop()
