"""``%mlops job ...`` and ``%mlops jobs``: parsing in an in-process IPython, runs for real.

Every execution is a real papermill run in a real kernel through the real core; the
last test drives the magic from a notebook run in a kernel, as a user's cell would.
"""

from __future__ import annotations

import _thread
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill
import pytest
from IPython.core.interactiveshell import InteractiveShell

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.jobs import api
from tests.faces.job_notebooks import adds, fails, sleeps, write_notebook
from tests.faces.magics.kernels import outputs
from tests.faces.magics.shells import mlops, plain_shell

pytestmark = pytest.mark.kernel

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_LAB_ROOT", str(tmp_path))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


@pytest.fixture
def shell(root: Path) -> Iterator[InteractiveShell]:
    with plain_shell() as ipython:
        yield ipython


def executions(shell: InteractiveShell) -> list[dict]:
    frame = shell.run_line_magic("mlops", "jobs")
    return frame.to_dict("records")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("job run work/adds.ipynb -p oops", "Expected a parameter as NAME=VALUE, got 'oops'"),
        ("job run work/adds.ipynb -p alpha=abc", "alpha expects float, got 'abc'"),
        ("job run work/adds.ipynb --timeout -1", "timeout must be more than 0 seconds"),
        ("job run work/adds.ipynb --timeout soon", "argument --timeout: invalid float value"),
        ("job run work/missing.ipynb", "missing.ipynb"),
        ("job run", "This kernel does not know its notebook"),
        ("job", "the following arguments are required"),
        ("job show nosuchid", "nosuchid"),
    ],
)
def test_bad_input_is_one_line_and_queues_nothing(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    adds(root)
    out, err = mlops(shell, line, capsys)

    assert out == ""
    assert err.startswith("mlops: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert executions(shell) == []


def test_run_prints_what_it_queued_and_how_to_follow_it(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    adds(root)
    out, err = mlops(shell, 'job run work/adds.ipynb -p alpha=3 -p "name=a b"', capsys)

    assert err == ""
    queued, follow = out.splitlines()
    assert queued.startswith("mlops: queued ") and queued.endswith(
        "work/adds.ipynb  alpha=3.0 name=a b"
    )
    execution_id = queued.split()[2]
    assert follow.startswith(f"mlops: follow it with %mlops job show {execution_id[:8]}")

    out, err = mlops(shell, f"job show {execution_id[:8]}", capsys)
    assert f"execution  {execution_id}" in out and "notebook   work/adds.ipynb" in out

    (final,) = api.wait(resolve_settings(root), [execution_id], timeout=120)
    assert final.state.value == "SUCCEEDED"
    (row,) = executions(shell)
    assert row["id"] == execution_id and row["state"] == "SUCCEEDED" and row["cells"] == "3/3"
    assert row["run_id"] == final.run_id and row["error"] == ""
    out, err = mlops(shell, f"job logs {execution_id}", capsys)
    assert "alpha=3.0 name=a b" in out and "result 6.0" in out


def test_run_wait_without_widgets_prints_a_meter_then_the_error_cell(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    fails(root)
    out, err = mlops(shell, "job run work/fails.ipynb --wait", capsys)

    assert err == ""
    lines = out.split("\n")
    assert lines[0].startswith("mlops: queued ")
    assert "\r" in lines[1] and "cells" in lines[1]  # the meter rewrote its line in place
    assert " FAILED in " in lines[2] and "at cell 3: ValueError: alpha too small" in lines[2]
    assert "MLflow run " in lines[2]


def test_current_notebook_runs_once_jupyterlab_has_saved_it(
    root: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The frontend saves as the cell runs: the magic waits for that save (not 3 s)."""
    notebook = adds(root)
    os.utime(notebook, (time.time() - 60, time.time() - 60))  # saved a minute ago
    monkeypatch.setenv("JPY_SESSION_NAME", "work/adds.ipynb")
    saving = threading.Timer(0.5, lambda: notebook.touch())
    saving.start()

    began = time.monotonic()
    out, err = mlops(shell, "job run -p alpha=1", capsys)
    took = time.monotonic() - began

    assert err == ""
    saved, queued, _ = out.splitlines()
    assert saved.startswith("mlops: running adds.ipynb as saved at ") and saved[-8:].count(":") == 2
    assert "not saved" not in saved
    assert queued.endswith(" work/adds.ipynb  alpha=1.0")
    assert 0.4 < took < 2.5


def test_current_notebook_not_saved_says_which_version_runs(
    root: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notebook = adds(root)
    os.utime(notebook, (time.time() - 60, time.time() - 60))
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # an absolute session name

    began = time.monotonic()
    out, _ = mlops(shell, "job run", capsys)

    assert time.monotonic() - began >= 3
    assert "running adds.ipynb as saved at " in out
    assert "it was not saved when this cell ran" in out


def test_in_a_kernel_wait_shows_a_widget_and_jobs_a_dataframe(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adds(root)
    write_notebook(
        root,
        "work/driver.ipynb",
        "%load_ext mlops_lab",
        "%mlops job run adds.ipynb -p alpha=5 --wait",
        "%mlops jobs",
        parameters=None,
    )
    monkeypatch.setenv("JPY_SESSION_NAME", "work/driver.ipynb")  # as jupyter_server sets it
    ran = papermill.execute_notebook(
        str(root / "work" / "driver.ipynb"),
        str(root / "driver-out.ipynb"),
        cwd=str(root / "work"),  # "adds.ipynb" is the driver's neighbour
        progress_bar=False,
        shutdown_kernel="immediate",
        execution_timeout=240,  # a job that never ends fails the test instead of hanging it
    )

    wait_cell, jobs_cell = ran.cells[1], ran.cells[2]
    assert any(WIDGET in o.get("data", {}) for o in wait_cell.outputs)
    text = outputs(wait_cell, "stdout")
    assert "mlops: queued " in text and ": SUCCEEDED in " in text and "3/3 cells" in text
    (table,) = [o for o in jobs_cell.outputs if o.output_type == "execute_result"]
    assert "SUCCEEDED" in table.data["text/plain"] and "work/adds.ipynb" in table.data["text/plain"]
    assert "<table" in table.data["text/html"]
    nbformat.validate(ran)


def test_a_job_kernel_cannot_run_its_own_notebook_again(
    root: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its execution would queue another at every run, without end; the refusal does not
    wait for a save either (nobody saves a job's notebook)."""
    adds(root)
    monkeypatch.setenv("JPY_SESSION_NAME", str(root / "work" / "adds.ipynb"))  # as a job's kernel
    monkeypatch.setenv("MLOPS_LAB_EXECUTION_ID", "abc123")

    began = time.monotonic()
    for line in (
        "job run",
        "job run work/adds.ipynb -p alpha=2",
        f"job run {root}/work/adds.ipynb",
    ):
        out, err = mlops(shell, line, capsys)
        assert out == ""
        assert err.startswith("mlops: This kernel runs adds.ipynb as the job execution abc123")
    assert time.monotonic() - began < 2
    assert executions(shell) == []


def test_interrupting_the_wait_leaves_the_job_running_until_cancelled(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    sleeps(root)
    settings = resolve_settings(root)

    def interrupt_once_sleeping() -> None:
        """What a kernel interrupt does, once the job is in its sleeping cell."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page = api.list_executions(settings)
            if page.executions and page.executions[0].current_cell == 1:
                break
            time.sleep(0.2)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_sleeping, daemon=True).start()
    out, err = mlops(shell, "job run work/sleeps.ipynb -p alpha=60 --wait", capsys)

    execution_id = out.split()[2]
    assert err.startswith(
        f"mlops: stopped waiting; the execution goes on (%mlops job show {execution_id[:8]}"
    )
    (row,) = executions(shell)
    assert row["state"] == "RUNNING"

    out, err = mlops(shell, f"job cancel {execution_id[:8]}", capsys)
    assert err == "" and out.startswith(f"mlops: cancelling {execution_id} (")
    (final,) = api.wait(settings, [execution_id], timeout=60)
    assert final.state.value == "CANCELLED"
    out, err = mlops(shell, f"job cancel {execution_id}", capsys)
    assert (
        out == ""
        and err
        == f"mlops: Execution {execution_id} already ended (CANCELLED): nothing to cancel.\n"
    )
