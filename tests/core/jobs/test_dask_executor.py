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
from mlops_lab.core.jobs import api
from mlops_lab.core.jobs.entities import Execution, ExecutionState, JobRequest
from mlops_lab.core.jobs.service import runner_log
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
    write_notebook(settings.root / "on_dask.ipynb", UNDER_DASK, "print(alpha * 2)", parameters="alpha = 1")
    [execution] = api.submit(settings, JobRequest(notebook="on_dask.ipynb", parameters={"alpha": 21})).executions
    done = finished(settings, execution)
    assert done.state is State.SUCCEEDED, done.error
    assert done.run_id and (done.cells_done, done.cells_total) == (3, 3)
    assert done.output_path is not None
    text = Path(done.output_path).read_text()
    assert "under a dask worker: True" in text
    assert "42" in text
