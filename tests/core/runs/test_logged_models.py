"""The models a run logged and their sizes, read from a real SQLite store and artifacts."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
from mlops_lab.core.runs import detail
from mlops_lab.core.runs.detail import get_run

# Naming the requirements keeps MLflow from inferring them in a subprocess (2.5 s a model).
REQUIREMENTS = ["scikit-learn"]
X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]]
Y = [0, 1, 0, 1]


def folder_bytes(folder: Path) -> tuple[int, int]:
    """The bytes and the number of files under ``folder``, as the disk says."""
    files = [Path(d, name) for d, _, names in os.walk(folder) for name in names]
    return sum(f.stat().st_size for f in files), len(files)


def local(uri: str) -> Path:
    return Path(urlparse(uri).path)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One store for the module: creating MLflow's tables takes about a second."""
    settings = resolve_settings(tmp_path_factory.mktemp("models"), environ={})
    client_for(settings)
    return settings


@pytest.fixture
def settings(store: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # mlflow.sklearn.log_model is fluent: it logs into the active run of this store.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    return store


def test_logged_models_and_a_model_folder_with_their_sizes(
    settings: Settings, tmp_path: Path
) -> None:
    experiment_id = ensure_experiment(settings, "models")
    saved = tmp_path / "saved-nb"
    mlflow.sklearn.save_model(GaussianNB().fit(X, Y), str(saved), pip_requirements=REQUIREMENTS)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        logistic = mlflow.sklearn.log_model(
            LogisticRegression().fit(X, Y), name="logistic", pip_requirements=REQUIREMENTS
        )
        nb = mlflow.sklearn.log_model(
            GaussianNB().fit(X, Y),
            name="nb",
            pip_requirements=REQUIREMENTS,
        )
        # A model among the run's artifacts, as MLflow 2 wrote them.
        mlflow.log_artifacts(str(saved), "legacy/nb")
        mlflow.log_text("not a model", "notes/readme.txt")
    run_id = run.info.run_id

    models = get_run(settings, run_id).models

    assert [(m.name, m.model_id, m.artifact_path) for m in models] == [
        ("logistic", logistic.model_id, None),
        ("nb", nb.model_id, None),
        ("legacy/nb", None, "legacy/nb"),
    ]
    client = MlflowClient(settings.tracking_uri)
    for model, info in zip(models[:2], (logistic, nb), strict=True):
        on_disk = local(client.get_logged_model(info.model_id).artifact_location)
        assert (model.size_bytes, model.file_count) == folder_bytes(on_disk)
        assert model.file_count >= 4  # MLmodel, the pickle, requirements, environments
        assert (model.model_uri, model.status) == (f"models:/{info.model_id}", "READY")
    legacy = models[2]
    run_artifacts = local(client.get_run(run_id).info.artifact_uri)
    assert (legacy.size_bytes, legacy.file_count) == folder_bytes(run_artifacts / "legacy/nb")
    assert (legacy.size_bytes, legacy.file_count) == folder_bytes(saved)
    assert (legacy.model_uri, legacy.status) == (f"runs:/{run_id}/legacy/nb", None)
    # The two logged models differ, so each was measured on its own files.
    assert models[0].size_bytes != models[1].size_bytes


def test_model_folder_is_measured_whole_when_the_artifact_list_is_capped(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment_id = ensure_experiment(settings, "capped")
    model = tmp_path / "model"
    (model / "data" / "inner").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "data" / "weights.bin").write_bytes(b"\0" * 12_345)
    (model / "data" / "inner" / "MLmodel").write_text("a wrapped model, part of the outer one\n")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        for i in range(3):
            mlflow.log_text("x" * i, f"a{i}.txt")
        mlflow.log_artifacts(str(model), "model")
    whole = get_run(settings, run.info.run_id)
    monkeypatch.setattr(detail, "MAX_ARTIFACTS", 4)
    capped = get_run(settings, run.info.run_id)

    assert len(whole.artifacts) == 6 and len(capped.artifacts) == 4
    assert "model/data/inner/MLmodel" not in capped.artifacts
    for found in (whole, capped):
        # The nested MLmodel belongs to the outer model: one model, every file counted.
        [only] = found.models
        assert (only.name, only.artifact_path) == ("model", "model")
        assert (only.size_bytes, only.file_count) == folder_bytes(model)


def test_run_without_models_has_none(settings: Settings) -> None:
    experiment_id = ensure_experiment(settings, "plain")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("hello", "notes/hello.txt")
    assert get_run(settings, run.info.run_id).models == []


def test_models_of_another_run_are_not_listed(settings: Settings) -> None:
    experiment_id = ensure_experiment(settings, "two runs")
    with mlflow.start_run(experiment_id=experiment_id):
        mlflow.sklearn.log_model(
            LogisticRegression().fit(X, Y), name="theirs", pip_requirements=REQUIREMENTS
        )
    with mlflow.start_run(experiment_id=experiment_id) as mine:
        mlflow.sklearn.log_model(
            LogisticRegression().fit(X, Y), name="mine", pip_requirements=REQUIREMENTS
        )
    assert [m.name for m in get_run(settings, mine.info.run_id).models] == ["mine"]
