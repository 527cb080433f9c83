"""Shared fixtures: a clean environment, and a Jupyter server with mlops-lab on a temp root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_lab.core.config import ROOT_ENV, SPECS

pytest_plugins = ["pytest_jupyter.jupyter_server"]

OUR_ENV = [ROOT_ENV, *(spec.env for spec in SPECS)]


# A job runner a test started leaves soon after its last job, even one a kernel started.
os.environ["MLOPS_LAB_RUNNER_IDLE_S"] = "20"


@pytest.fixture(autouse=True, scope="session")
def stop_job_runners() -> Iterator[None]:
    """Every job runner the tests started (through a submit) is stopped at the end; until
    then a runner serves every test on its root, and leaves after 20 s without work."""
    yield
    from mlops_lab.core.jobs.service import stop_started_runners

    stop_started_runners()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's MLFLOW_TRACKING_URI or a root left by a server."""
    for name in OUR_ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    os.environ.pop(ROOT_ENV, None)


@pytest.fixture
def jp_server_config(jp_root_dir: Path) -> dict:
    return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}
