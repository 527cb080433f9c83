"""MLflow access: experiments under our artifact root, failures as one clear error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.errors import ErrorCode, MlopsError, Unavailable
from mlops_lab.core.mlflow.connection import (
    PROBE_TIMEOUT,
    client_for,
    ensure_experiment,
    mlflow_errors,
)
from tests.stalling_server import closed_port_uri, stalling_server


def test_experiment_artifacts_live_under_artifact_root(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    experiment_id = ensure_experiment(settings, "notebooks/churn model.ipynb")
    assert ensure_experiment(settings, "notebooks/churn model.ipynb") == experiment_id
    location = client_for(settings).get_experiment(experiment_id).artifact_location
    assert (
        location == (tmp_path.resolve() / ".mlops/artifacts/notebooks_churn_model.ipynb").as_uri()
    )


def test_empty_experiment_name_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(MlopsError, match="Experiment name is empty") as caught:
        ensure_experiment(resolve_settings(tmp_path, environ={}), "  ")
    assert caught.value.code is ErrorCode.INVALID


def test_missing_run_is_not_found(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    with pytest.raises(MlopsError) as caught, mlflow_errors(settings):
        client_for(settings).get_run("0123456789abcdef0123456789abcdef")
    assert caught.value.code is ErrorCode.NOT_FOUND


def test_stalled_server_fails_within_probe_timeout(tmp_path: Path) -> None:
    with stalling_server() as uri:
        settings = resolve_settings(tmp_path, environ={}, tracking_uri=uri)
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            ensure_experiment(settings, "x")
        elapsed = time.monotonic() - started
    assert elapsed < PROBE_TIMEOUT + 1.5
    assert f"no answer within {PROBE_TIMEOUT:g} s" in caught.value.message
    assert uri in caught.value.message


def test_refused_server_names_masked_uri(tmp_path: Path) -> None:
    uri = closed_port_uri().replace("http://", "http://ana:hunter2@")
    settings = resolve_settings(tmp_path, environ={}, tracking_uri=uri)
    with pytest.raises(Unavailable) as caught:
        client_for(settings)
    assert "hunter2" not in caught.value.message
    assert "ana:***@127.0.0.1" in caught.value.message
    assert "does not answer" in caught.value.message
