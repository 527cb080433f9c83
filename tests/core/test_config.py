"""Settings precedence: argument > environment > pyproject > embedded default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_lab.core.config import Source, resolve_settings
from mlops_lab.core.errors import ConfigError


def write_pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(body)
    return path


def test_embedded_default_lives_under_root(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    home = tmp_path.resolve() / ".mlops"
    assert settings.home == home
    assert settings.tracking_uri == f"sqlite:///{home}/mlflow.db"
    assert settings.registry_uri == settings.tracking_uri
    assert settings.store_url == f"sqlite:///{home}/lab.db"
    assert settings.artifact_root == home / "artifacts"
    assert settings.mlflow_ui_url is None
    assert {s.source for s in settings.describe()} == {Source.DEFAULT}


def test_pyproject_beats_default(tmp_path: Path) -> None:
    pyproject = write_pyproject(
        tmp_path, '[tool.mlops-lab]\ntracking-uri = "http://127.0.0.1:5999"\nhome = "data"\n'
    )
    settings = resolve_settings(tmp_path, environ={})
    tracking = settings.values["tracking_uri"]
    assert (tracking.value, tracking.source, tracking.origin) == (
        "http://127.0.0.1:5999",
        Source.PYPROJECT,
        str(pyproject),
    )
    # A relative path is taken relative to the pyproject that says it.
    assert settings.home == tmp_path.resolve() / "data"
    assert settings.store_url == f"sqlite:///{tmp_path.resolve()}/data/lab.db"
    # The registry follows the tracking URI unless set on its own.
    assert settings.registry_uri == "http://127.0.0.1:5999"


def test_nearest_pyproject_above_root_is_used(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.mlops-lab]\nstore-url = "sqlite:////tmp/x.db"\n')
    nested = tmp_path / "notebooks" / "deep"
    nested.mkdir(parents=True)
    assert resolve_settings(nested, environ={}).store_url == "sqlite:////tmp/x.db"


def test_environment_beats_pyproject(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.mlops-lab]\ntracking-uri = "http://from-pyproject"\n')
    env = {"MLFLOW_TRACKING_URI": "http://from-env", "MLOPS_LAB_STORE_URL": "sqlite:////e.db"}
    settings = resolve_settings(tmp_path, environ=env)
    assert settings.values["tracking_uri"].source is Source.ENVIRONMENT
    assert settings.values["tracking_uri"].origin == "MLFLOW_TRACKING_URI"
    assert settings.tracking_uri == "http://from-env"
    assert settings.store_url == "sqlite:////e.db"


def test_argument_beats_environment(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": "http://from-env", "MLFLOW_REGISTRY_URI": "http://reg-env"}
    settings = resolve_settings(tmp_path, environ=env, tracking_uri="http://from-arg")
    assert settings.tracking_uri == "http://from-arg"
    assert settings.values["tracking_uri"].source is Source.ARGUMENT
    assert settings.registry_uri == "http://reg-env"


def test_empty_environment_value_counts_as_unset(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={"MLFLOW_TRACKING_URI": ""})
    assert settings.values["tracking_uri"].source is Source.DEFAULT


def test_root_comes_from_environment_for_kernels(tmp_path: Path) -> None:
    settings = resolve_settings(environ={"MLOPS_LAB_ROOT": str(tmp_path)})
    assert settings.root == tmp_path.resolve()


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, '[tool.mlops-lab]\ntracking_uri = "x"\n')
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ={})
    message = str(caught.value)
    assert "Unknown key 'tracking_uri'" in message
    assert str(pyproject) in message
    assert "Did you mean 'tracking-uri'?" in message


def test_unreadable_toml_names_file(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, "[tool.mlops-lab\nhome = \n")
    with pytest.raises(ConfigError, match="Cannot read") as caught:
        resolve_settings(tmp_path, environ={})
    assert str(pyproject) in str(caught.value)


def test_non_string_value_is_refused(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.mlops-lab]\nhome = 3\n")
    with pytest.raises(ConfigError, match=r"Key 'home'.*must be a non-empty string, got 3"):
        resolve_settings(tmp_path, environ={})


def test_password_is_masked_when_described(tmp_path: Path) -> None:
    env = {"MLOPS_LAB_STORE_URL": "postgresql://u:hunter2@db.example:5432/lab"}
    store = resolve_settings(tmp_path, environ=env).values["store_url"]
    assert store.value == env["MLOPS_LAB_STORE_URL"]
    assert store.masked_value == "postgresql://u:***@db.example:5432/lab"


def test_served_artifact_limit_defaults_to_50_mb(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    limit = settings.values["max_served_artifact_mb"]
    assert (limit.value, limit.source) == ("50", Source.DEFAULT)
    assert settings.max_served_artifact_bytes == 50_000_000


def test_served_artifact_limit_from_pyproject_number_or_environment(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.mlops-lab]\nmax-served-artifact-mb = 200\n")
    assert resolve_settings(tmp_path, environ={}).max_served_artifact_bytes == 200_000_000
    env = {"MLOPS_LAB_MAX_SERVED_ARTIFACT_MB": "0.5"}
    assert resolve_settings(tmp_path, environ=env).max_served_artifact_bytes == 500_000


@pytest.mark.parametrize("value", ["lots", "0", "-3", "nan", "inf"])
def test_bad_served_artifact_limit_names_the_variable(tmp_path: Path, value: str) -> None:
    env = {"MLOPS_LAB_MAX_SERVED_ARTIFACT_MB": value}
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ=env)
    assert str(caught.value).startswith(
        f"environment variable MLOPS_LAB_MAX_SERVED_ARTIFACT_MB must be a positive number of "
        f"megabytes, got '{value}'."
    )


@pytest.mark.parametrize("value", ["true", '"50MB"', "0"])
def test_bad_served_artifact_limit_names_the_file(tmp_path: Path, value: str) -> None:
    pyproject = write_pyproject(tmp_path, f"[tool.mlops-lab]\nmax-served-artifact-mb = {value}\n")
    with pytest.raises(ConfigError, match="max-served-artifact-mb") as caught:
        resolve_settings(tmp_path, environ={})
    assert str(pyproject) in str(caught.value)


def test_log_models_defaults_to_all(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    setting = settings.values["log_models"]
    assert (setting.value, setting.source) == ("all", Source.DEFAULT)
    assert settings.log_models is True


def test_log_models_none_from_pyproject_or_environment(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, '[tool.mlops-lab]\nlog-models = "none"\n')
    settings = resolve_settings(tmp_path, environ={})
    assert settings.log_models is False
    assert settings.values["log_models"].origin == str(pyproject)
    # The environment beats the pyproject, as for every setting.
    env = {"MLOPS_LAB_LOG_MODELS": "all"}
    assert resolve_settings(tmp_path, environ=env).log_models is True


@pytest.mark.parametrize("value", ["ALL", "some", "false"])
def test_bad_log_models_names_the_variable_and_the_choices(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ={"MLOPS_LAB_LOG_MODELS": value})
    assert str(caught.value) == (
        f"environment variable MLOPS_LAB_LOG_MODELS must be one of 'all', 'none', got "
        f"'{value}'. Set it to one of those, or remove it to use the default all."
    )


@pytest.mark.parametrize(("value", "got"), [('"few"', "'few'"), ("false", "False")])
def test_bad_log_models_names_the_file(tmp_path: Path, value: str, got: str) -> None:
    pyproject = write_pyproject(tmp_path, f"[tool.mlops-lab]\nlog-models = {value}\n")
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ={})
    message = str(caught.value)
    assert "log-models" in message and str(pyproject) in message
    assert f"one of 'all', 'none', got {got}" in message


def test_job_settings_default_to_the_cores_a_pool_of_two_and_a_limit_of_100(
    tmp_path: Path,
) -> None:
    settings = resolve_settings(tmp_path, environ={})
    assert settings.job_concurrency == (os.cpu_count() or 1)
    assert (settings.kernel_pool, settings.sweep_limit) == (2, 100)


def test_job_settings_read_toml_integers_and_the_environment(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.mlops-lab]\njob-concurrency = 3\nkernel-pool = 0\n")
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_SWEEP_LIMIT": "500"})
    assert (settings.job_concurrency, settings.kernel_pool, settings.sweep_limit) == (3, 0, 500)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "257"])
def test_a_bad_job_concurrency_says_the_range_and_where(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(tmp_path, environ={"MLOPS_LAB_JOB_CONCURRENCY": value})
    assert str(caught.value).startswith(
        "environment variable MLOPS_LAB_JOB_CONCURRENCY must be a whole number from 1 to 256, "
        f"got '{value}'."
    )
