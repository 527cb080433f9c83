"""Real MLflow runs for the runs tests: two tracked notebook runs and a bare one, and
models of known sizes to add to one of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

from mlops_lab.core.config import Settings
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment

NOTEBOOK = {
    "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []}],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@dataclass(frozen=True)
class Runs:
    experiment_id: str
    alpha: str  # tracked notebook run, lr 0.1, acc history 0.5 -> 0.8
    beta: str  # tracked notebook run, lr 0.2, acc history 0.6 -> 0.9
    bare: str  # no tags, no notebook, started first


def make_runs(settings: Settings, tmp: Path) -> Runs:
    client = client_for(settings)
    experiment_id = ensure_experiment(settings, "exp")
    bare = client.create_run(experiment_id, start_time=1_000, run_name="bare").info.run_id
    client.log_batch(bare, params=[Param("lr", "0.1")], metrics=[Metric("loss", 1.0, 1, 0)])
    ids = []
    for offset, (name, lr, accs) in enumerate(
        [("alpha", "0.1", [0.5, 0.8]), ("beta", "0.2", [0.6, 0.9])]
    ):
        run_id = client.create_run(
            experiment_id, start_time=2_000 + offset, run_name=name
        ).info.run_id
        client.log_batch(
            run_id,
            params=[Param("lr", lr), Param("epochs", "2")],
            metrics=[Metric("acc", a, 10 + i, i) for i, a in enumerate(accs)],
            tags=[
                RunTag("mlflow.source.name", "notebooks/train.ipynb"),
                RunTag("mlflow.source.git.commit", "abc123"),
                RunTag("mlflow.source.git.branch", "main"),
                RunTag("mlops.git.dirty", "true" if name == "alpha" else "false"),
                RunTag("mlops.notebook.artifact", "notebook/train.ipynb"),
            ],
        )
        notebook = tmp / f"{name}" / "train.ipynb"
        notebook.parent.mkdir(parents=True, exist_ok=True)
        notebook.write_text(json.dumps(NOTEBOOK))
        client.log_artifact(run_id, str(notebook), "notebook")
        dataset = Dataset(
            name="iris", digest="d1g3st", source_type="local", source='{"uri": "iris.csv"}'
        )
        client.log_inputs(
            run_id,
            datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])],
        )
        client.set_terminated(run_id)
        ids.append(run_id)
    return Runs(experiment_id, ids[0], ids[1], bare)


MODEL_FILES = {"MLmodel": b"flavors:\n  python_function: {}\n", "model.bin": b"\x01" * 46_200}
"""The files of each model :func:`add_models` logs: 46,231 bytes in 2 files."""


@dataclass(frozen=True)
class Models:
    logged_id: str  # an MLflow logged model named "classifier"
    folder: str  # a model folder among the run's artifacts


def add_models(settings: Settings, run_id: str, tmp: Path) -> Models:
    """A logged model and a model folder of :data:`MODEL_FILES`, logged to ``run_id``.

    Written through the client (no estimator, no environment inference), so the sizes
    are known and the files are the same on every machine.
    """
    client = client_for(settings)
    folder = tmp / f"model-{run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in MODEL_FILES.items():
        (folder / name).write_bytes(content)
    experiment_id = client.get_run(run_id).info.experiment_id
    model = client.create_logged_model(experiment_id, name="classifier", source_run_id=run_id)
    client.log_model_artifacts(model.model_id, str(folder))
    client.finalize_logged_model(model.model_id, "READY")
    client.log_artifacts(run_id, str(folder), "exported/model")
    return Models(model.model_id, "exported/model")
