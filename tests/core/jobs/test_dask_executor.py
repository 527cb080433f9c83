"""Jobs on a real Dask cluster: ``dask scheduler`` and ``dask worker`` processes on
127.0.0.1, the same runner, papermill and MLflow stores as the local pool, and a worker
killed with SIGKILL mid-execution."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.health import check_health
from mlops_lab.core.jobs import api
from mlops_lab.core.jobs.entities import Execution, ExecutionState, JobRequest
from mlops_lab.core.jobs.service import pid_path, runner_log
from mlops_lab.core.probes import StoreState
from tests.dask_cluster import DaskCluster, dask_cluster, free_port, kill_all
from tests.notebook_files import write_notebook

pytestmark = pytest.mark.kernel

State = ExecutionState

UNDER_DASK = (
    "import psutil\n"
    "print('under a dask worker:', any('dask' in ' '.join(p.cmdline()) "
    "for p in psutil.Process().parents()))"
)
"""A cell that says whether the kernel runs under a Dask worker (not the local pool)."""


def use_executor(root: Path, setting: str) -> None:
    (root / "pyproject.toml").write_text(f'[tool.mlops-lab]\nexecutor = "{setting}"\n')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, cluster: DaskCluster) -> Path:
    """One project (one runner) on the cluster for the module."""
    folder = tmp_path_factory.mktemp("project")
    use_executor(folder, cluster.setting)
    return folder


@pytest.fixture
def settings(root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))  # job kernels import this tree
    return resolve_settings(root, environ={})


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def finished(settings: Settings, execution: Execution, timeout: float = 120) -> Execution:
    [done] = api.wait(settings, [execution.id], timeout=timeout)
    assert done.state.finished, done
    return done


def test_a_job_runs_on_a_dask_worker_and_records_its_run(settings: Settings) -> None:
    assert settings.dask_scheduler is not None
    write_notebook(
        settings.root / "on_dask.ipynb", UNDER_DASK, "print(alpha * 2)", parameters="alpha = 1"
    )
    [execution] = api.submit(
        settings, JobRequest(notebook="on_dask.ipynb", parameters={"alpha": 21})
    ).executions
    done = finished(settings, execution)
    assert done.state is State.SUCCEEDED, done.error
    assert done.run_id and (done.cells_done, done.cells_total) == (3, 3)
    assert done.output_path is not None
    text = Path(done.output_path).read_text()
    assert "under a dask worker: True" in text
    assert "42" in text


def test_the_executor_probe_counts_the_workers_and_threads(settings: Settings) -> None:
    executor = check_health(settings, timeout=5, executor=True).executor
    assert executor is not None
    assert executor.state is StoreState.ANSWERED
    assert executor.message == "scheduler answered: 2 workers, 2 threads"


STARTS_THEN_SLEEPS = (
    "import os, pathlib, time\n"
    "starts = pathlib.Path(marker)\n"
    "first = not starts.exists()\n"
    "with starts.open('a') as f:\n"
    "    f.write(f'{os.getpid()}\\n')\n"
    "if first:\n"
    "    time.sleep(300)"
)
"""Writes its kernel's pid to ``marker`` each time it starts; the first start sleeps."""


def starts(marker: Path) -> list[int]:
    return [int(line) for line in marker.read_text().split()] if marker.exists() else []


def kill_the_worker_running(
    cluster: DaskCluster, kernel_pid: int
) -> tuple[str, list[psutil.Process]]:
    """SIGKILL the Dask worker whose kernel is ``kernel_pid``; its name and what it left."""
    ancestors = {p.pid for p in psutil.Process(kernel_pid).parents()}
    [name] = [n for n, p in cluster.workers.items() if p.pid in ancestors]
    left = cluster.kill_worker(name)
    return name, [*left, psutil.Process(kernel_pid)]


def test_a_worker_killed_mid_execution_fails_it_once_naming_the_worker(
    settings: Settings, cluster: DaskCluster, tmp_path: Path
) -> None:
    marker = tmp_path / "starts.txt"
    write_notebook(settings.root / "killed.ipynb", STARTS_THEN_SLEEPS, parameters='marker = ""')
    request = JobRequest(notebook="killed.ipynb", parameters={"marker": str(marker)})
    [execution] = api.submit(settings, request).executions
    wait_for(lambda: starts(marker), 90, "the notebook to start")
    name, left = kill_the_worker_running(cluster, starts(marker)[0])
    try:
        done = finished(settings, execution, timeout=60)
        assert done.state is State.FAILED
        assert done.error is not None and done.error.name == "WorkerDied"
        assert f"Dask worker {name} (tcp://127.0.0.1:" in done.error.message
        assert "died or left the cluster" in done.error.message
        time.sleep(3)  # time enough for Dask to start its copy on the other worker
        assert len(starts(marker)) == 1, "Dask ran the notebook a second time"
        [again] = api.wait(settings, [execution.id], timeout=1)
        assert again.state is State.FAILED and [a.number for a in again.attempts] == [1]
    finally:
        kill_all(left)
        cluster.add_worker(name)  # back to two workers for the next test
        cluster.wait_for_workers(2)


def test_a_worker_killed_while_no_other_is_free_is_noticed_by_the_runner(
    settings: Settings, cluster: DaskCluster, tmp_path: Path
) -> None:
    """Dask's copy has nowhere to run, so no copy says the attempt was taken: the runner
    sees the worker leave, takes the attempt and cancels the task itself."""
    write_notebook(settings.root / "busy.ipynb", STARTS_THEN_SLEEPS, parameters='marker = ""')
    busy_marker, lost_marker = tmp_path / "busy.txt", tmp_path / "lost.txt"
    [busy] = api.submit(
        settings, JobRequest(notebook="busy.ipynb", parameters={"marker": str(busy_marker)})
    ).executions
    wait_for(lambda: starts(busy_marker), 90, "the first notebook to start")
    [lost] = api.submit(
        settings, JobRequest(notebook="busy.ipynb", parameters={"marker": str(lost_marker)})
    ).executions
    wait_for(lambda: starts(lost_marker), 90, "the second notebook to start")
    name, left = kill_the_worker_running(cluster, starts(lost_marker)[0])
    try:
        done = finished(settings, lost, timeout=60)
        assert done.state is State.FAILED and done.error is not None
        assert done.error.name == "WorkerDied" and f"Dask worker {name} (" in done.error.message
        api.cancel(settings, busy.id)
        assert finished(settings, busy, timeout=60).state is State.CANCELLED
        time.sleep(2)  # the other worker is free now: Dask would start its copy there
        assert len(starts(lost_marker)) == 1, "Dask ran the notebook a second time"
    finally:
        kill_all(left)
        cluster.add_worker(name)
        cluster.wait_for_workers(2)


def test_a_worker_killed_mid_execution_retries_it_on_another_worker(
    settings: Settings, cluster: DaskCluster, tmp_path: Path
) -> None:
    marker = tmp_path / "starts.txt"
    write_notebook(settings.root / "retried.ipynb", STARTS_THEN_SLEEPS, parameters='marker = ""')
    request = JobRequest(
        notebook="retried.ipynb",
        parameters={"marker": str(marker)},
        retries=1,
        retry_backoff=0.5,
    )
    [execution] = api.submit(settings, request).executions
    wait_for(lambda: starts(marker), 90, "the notebook to start")
    name, left = kill_the_worker_running(cluster, starts(marker)[0])
    try:
        done = finished(settings, execution, timeout=90)
        assert done.state is State.SUCCEEDED, done.error
        first, second = done.attempts
        assert first.state is State.FAILED and first.error is not None
        assert first.error.name == "WorkerDied" and name in first.error.message
        assert second.state is State.SUCCEEDED
        assert len(starts(marker)) == 2  # attempt 1 once (not again by Dask), attempt 2 once
    finally:
        kill_all(left)


def test_a_scheduler_not_answering_leaves_jobs_queued_and_one_lost_fails_its_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))
    port = free_port()
    use_executor(tmp_path, f"dask://127.0.0.1:{port}")
    settings = resolve_settings(tmp_path, environ={})
    write_notebook(tmp_path / "waits.ipynb", "print('ran at last')", parameters="x = 1")
    [execution] = api.submit(settings, JobRequest(notebook="waits.ipynb")).executions
    log = runner_log(settings)
    wait_for(lambda: "does not answer" in log.read_text(), 30, "the runner to say why")
    [waiting] = api.wait(settings, [execution.id], timeout=1)
    assert waiting.state is State.QUEUED
    assert f"Dask scheduler tcp://127.0.0.1:{port} does not answer" in log.read_text()
    with dask_cluster(tmp_path / "dask", workers=1, port=port) as cluster:
        done = finished(settings, execution, timeout=90)
        assert done.state is State.SUCCEEDED, done.error
        assert "connected to the Dask scheduler" in log.read_text()

        # A scheduler lost mid-execution takes it along (its workers stop): failed once,
        # by whichever records it first: the runner, or the worker as it stops.
        marker = tmp_path / "starts.txt"
        write_notebook(tmp_path / "long.ipynb", STARTS_THEN_SLEEPS, parameters='marker = ""')
        request = JobRequest(notebook="long.ipynb", parameters={"marker": str(marker)})
        [long] = api.submit(settings, request).executions
        wait_for(lambda: starts(marker), 90, "the notebook to start")
        assert cluster.scheduler is not None
        left = psutil.Process(cluster.workers["w1"].pid).children(recursive=True)
        cluster.scheduler.kill()
        try:
            lost = finished(settings, long, timeout=60)
        finally:
            kill_all(left)
    assert lost.state is State.FAILED and lost.error is not None
    assert [a.number for a in lost.attempts] == [1]
    if lost.error.name == "WorkerDied":  # the runner saw the scheduler go first
        assert any(
            why in lost.error.message
            for why in (f"scheduler tcp://127.0.0.1:{port} was lost while it ran on w1", "w1 (")
        ), lost.error.message
    else:  # the stopping worker took its kernel down and recorded that first
        assert lost.error.name == "DeadKernelError", lost.error


def test_a_stopped_runner_cancels_what_it_runs_on_the_cluster(
    settings: Settings, tmp_path: Path
) -> None:
    """As with the local pool: not left RUNNING for the next runner to fail while the
    notebook still runs on a Dask worker."""
    marker = tmp_path / "starts.txt"
    write_notebook(settings.root / "stopped.ipynb", STARTS_THEN_SLEEPS, parameters='marker = ""')
    request = JobRequest(notebook="stopped.ipynb", parameters={"marker": str(marker)})
    [execution] = api.submit(settings, request).executions
    wait_for(lambda: starts(marker), 90, "the notebook to start")
    runner = psutil.Process(int(pid_path(settings).read_text()))
    runner.terminate()
    runner.wait(30)
    [done] = api.wait(settings, [execution.id], timeout=1)
    assert done.state is State.CANCELLED
    wait_for(lambda: not psutil.pid_exists(starts(marker)[0]), 30, "the kernel to stop")
