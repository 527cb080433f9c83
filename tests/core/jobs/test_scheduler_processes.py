"""Schedulers as real processes: a ``jupyter server`` and a ``mlops-lab scheduler`` on one
store, the standalone one SIGKILLed and restarted mid-way (the short version of
``benchmarks/bench_schedules.py fire|kill``); and a job runner killed with its workers,
whose execution a scheduler's heartbeat fails or retries instead of leaving it RUNNING."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from pathlib import Path

import pytest

from benchmarks.schedule_firing import run_firing
from mlops_lab.core.config import resolve_settings
from mlops_lab.core.jobs import api, schedules
from mlops_lab.core.jobs.entities import ExecutionState, JobRequest
from mlops_lab.core.jobs.scheduler import Scheduler
from mlops_lab.core.jobs.service import pid_path, stop_started_runners
from tests.notebook_files import write_notebook

pytestmark = pytest.mark.kernel


def test_two_schedulers_one_killed_and_restarted_fire_each_slot_once_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))
    report = run_firing(tmp_path, seconds=16, kill_every=8)
    assert report.kills >= 1
    assert report.slots >= 14
    assert (report.missed, report.duplicated, report.orphans) == (0, 0, 0), report.lines()
    assert report.fired + report.skipped == report.slots and report.failed == 0
    # Generous bounds for a shared 2-core CI machine; the benchmark quotes the real ones.
    assert statistics.median(report.fire_lags) < 0.5, report.lines()
    assert max(report.start_lags) < 3.0, report.lines()


def test_a_killed_runners_execution_is_retried_by_a_schedulers_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))
    write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(t)", parameters="t = 60")
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_HEARTBEAT_TIMEOUT": "5"})
    request = JobRequest(notebook="slow.ipynb", retries=1, retry_backoff=0.1)
    [execution] = api.submit(settings, request).executions
    deadline = time.monotonic() + 90
    while api.get_execution(settings, execution.id).current_cell is None:
        assert time.monotonic() < deadline, "the execution never started"
        time.sleep(0.2)
    runner = int(pid_path(settings).read_text())
    os.killpg(runner, signal.SIGKILL)  # the runner and its workers: nobody records the end
    stop_started_runners()
    assert api.get_execution(settings, execution.id).state is ExecutionState.RUNNING

    scheduler = Scheduler(settings, schedules.schedule_store(settings), runs_jobs=False)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 40
        while (found := api.get_execution(settings, execution.id)).state is ExecutionState.RUNNING:
            assert time.monotonic() < deadline, "the orphan was left RUNNING"
            time.sleep(0.5)
    finally:
        scheduler.stop()
        thread.join(10)
    assert found.state is ExecutionState.QUEUED and found.attempt == 2  # its retry
    first = found.attempts[0]
    assert first.state is ExecutionState.FAILED and first.error is not None
    assert first.error.name == "WorkerDied" and "its runner stopped" in first.error.message
