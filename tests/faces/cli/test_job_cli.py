"""``mlops-lab job ...`` on real notebooks run by real kernels, against a temp root's stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.faces.cli import cli
from tests.faces.job_notebooks import adds, fails, sleeps, write_notebook

pytestmark = pytest.mark.kernel

COMMAND = [sys.executable, "-c", "from mlops_lab.faces.cli import main; main()"]
"""``mlops-lab`` as its console script runs it, from this tree."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def invoke(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "job", *args])


def listed(root: Path) -> list[dict]:
    result = invoke(root, "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_wait_succeeds_then_list_show_and_logs_find_it(root: Path) -> None:
    adds(root)
    result = invoke(
        root, "run", "work/adds.ipynb", "-p", "alpha=2", "-p", "name=hi there", "--wait"
    )

    assert result.exit_code == 0, result.output
    queued, final = result.stdout.splitlines()
    assert queued.startswith("queued ") and queued.endswith(
        "work/adds.ipynb  alpha=2.0 name=hi there"
    )
    execution_id = queued.split()[1]
    assert final.startswith(f"{execution_id[:8]} work/adds.ipynb: SUCCEEDED in ")
    assert " (3/3 cells); MLflow run " in final
    assert "3/3 cells" in result.stderr  # the meter, on stderr (no terminal: one line per change)
    run_id = final.rsplit(" ", 1)[1]
    run = MlflowClient(resolve_settings(root).tracking_uri).get_run(run_id)
    assert run.data.params["alpha"] == "2.0" and run.data.params["name"] == "hi there"

    (record,) = listed(root)
    assert record["id"] == execution_id and record["state"] == "SUCCEEDED"
    assert record["parameters"] == {"alpha": 2.0, "name": "hi there"}
    assert record["run_id"] == run_id and record["cells_done"] == 3

    table = invoke(root, "list")
    assert table.exit_code == 0, table.output
    header, row = table.stdout.splitlines()
    assert header.split() == [
        "id",
        "notebook",
        "state",
        "cells",
        "started",
        "duration",
        "run_id",
        "error",
    ]
    assert row.split()[:4] == [execution_id[:8], "work/adds.ipynb", "SUCCEEDED", "3/3"]

    shown = invoke(root, "show", execution_id[:6])  # a unique prefix is enough
    assert shown.exit_code == 0, shown.output
    assert f"execution  {execution_id}" in shown.stdout
    assert "state      SUCCEEDED" in shown.stdout and f"run        {run_id}" in shown.stdout
    assert json.loads(invoke(root, "show", execution_id, "--json").stdout)["id"] == execution_id

    log = invoke(root, "logs", execution_id)
    assert log.exit_code == 0, log.output
    assert "alpha=2.0 name=hi there" in log.stdout and "result 4.0" in log.stdout


def test_a_failing_cell_exits_3_naming_the_cell(root: Path) -> None:
    fails(root)
    result = invoke(root, "run", "work/fails.ipynb", "--wait")

    assert result.exit_code == 3, result.output
    final = result.stdout.splitlines()[-1]
    assert ": FAILED in " in final
    assert " at cell 3: ValueError: alpha too small; MLflow run " in final
    (record,) = listed(root)
    assert record["error"] == {"cell_index": 2, "name": "ValueError", "message": "alpha too small"}
    shown = invoke(root, "show", record["id"]).stdout
    assert "error      cell 3: ValueError: alpha too small" in shown
    assert f"output     {record['output_path']}" in shown and record["output_path"]


def test_a_timeout_exits_4(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps(root)
    monkeypatch.chdir(root / "work")  # a path from the current directory works too
    result = invoke(
        root, "run", "sleeps.ipynb", "-p", "alpha=60", "--timeout", "3", "--wait", "--json"
    )

    assert result.exit_code == 4, result.output
    (record,) = json.loads(result.stdout)  # the executions as they ended, nothing else
    assert record["notebook"] == "work/sleeps.ipynb" and record["state"] == "TIMED_OUT"
    assert record["error"]["cell_index"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "alpha=abc"], "alpha expects float, got 'abc'"),
        (["-p", "alhpa=1"], "unknown parameter 'alhpa'"),
        (["-p", "oops"], "Expected a parameter as NAME=VALUE, got 'oops'"),
        (["-p", "alpha=1", "-p", "alpha=2"], "given twice ('1' and '2')"),
        (["--timeout", "0"], "timeout must be more than 0 seconds"),
        (["--kernel", "pyhton3"], "no kernel named 'pyhton3'"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_queues_nothing(
    root: Path, args: list[str], message: str
) -> None:
    adds(root)
    result = invoke(root, "run", "work/adds.ipynb", *args, "--wait")

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listed(root) == []


@pytest.mark.parametrize(
    ("notebook", "message"),
    [("work/missing.ipynb", "missing.ipynb"), ("../../etc/passwd", "inside the Jupyter root")],
)
def test_a_notebook_missing_or_outside_the_root_is_refused(
    root: Path, notebook: str, message: str
) -> None:
    result = invoke(root, "run", notebook)

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert listed(root) == []


def test_unknown_execution_is_one_line(root: Path) -> None:
    for command in ("show", "logs", "cancel"):
        result = invoke(root, command, "nosuchid")
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and "nosuchid" in result.stderr


def test_a_sweep_runs_the_grid_and_names_the_best(root: Path) -> None:
    write_notebook(
        root,
        "work/scores.ipynb",
        "import mlflow\nmlflow.log_metric('score', -abs(alpha - 2))",
    )
    result = invoke(
        root, "run", "work/scores.ipynb", "-p", "alpha=1,2,4", "--metric", "score", "--wait"
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sweep ") and "3 executions" in lines[0]
    assert "best by max score" in lines[0]
    queued = {
        line.split()[1]: line.rsplit("=", 1)[1] for line in lines if line.startswith("queued")
    }
    assert sorted(queued.values()) == ["1.0", "2.0", "4.0"]
    assert sum("SUCCEEDED" in line for line in lines) == 3
    best = next(iter(k for k, v in queued.items() if v == "2.0"))
    assert lines[-1] == f"best of the sweep by max score: {best} (score=0.0)"


def test_cancel_while_waiting_exits_5_and_the_log_follows_to_the_end(root: Path) -> None:
    """The real ``mlops-lab`` command in its own process, cancelled from another."""
    sleeps(root)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}
    run = [*COMMAND, "--root", str(root), "job", "run", "work/sleeps.ipynb", "-p", "alpha=60"]
    waiting = subprocess.Popen(
        [*run, "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    started: list[subprocess.Popen[str]] = [waiting]
    try:
        deadline = time.monotonic() + 180  # a runner starting cold on a busy machine
        while not (running := [r for r in listed(root) if r["current_cell"] == 1]):
            assert waiting.poll() is None, waiting.communicate()
            assert time.monotonic() < deadline, "never reached the sleeping cell"
            time.sleep(0.2)
        (record,) = running
        following = subprocess.Popen(
            [*COMMAND, "--root", str(root), "job", "logs", record["id"], "--follow"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        started.append(following)
        time.sleep(1)
        assert following.poll() is None  # following a running execution's log

        cancelled = invoke(root, "cancel", record["id"][:8])
        assert cancelled.exit_code == 0, cancelled.output
        assert cancelled.stdout.startswith(f"cancelling {record['id']} (RUNNING)")
        out, err = waiting.communicate(timeout=60)
        followed, _ = following.communicate(timeout=30)  # it stops with the execution
    finally:
        for process in started:
            process.kill()
    assert waiting.returncode == 5, (out, err)
    assert ": CANCELLED in " in out
    assert following.returncode == 0
    assert "--- cell 2/3 ---" in followed and "CANCELLED" in followed
    assert "woke" not in followed
    again = invoke(root, "logs", record["id"], "--follow")  # ended: returns at once
    assert again.exit_code == 0 and again.stdout == followed
