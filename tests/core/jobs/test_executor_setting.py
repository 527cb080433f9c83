"""The ``executor`` setting: ``local`` or ``dask://host:port``, validated where it is
written, and a Dask executor refused with the extra to install when Dask is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.errors import ConfigError, Unavailable
from mlops_lab.core.health import check_health
from mlops_lab.core.jobs.executors import require_executor
from mlops_lab.core.probes import StoreState
from tests.dask_cluster import free_port


def test_the_executor_is_local_by_default(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    assert (settings.executor, settings.dask_scheduler) == ("local", None)


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("dask://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        ("dask://scheduler.cluster.local:9000", "tcp://scheduler.cluster.local:9000"),
        ("dask://[::1]:8786", "tcp://[::1]:8786"),
    ],
)
def test_a_dask_executor_names_its_scheduler(tmp_path: Path, value: str, address: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool.mlops-lab]\nexecutor = "{value}"\n')
    settings = resolve_settings(tmp_path, environ={})
    assert settings.dask_scheduler == address
    assert settings.values["executor"].source.value == "pyproject"


@pytest.mark.parametrize(
    "value",
    ["dask", "dask://host", "dask://:8786", "dask://host:port", "tcp://host:8786", "Local"],
)
def test_a_bad_executor_names_the_file_and_key(tmp_path: Path, value: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.mlops-lab]\nexecutor = "{value}"\n')
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ={})
    assert str(caught.value).startswith(
        f"key 'executor' in [tool.mlops-lab] of {pyproject} must be 'local' or "
        f"'dask://host:port' (a Dask scheduler, e.g. dask://127.0.0.1:8786), got '{value}'."
    )


def test_a_bad_executor_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^environment variable MLOPS_LAB_EXECUTOR must be"):
        resolve_settings(tmp_path, environ={"MLOPS_LAB_EXECUTOR": "dask://host:99999"})


def test_without_dask_installed_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import` sees when missing
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_EXECUTOR": "dask://127.0.0.1:1"})
    with pytest.raises(Unavailable) as caught:
        require_executor(settings)
    assert "pip install 'mlops-lab[cluster]'" in str(caught.value)
    assert "executor = 'dask://127.0.0.1:1' needs Dask distributed" in str(caught.value)
    executor = check_health(settings, timeout=2, executor=True).executor
    assert executor is not None and executor.state is StoreState.DOWN
    assert "mlops-lab[cluster]" in executor.message
    require_executor(resolve_settings(tmp_path, environ={}))  # local needs nothing


def test_a_scheduler_that_does_not_answer_is_down_within_the_timeout(tmp_path: Path) -> None:
    url = f"dask://127.0.0.1:{free_port()}"
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_EXECUTOR": url})
    report = check_health(settings, timeout=1.5, executor=True)
    assert report.executor is not None and report.executor.state is StoreState.DOWN
    assert report.executor.uri == url
    assert not report.ok
    assert check_health(settings, timeout=1.5).executor is None  # /health leaves it out
