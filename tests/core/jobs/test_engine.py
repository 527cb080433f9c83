"""One attempt run for real: papermill, real kernels, faults injected for real.

Every test ends with no kernel process left (``no_kernel_left``), whatever the notebook
did to its kernel.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mlops_lab.core.jobs.engine import (
    AttemptLimits,
    AttemptOutcome,
    AttemptRequest,
    Progress,
    run_attempt,
)
from mlops_lab.core.jobs.entities import ExecutionState
from mlops_lab.core.jobs.kernels import KernelPool

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_kernel_left")]

WriteNotebook = Callable[..., Path]  # the ``write_notebook`` fixture (conftest.py)

FAST = AttemptLimits(heartbeat_grace=2.0, interrupt_grace=1.0, finish_grace=1.0, abandon_grace=5.0)


def request_for(
    notebook: Path,
    parameters: dict[str, Any] | None = None,
    *,
    secrets: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> AttemptRequest:
    out = notebook.parent.parent / "outputs"
    return AttemptRequest(
        execution_id="e1",
        attempt=1,
        notebook=notebook,
        parameters=parameters or {},
        secrets=secrets,
        kernel_name="python3",
        cwd=notebook.parent,
        output_path=out / f"{notebook.stem}-attempt1.ipynb",
        log_path=out / "log.txt",
        env=env if env is not None else {"MLFLOW_RUN_ID": "run-cold"},
        timeout=timeout,
    )


def run(
    request: AttemptRequest,
    *,
    cancelled: Any = lambda: False,
    pool: KernelPool | None = None,
    progress: list[Progress] | None = None,
) -> AttemptOutcome:
    seen = progress if progress is not None else []
    return run_attempt(
        request, on_progress=seen.append, cancelled=cancelled, pool=pool, limits=FAST
    )


def outputs(path: Path) -> list[str]:
    """The text each code cell of a saved notebook printed, in order."""
    nb = nbformat.read(path, as_version=4)
    return [
        "".join(o.get("text", "") for o in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


@pytest.fixture
def pool() -> Iterator[KernelPool]:
    kernels = KernelPool(1, ["python3"], root_env={"MLOPS_TEST_POOL": "yes"})
    assert kernels.wait_ready("python3", timeout=60)
    yield kernels
    kernels.shutdown()


def test_parameters_keep_their_types_and_progress_counts_submitted_cells(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "typed.ipynb",
        ["print([type(v).__name__ for v in (n, x, flag, name, items, conf, nothing)])"],
        parameters="n = 0\nx = 0.0\nflag = False\nname = ''\nitems = []\nconf = {}\nnothing = 1",
    )
    progress: list[Progress] = []
    params = {
        "n": 3,
        "x": 0.5,
        "flag": True,
        "name": "a'b",
        "items": [1, 2],
        "conf": {"k": 1},
        "nothing": None,
    }

    outcome = run(request_for(notebook, params), progress=progress)

    assert outcome.state == ExecutionState.SUCCEEDED and outcome.error is None
    assert (outcome.cells_done, outcome.cells_total) == (2, 2)
    assert outcome.first_cell_s is not None and outcome.kernel_start_s <= outcome.first_cell_s
    out = request_for(notebook).output_path
    printed = outputs(out)
    # the injected cell (index 1 in the output) printed nothing; the user's cell printed the types
    assert printed[-1].strip() == "['int', 'float', 'bool', 'str', 'list', 'dict', 'NoneType']"
    assert nbformat.read(out, as_version=4).metadata.papermill.parameters["n"] == 3
    # start and end of each submitted cell; the injected cell is not reported
    assert progress == [
        Progress(0, 2, 0),
        Progress(1, 2, None),
        Progress(1, 2, 1),
        Progress(2, 2, None),
    ]


def test_a_failing_cell_is_named_by_its_submitted_index_and_partial_outputs_are_kept(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "fails.ipynb",
        ["print('first ran')", "raise ValueError(f'bad value {alpha}')", "print('never')"],
        parameters="alpha = 1",
    )

    outcome = run(request_for(notebook, {"alpha": 42}))

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (
        outcome.error.cell_index == 2
    )  # parameters cell 0, print 1, raise 2: injected not counted
    assert (outcome.error.name, outcome.error.message) == ("ValueError", "bad value 42")
    assert (outcome.cells_done, outcome.cells_total) == (2, 4)
    saved = nbformat.read(request_for(notebook).output_path, as_version=4)
    assert outputs(request_for(notebook).output_path)[2] == "first ran\n"
    assert saved.cells[3].outputs[0].ename == "ValueError"
    assert saved.cells[4].outputs == []
    log = request_for(notebook).log_path.read_text()
    assert "--- cell 3/4 ---" in log and "ValueError: bad value 42" in log


def test_a_cell_exiting_the_kernel_fails_naming_that_cell(write_notebook: WriteNotebook) -> None:
    notebook = write_notebook("exits.ipynb", ["x = 1", "import os\nos._exit(1)", "y = 2"])

    outcome = run(request_for(notebook))

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (outcome.error.cell_index, outcome.error.name) == (1, "DeadKernelError")
    assert outcome.error.message == "the kernel died while running cell 2/3"
    saved = nbformat.read(request_for(notebook).output_path, as_version=4)
    assert saved.cells[1].metadata.papermill.status == "failed"


def test_a_kernel_killed_from_outside_fails_naming_the_busy_cell(
    write_notebook: WriteNotebook, tmp_path: Path
) -> None:
    pid_file = tmp_path / "kernel.pid"
    notebook = write_notebook(
        "killed.ipynb",
        [
            "x = 1",
            f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "time.sleep(60)",
        ],
    )

    def kill_when_busy() -> None:
        for _ in range(200):
            if pid_file.exists() and pid_file.read_text():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    began = time.monotonic()
    outcome = run(request_for(notebook))
    killer.join()

    assert time.monotonic() - began < 15
    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (outcome.error.cell_index, outcome.error.name) == (1, "DeadKernelError")


def test_a_cell_busy_past_the_timeout_is_interrupted_and_times_out(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook("slow.ipynb", ["x = 1", "import time\ntime.sleep(60)", "y = 2"])

    outcome = run(request_for(notebook, timeout=2.5))

    assert outcome.state == ExecutionState.TIMED_OUT
    assert outcome.error is not None and outcome.error.cell_index == 1
    assert outcome.error.message == "the 2.5 s timeout ran out while running cell 2/3"
    assert outcome.duration_s < 2.5 + FAST.interrupt_grace + 2
    # interrupted, not killed: the traceback of the interrupt is in the output notebook
    saved = nbformat.read(request_for(notebook).output_path, as_version=4)
    assert saved.cells[1].outputs[-1].ename == "KeyboardInterrupt"


def test_a_cell_ignoring_the_interrupt_is_killed_at_the_timeout(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "stubborn.ipynb",
        ["import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)"],
    )

    outcome = run(request_for(notebook, timeout=2))

    assert outcome.state == ExecutionState.TIMED_OUT
    assert outcome.error is not None and outcome.error.cell_index == 0
    assert outcome.duration_s < 2 + FAST.interrupt_grace + 3


def test_a_timeout_during_the_kernel_start_times_out_the_attempt(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook("never_starts.ipynb", ["x = 1"])

    # A start-up variable of its own makes the kernel start fresh, not forked: about
    # 0.35 s, where a forked kernel can be ready within the 0.05 s (CI saw 0.054 s).
    env = {"MLFLOW_RUN_ID": "run-cold", "PYTHONFAULTHANDLER": "1"}
    outcome = run(request_for(notebook, env=env, timeout=0.05))

    assert outcome.state == ExecutionState.TIMED_OUT
    assert outcome.error is not None and outcome.error.cell_index is None
    assert outcome.error.message == "the 0.05 s timeout ran out while the kernel was starting"
    assert outcome.duration_s < 0.05 + FAST.interrupt_grace + 2


def test_a_kernel_that_stops_answering_its_heartbeat_is_killed(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "frozen.ipynb", ["x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"]
    )

    outcome = run(request_for(notebook))

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (outcome.error.cell_index, outcome.error.name) == (1, "KernelUnresponsive")
    assert "stopped answering its heartbeat" in outcome.error.message
    assert outcome.duration_s < FAST.heartbeat_grace + 6


def test_a_kernel_busy_in_python_code_keeps_answering_its_heartbeat(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "busy.ipynb",
        ["import time\nstart = time.time()\nwhile time.time() - start < 3:\n    sum(range(1000))"],
    )

    outcome = run_attempt(
        request_for(notebook),
        on_progress=lambda _: None,
        cancelled=lambda: False,
        limits=AttemptLimits(heartbeat_grace=1.0),
    )

    assert outcome.state == ExecutionState.SUCCEEDED, outcome.error


def test_cancel_interrupts_the_busy_cell_and_runs_no_more(write_notebook: WriteNotebook) -> None:
    notebook = write_notebook(
        "cancelled.ipynb", ["x = 1", "import time\ntime.sleep(60)", "print('after')"]
    )
    progress: list[Progress] = []

    outcome = run(
        request_for(notebook),
        progress=progress,
        cancelled=lambda: any(p.current_cell == 1 for p in progress),
    )

    assert outcome.state == ExecutionState.CANCELLED
    assert outcome.error is not None and outcome.error.cell_index == 1
    assert outcome.duration_s < 6
    assert outputs(request_for(notebook).output_path)[2] == ""


def test_a_kernel_that_never_answers_after_the_last_cell_is_not_waited_on(
    write_notebook: WriteNotebook,
) -> None:
    # papermill issue 711: kernel_info after the last cell never returns
    notebook = write_notebook(
        "no_end.ipynb",
        [
            "print('done')",
            "async def never(*args):\n    pass\n"
            "get_ipython().kernel.shell_handlers['kernel_info_request'] = never",
        ],
    )

    outcome = run(request_for(notebook))

    assert outcome.state == ExecutionState.SUCCEEDED
    assert (outcome.cells_done, outcome.cells_total) == (2, 2)
    assert outcome.duration_s < 10


def test_a_secret_parameter_is_in_no_byte_of_the_output_notebook_or_the_log(
    write_notebook: WriteNotebook,
) -> None:
    secret = 'pa"ss\\wörd-7731'
    dsn = "postgresql://ana:dsnsecret99@db.example/prod"
    notebook = write_notebook(
        "secrets.ipynb",
        [
            "print('key is', api_key)\nprint(repr(api_key))\nprint(dsn)",
            "import sys\nprint(api_key[:6], file=sys.stderr, end='')\n"
            "print(api_key[6:], file=sys.stderr)",
            "raise RuntimeError('refused ' + api_key)",
        ],
        parameters="api_key = ''\ndsn = ''",
    )
    request = request_for(
        notebook, {"api_key": secret, "dsn": dsn}, secrets=(secret, "dsnsecret99")
    )

    outcome = run(request)

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None and outcome.error.message == "refused ***"
    raw = request.output_path.read_bytes()
    log = request.log_path.read_bytes()
    spellings = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], "ss\\wörd-7731"}
    for blob in (raw, log):
        for spelling in (*spellings, "dsnsecret99", "rd-7731"):
            assert spelling.encode() not in blob
    saved = nbformat.read(request.output_path, as_version=4)
    assert saved.metadata.papermill.parameters["api_key"] == "***"
    assert "postgresql://ana:***@db.example/prod" in saved.metadata.papermill.parameters["dsn"]
    assert b"key is ***" in log


def test_a_cold_kernel_gets_the_environment_and_folder(write_notebook: WriteNotebook) -> None:
    notebook = write_notebook(
        "env.ipynb", ["import os\nprint(os.environ['MLFLOW_RUN_ID'], os.getcwd())"]
    )

    outcome = run(request_for(notebook, env={"MLFLOW_RUN_ID": "run-cold"}))

    assert outcome.state == ExecutionState.SUCCEEDED and not outcome.pooled
    assert outputs(request_for(notebook).output_path) == [f"run-cold {notebook.parent}\n"]


def test_a_pooled_kernel_gets_the_environment_and_folder_before_the_first_cell(
    write_notebook: WriteNotebook, pool: KernelPool
) -> None:
    notebook = write_notebook(
        "env.ipynb",
        [
            "import os\nprint(os.environ['MLFLOW_RUN_ID'], os.getcwd(),"
            " os.environ['MLOPS_TEST_POOL'])",
            "import helper_next_to_the_notebook",
        ],
    )
    (notebook.parent / "helper_next_to_the_notebook.py").write_text("VALUE = 1\n")

    outcome = run(request_for(notebook, env={"MLFLOW_RUN_ID": "run-warm"}), pool=pool)

    assert outcome.state == ExecutionState.SUCCEEDED and outcome.pooled
    assert outputs(request_for(notebook).output_path) == [f"run-warm {notebook.parent} yes\n", ""]
    # the bootstrap was silent: no extra cell, output or execution count
    saved = nbformat.read(request_for(notebook).output_path, as_version=4)
    assert len(saved.cells) == 2 and saved.cells[0].execution_count == 1


def test_no_variable_survives_into_the_next_attempt(
    write_notebook: WriteNotebook, pool: KernelPool
) -> None:
    first = write_notebook("sets.ipynb", ["x = 1"])
    second = write_notebook("checks.ipynb", ["assert 'x' not in globals(), 'x leaked'"])

    assert run(request_for(first), pool=pool).state == ExecutionState.SUCCEEDED
    assert pool.wait_ready("python3", timeout=60)
    outcome = run(request_for(second), pool=pool)

    assert outcome.pooled and outcome.state == ExecutionState.SUCCEEDED, outcome.error


def test_a_pooled_kernel_reaches_the_first_cell_sooner_than_a_cold_one(
    write_notebook: WriteNotebook, pool: KernelPool
) -> None:
    notebook = write_notebook("trivial.ipynb", ["x = 1"])

    cold = run(request_for(notebook))
    warm = run(request_for(notebook), pool=pool)

    assert warm.pooled and not cold.pooled
    assert warm.first_cell_s is not None and cold.first_cell_s is not None
    assert warm.first_cell_s < cold.first_cell_s


def test_an_unknown_kernel_fails_the_attempt_listing_the_installed_ones(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook("any.ipynb", ["x = 1"])
    request = request_for(notebook)
    request = AttemptRequest(**{**request.__dict__, "kernel_name": "nope"})

    outcome = run(request)

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None and outcome.error.cell_index is None
    assert "'nope'" in outcome.error.message and "python3" in outcome.error.message


def test_a_failing_progress_callback_does_not_stop_the_run(write_notebook: WriteNotebook) -> None:
    notebook = write_notebook("progress.ipynb", ["x = 1", "y = 2"])

    def broken(_: Progress) -> None:
        raise RuntimeError("store down")

    outcome = run_attempt(
        request_for(notebook), on_progress=broken, cancelled=lambda: False, limits=FAST
    )

    assert outcome.state == ExecutionState.SUCCEEDED and outcome.cells_done == 2
