"""The words both text faces use for executions, and the CLI's exit status per outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mlops_lab.core.jobs.entities import CellError, Execution, ExecutionState
from mlops_lab.faces.cli.job_commands import exit_code
from mlops_lab.faces.execution_text import (
    duration_text,
    final_line,
    progress_line,
    queued_line,
)

START = datetime(2026, 11, 23, 16, 0, 0, tzinfo=UTC)

EXECUTION = Execution(
    id="0123456789abcdef",
    job_id="job1",
    job_name="adds",
    notebook="work/adds.ipynb",
    parameters={"alpha": 0.5, "name": "a b", "api_key": "***", "layers": [1, 2]},
    kernel_name="python3",
    state=ExecutionState.SUCCEEDED,
    created_at=START,
    created_by="ana",
    run_id="r" * 32,
    cells_done=12,
    cells_total=12,
    started_at=START,
    finished_at=START + timedelta(seconds=4.25),
)


def test_duration_is_precise_while_short_and_readable_when_long() -> None:
    assert duration_text(None) == "-"
    assert duration_text(4.25) == "4.2 s"
    assert duration_text(185) == "3 min 05 s"
    assert duration_text(2 * 3600 + 7 * 60 + 10) == "2 h 07 min"


def test_lines_of_a_submit_and_an_end() -> None:
    assert queued_line(EXECUTION) == (
        "queued 0123456789abcdef  work/adds.ipynb  alpha=0.5 name=a b api_key=*** layers=[1, 2]"
    )
    assert final_line(EXECUTION) == (
        f"01234567 work/adds.ipynb: SUCCEEDED in 4.2 s (12/12 cells); MLflow run {'r' * 32}"
    )
    failed = replace(
        EXECUTION,
        state=ExecutionState.FAILED,
        attempt=2,
        max_attempts=2,
        cells_done=3,
        error=CellError(2, "ValueError", "alpha too small\nmore detail"),
    )
    assert final_line(failed) == (
        "01234567 work/adds.ipynb: FAILED in 4.2 s (3/12 cells, 2 attempts) at cell 3: "
        f"ValueError: alpha too small; MLflow run {'r' * 32}"
    )


def test_progress_of_one_execution_and_of_a_sweep() -> None:
    running = replace(EXECUTION, state=ExecutionState.RUNNING, cells_done=3, finished_at=None)
    queued = replace(EXECUTION, state=ExecutionState.QUEUED, cells_done=0, cells_total=0)
    assert progress_line([running], 2.0) == "RUNNING: 3/12 cells, 2.0 s"
    assert progress_line([queued], 0.5) == "QUEUED: starting, 0.5 s"
    assert progress_line([EXECUTION, running, queued], 9.0) == (
        "1 of 3 executions finished: 15/24 cells, 9.0 s"
    )


def test_exit_status_per_outcome_and_the_worst_of_a_sweep() -> None:
    def ended(state: ExecutionState) -> Execution:
        return replace(EXECUTION, state=state)

    assert exit_code([ended(ExecutionState.SUCCEEDED)]) == 0
    assert exit_code([ended(ExecutionState.FAILED)]) == 3
    assert exit_code([ended(ExecutionState.TIMED_OUT)]) == 4
    assert exit_code([ended(ExecutionState.CANCELLED)]) == 5
    sweep = [
        ended(s)
        for s in (ExecutionState.SUCCEEDED, ExecutionState.CANCELLED, ExecutionState.TIMED_OUT)
    ]
    assert exit_code(sweep) == 4
