"""Real MLflow runs for the runs tests: two tracked notebook runs and a bare one."""

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
