"""Jupyter Server settings for the Galata tests: a throwaway root, no token, local only.

Before the server starts, the root gets an MLflow store at its embedded default
(``<root>/.mlops/mlflow.db``) holding the runs the Runs section tests read.

Never use this configuration outside tests: it removes the server's protections.
"""

import json
import os
import time
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # type: ignore[name-defined]  # noqa: F821

configure_jupyter_server(c)

# The test machines run as root; listen on the loopback interface only.
c.ServerApp.allow_root = True
c.ServerApp.ip = "127.0.0.1"

# Keep the tests independent of any mlops-lab settings in the caller's environment.
c.ServerApp.log_level = "INFO"
for name in list(os.environ):
    if name.startswith("MLOPS_LAB_") or name.startswith("MLFLOW_"):
        del os.environ[name]
# A (never contacted) MLflow UI, so the links to it are shown.
os.environ["MLOPS_LAB_MLFLOW_UI_URL"] = "http://127.0.0.1:5999"
# The job runner a test's submit starts leaves 20 s after its last job, not 30 minutes.
os.environ["MLOPS_LAB_RUNNER_IDLE_S"] = "20"

EXPERIMENT = "galata-runs"
RUNS = 60
BEST = 37  # the run with the highest accuracy
SNAPSHOT_RUN = "snapshot-run"
# A grid search: one notebook run with child runs (tag mlflow.parentRunId), kept in its
# own experiment so the counts the Runs section tests read do not change.
SWEEP_EXPERIMENT = "galata-sweep"
SWEEP_PARENT = "sweep-notebook"
SWEEP_CHILDREN = [
    ("brave-owl-1", 0.01, 3, 0.42),
    ("calm-fox-2", 0.1, 3, 0.35),
    ("dark-elk-3", 0.1, 5, 0.31),
]
# The child run whose details list a logged model of 46,231 bytes ("46.2 kB").
SWEEP_MODEL_RUN = "dark-elk-3"
# What per-fit tracking leaves: a notebook run, a child run per model fit, and under the
# grid search's child a grandchild run per candidate (the explorer's three levels).
GRID_EXPERIMENT = "galata-grid"
GRID_NOTEBOOK = "grid-notebook"
GRID_FOREST = "RandomForestClassifier-1"
GRID_SEARCH = "GridSearchCV-1"
GRID_CANDIDATES = [(0.1, 0.91), (1.0, 0.88), (10.0, 0.84)]  # (C, mean_test_score), best first


def _snapshot_notebook() -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "id": "intro",
                "cell_type": "markdown",
                "metadata": {},
                "source": "# Training snapshot\nThe notebook as it ran.",
            },
            {
                "id": "train",
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": "accuracy = 0.5 + 0.01 * 42\nprint(accuracy)",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "0.92\n"}],
            },
        ],
    }


def make_runs(root: Path) -> None:
    """60 runs with params and metrics, and one with a notebook snapshot and a dataset."""
    import mlflow
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    home = root / ".mlops"
    home.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    make_grid(client, home)
    make_sweep(client, home)
    experiment_id = client.create_experiment(
        EXPERIMENT, artifact_location=(home / "artifacts" / EXPERIMENT).as_uri()
    )
    base = int(time.time() * 1000) - 3_600_000
    kernels = ["linear", "rbf", "poly"]
    for i in range(RUNS):
        accuracy = 0.99 if i == BEST else round(0.6 + (i * 7 % 30) / 100, 4)
        start = base + i * 1000
        run = client.create_run(experiment_id, start_time=start, run_name=f"run-{i:02d}")
        client.log_batch(
            run.info.run_id,
            params=[Param("C", str([0.1, 1.0, 10.0][i % 3])), Param("kernel", kernels[i % 3])],
            metrics=[
                Metric("accuracy", accuracy, start, 0),
                Metric("loss", round(1 - accuracy, 4), start, 0),
                # A history over 4 steps (the newest runs): "metric over steps".
                *(
                    Metric("train_loss", round(1.0 - accuracy * step / 4, 4), start, step)
                    for step in range(4 if i >= RUNS - 5 else 0)
                ),
            ],
        )
        client.set_terminated(run.info.run_id, end_time=start + 500)

    start = base + RUNS * 1000
    run = client.create_run(
        experiment_id,
        start_time=start,
        run_name=SNAPSHOT_RUN,
        tags={
            "mlflow.source.name": "notebooks/train.ipynb",
            "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
            "mlflow.source.git.branch": "main",
            "mlops.git.dirty": "true",
            "mlops.notebook.artifact": "notebook/snap.ipynb",
        },
    )
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        params=[Param("C", "1.0"), Param("kernel", "rbf")],
        metrics=[Metric("accuracy", 0.92, start, 0), Metric("loss", 0.08, start, 0)],
        tags=[RunTag("team", "vision")],
    )
    client.log_text(run_id, json.dumps(_snapshot_notebook()), "notebook/snap.ipynb")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]})
    dataset = mlflow.data.from_pandas(frame, source="data/iris.csv", name="iris", targets="y")
    client.log_inputs(
        run_id,
        datasets=[
            DatasetInput(
                dataset._to_mlflow_entity(), tags=[InputTag("mlflow.data.context", "training")]
            )
        ],
    )
    client.set_terminated(run_id, end_time=start + 500)


def make_sweep(client: "MlflowClient", home: Path) -> None:  # noqa: F821
    """A notebook run with three child runs (random names, params alpha and depth, rmse)
    and one more notebook run, in their own experiment."""
    from mlflow.entities import Metric, Param

    experiment_id = client.create_experiment(
        SWEEP_EXPERIMENT, artifact_location=(home / "artifacts" / SWEEP_EXPERIMENT).as_uri()
    )
    base = int(time.time() * 1000) - 7_200_000
    source = {"mlflow.source.name": "notebooks/sweep.ipynb"}
    parent = client.create_run(experiment_id, start_time=base, run_name=SWEEP_PARENT, tags=source)
    parent_id = parent.info.run_id
    for i, (name, alpha, depth, rmse) in enumerate(SWEEP_CHILDREN):
        start = base + (i + 1) * 1000
        child = client.create_run(
            experiment_id,
            start_time=start,
            run_name=name,
            tags={**source, "mlflow.parentRunId": parent_id},
        )
        client.log_batch(
            child.info.run_id,
            params=[Param("alpha", str(alpha)), Param("depth", str(depth))],
            metrics=[Metric("rmse", rmse, start, 0), Metric("r2", round(1 - rmse, 4), start, 0)],
        )
        if name == SWEEP_MODEL_RUN:
            log_model_files(client, experiment_id, child.info.run_id, home)
        client.set_terminated(child.info.run_id, end_time=start + 500)
    client.log_batch(parent_id, metrics=[Metric("rmse", 0.31, base, 0)])
    client.set_terminated(parent_id, end_time=base + 5000)
    other = client.create_run(
        experiment_id, start_time=base + 10_000, run_name="baseline", tags=source
    )
    client.log_batch(
        other.info.run_id,
        params=[Param("alpha", "1.0"), Param("depth", "1")],
        metrics=[Metric("rmse", 0.5, base + 10_000, 0)],
    )
    client.set_terminated(other.info.run_id, end_time=base + 10_500)


def make_grid(client: "MlflowClient", home: Path) -> None:  # noqa: F821
    """A notebook run with two model runs, the grid search's holding three candidates,
    named and tagged as ``%mlops track`` names and tags them, in their own experiment."""
    from mlflow.entities import Metric, Param

    experiment_id = client.create_experiment(
        GRID_EXPERIMENT, artifact_location=(home / "artifacts" / GRID_EXPERIMENT).as_uri()
    )
    base = int(time.time() * 1000) - 10_800_000
    source = {"mlflow.source.name": "notebooks/grid.ipynb"}

    def run(name: str, start: int, parent: str | None, params: dict, metrics: dict) -> str:
        tags = {**source, **({"mlflow.parentRunId": parent} if parent else {})}
        created = client.create_run(experiment_id, start_time=start, run_name=name, tags=tags)
        run_id = created.info.run_id
        client.log_batch(
            run_id,
            params=[Param(k, str(v)) for k, v in params.items()],
            metrics=[Metric(k, v, start, 0) for k, v in metrics.items()],
        )
        client.set_terminated(run_id, end_time=start + 500)
        return run_id

    notebook = run(GRID_NOTEBOOK, base, None, {}, {})
    run(GRID_FOREST, base + 1000, notebook, {"n_estimators": 200}, {"training_score": 0.97})
    search = run(GRID_SEARCH, base + 2000, notebook, {"best_C": 0.1}, {"best_cv_score": 0.91})
    for position, (c_value, score) in enumerate(GRID_CANDIDATES, start=1):
        run(
            f"{GRID_SEARCH}-candidate-{position}",
            base + 2000,
            search,
            {"C": c_value},
            {"mean_test_score": score},
        )


def log_model_files(
    client: "MlflowClient",  # noqa: F821
    experiment_id: str,
    run_id: str,
    home: Path,
) -> None:
    """A logged model named ``model`` of known size (no estimator: the files are fixed)."""
    folder = home / "model-files"
    folder.mkdir(exist_ok=True)
    (folder / "MLmodel").write_bytes(b"flavors:\n  python_function: {}\n")
    (folder / "model.bin").write_bytes(b"\x01" * 46_200)
    model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    client.log_model_artifacts(model.model_id, str(folder))
    client.finalize_logged_model(model.model_id, "READY")


make_runs(Path(c.ServerApp.root_dir))
