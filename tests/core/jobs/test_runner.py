"""Jobs end to end: the api queues, the runner claims, warm workers run real kernels
with real papermill, and MLflow gets one run per attempt (real SQLite stores)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.jobs import api
from mlops_lab.core.jobs.entities import Execution, ExecutionState, JobRequest
from mlops_lab.core.jobs.service import pid_path
from mlops_lab.core.mlflow import tags as run_tags
from tests.notebook_files import write_notebook

pytestmark = pytest.mark.kernel

State = ExecutionState
SECRET = "sk-live-0123456789abcdef"


def write(root: Path, name: str, parameters: str, *cells: str) -> str:
    write_notebook(root / name, *cells, parameters=parameters)
    return name


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project (and so one runner) for the module: each test uses its own notebook."""
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture
def settings(root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))  # job kernels import this tree
    return resolve_settings(root, environ={})


def run(settings: Settings, request: JobRequest, timeout: float = 120) -> Execution:
    [execution] = api.submit(settings, request).executions
    [done] = api.wait(settings, [execution.id], timeout=timeout)
    assert done.state.finished, done
    return done


def output_text(execution: Execution) -> str:
    assert execution.output_path is not None
    return Path(execution.output_path).read_text()


def test_a_job_runs_with_its_values_and_is_one_masked_mlflow_run(settings: Settings) -> None:
    name = write(
        settings.root,
        "typed.ipynb",
        'alpha = 0.5\ndepth = 3\napi_key = "default"',
        "print('alpha x2 =', alpha * 2, type(depth).__name__)",
        "import os\nprint('run', os.environ['MLFLOW_RUN_ID'], os.getcwd())\nprint(api_key)",
    )
    request = JobRequest(notebook=name, parameters={"alpha": 0.25, "api_key": SECRET})
    done = run(settings, request)
    assert done.state is State.SUCCEEDED, done.error
    assert done.parameters == {"alpha": 0.25, "api_key": "***"}
    assert (done.cells_done, done.cells_total) == (3, 3)  # the cells of the notebook as written
    text = output_text(done)
    assert "alpha x2 = 0.5 int" in text
    assert f"run {done.run_id} {settings.root}" in text
    assert SECRET not in text  # not in the injected cell, the output or the metadata
    log = api.read_log(settings, done.id)
    assert "alpha x2 = 0.5" in log.text and SECRET not in log.text and log.complete

    client = MlflowClient(settings.tracking_uri)
    assert done.run_id is not None
    mlflow_run = client.get_run(done.run_id)
    assert mlflow_run.info.status == "FINISHED"
    assert mlflow_run.data.params == {"alpha": "0.25", "api_key": "***"}
    assert mlflow_run.data.tags[run_tags.EXECUTION_ID] == done.id
    assert mlflow_run.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/typed.ipynb"
    artifacts = {a.path for a in client.list_artifacts(done.run_id, "notebook")}
    assert artifacts == {"notebook/typed.ipynb", "notebook/log.txt"}
    path, content = api.output_notebook(settings, done.id)
    assert path.startswith("typed") and SECRET not in json.dumps(content)


def test_a_tracked_notebook_logs_into_the_execution_run_with_a_child_per_fit(
    settings: Settings,
) -> None:
    name = write(
        settings.root,
        "tracked_job.ipynb",
        "C = 1.0",
        "%load_ext mlops_lab\n%mlops track",
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "X, y = load_iris(return_X_y=True)\n"
        "a = LogisticRegression(C=C, max_iter=500).fit(X, y)\n"
        "b = DecisionTreeClassifier(max_depth=2).fit(X, y)",
        "import mlflow\nmlflow.log_metric('accuracy', a.score(X, y))",
    )
    done = run(settings, JobRequest(notebook=name, parameters={"C": 0.5}))
    assert done.state is State.SUCCEEDED, done.error
    client = MlflowClient(settings.tracking_uri)
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    deadline = time.monotonic() + 60
    while True:  # the kernel's logging process finishes on its own after the kernel left
        runs = client.search_runs([experiment.experiment_id])
        if len(runs) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    top = [r for r in runs if run_tags.PARENT_RUN_ID not in r.data.tags]
    assert [r.info.run_id for r in top] == [done.run_id]  # one run, not a second one
    children = {r.info.run_name: r for r in runs if r not in top}
    assert set(children) == {"LogisticRegression-1", "DecisionTreeClassifier-1"}
    assert {r.data.tags[run_tags.PARENT_RUN_ID] for r in children.values()} == {done.run_id}
    execution_run = client.get_run(done.run_id)
    assert execution_run.data.params["C"] == "0.5"
    assert "accuracy" in execution_run.data.metrics
    # The output notebook (with outputs) is the run's notebook, not the saved file.
    assert execution_run.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/tracked_job.ipynb"


def test_no_variable_survives_from_one_execution_into_the_next(settings: Settings) -> None:
    first = write(settings.root, "sets.ipynb", "x = 0", "leak = 'from the first'")
    second = write(settings.root, "checks.ipynb", "x = 0", "assert 'leak' not in globals(), leak")
    for _ in range(2):  # two rounds: pooled kernels are used once
        assert run(settings, JobRequest(notebook=first)).state is State.SUCCEEDED
        done = run(settings, JobRequest(notebook=second))
        assert done.state is State.SUCCEEDED, done.error


def test_a_failing_cell_is_retried_then_fails_with_its_index_and_partial_outputs(
    settings: Settings,
) -> None:
    name = write(
        settings.root,
        "fails.ipynb",
        "n = 1",
        "print('before the failure')",
        "raise ValueError(f'boom {n}')",
        "print('never')",
    )
    done = run(settings, JobRequest(notebook=name, retries=1, retry_backoff=0.1))
    assert done.state is State.FAILED
    assert done.error is not None
    assert (done.error.cell_index, done.error.name) == (2, "ValueError")
    assert "boom 1" in done.error.message
    assert [(a.number, a.state) for a in done.attempts] == [(1, State.FAILED), (2, State.FAILED)]
    assert len({a.run_id for a in done.attempts}) == 2  # a run per attempt
    cells = json.loads(output_text(done))["cells"]
    printed = ["".join(o.get("text", "")) for c in cells[-3:] for o in c.get("outputs", [])]
    assert printed[0] == "before the failure\n"  # partial outputs are kept
    assert cells[-1].get("outputs") == []  # the cell after the failure never ran
    client = MlflowClient(settings.tracking_uri)
    assert done.run_id is not None
    failed = client.get_run(done.run_id)
    assert failed.info.status == "FAILED"
    assert "ValueError: boom 1" in failed.data.tags[run_tags.ERROR]


def test_cancel_interrupts_a_running_execution(settings: Settings) -> None:
    name = write(settings.root, "sleeps.ipynb", "t = 60", "import time\ntime.sleep(t)")
    [execution] = api.submit(settings, JobRequest(notebook=name)).executions
    running = wait_for(settings, execution.id, lambda e: e.current_cell is not None)
    assert running.state is State.RUNNING
    started = time.monotonic()
    api.cancel(settings, execution.id)
    [done] = api.wait(settings, [execution.id], timeout=30)
    assert done.state is State.CANCELLED
    assert time.monotonic() - started < 15
    assert done.run_id is not None
    assert MlflowClient(settings.tracking_uri).get_run(done.run_id).info.status == "KILLED"


def test_a_killed_worker_fails_its_execution_and_is_replaced(settings: Settings) -> None:
    name = write(settings.root, "long.ipynb", "t = 60", "import time\ntime.sleep(t)")
    [execution] = api.submit(settings, JobRequest(notebook=name)).executions
    wait_for(settings, execution.id, lambda e: e.current_cell is not None)
    runner = psutil.Process(int(pid_path(settings).read_text()))
    for worker in runner.children():  # the busy one is among them; idle ones are replaced too
        os.kill(worker.pid, signal.SIGKILL)
    [done] = api.wait(settings, [execution.id], timeout=30)
    assert done.state is State.FAILED
    assert done.error is not None and done.error.name == "WorkerDied"
    again = run(settings, JobRequest(notebook=write(settings.root, "after.ipynb", "x = 1")))
    assert again.state is State.SUCCEEDED, again.error


def test_a_sweep_runs_its_grid_under_one_run_and_names_the_best(settings: Settings) -> None:
    name = write(
        settings.root,
        "sweep.ipynb",
        "alpha = 1\nbeta = 'a'",
        "import mlflow\nmlflow.log_metric('score', alpha * (2 if beta == 'b' else 1))",
    )
    request = JobRequest(
        notebook=name,
        sweep={"alpha": [1, 3, 2], "beta": ["a", "b"]},
        sweep_metric="score",
        concurrency=2,
    )
    submission = api.submit(settings, request)
    assert submission.sweep is not None and len(submission.executions) == 6
    done = api.wait(settings, [e.id for e in submission.executions], timeout=180)
    assert {e.state for e in done} == {State.SUCCEEDED}
    sweep_id = submission.sweep.id
    sweep = wait_until(lambda: api.get_sweep(settings, sweep_id), lambda s: s.state.finished)
    assert sweep.state is State.SUCCEEDED and sweep.best_value == 6.0  # written together
    best = api.get_execution(settings, sweep.best_execution_id or "")
    assert best.parameters == {"alpha": 3, "beta": "b"}
    client = MlflowClient(settings.tracking_uri)
    assert sweep.run_id is not None
    parent = client.get_run(sweep.run_id)
    assert parent.info.status == "FINISHED" and parent.data.metrics["best_score"] == 6.0
    parents = {client.get_run(e.run_id or "").data.tags[run_tags.PARENT_RUN_ID] for e in done}
    assert parents == {sweep.run_id}


def wait_for(
    settings: Settings, execution_id: str, condition: Any, timeout: float = 60
) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        execution = api.get_execution(settings, execution_id)
        if condition(execution) or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


def wait_until(read: Any, condition: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if condition(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)
