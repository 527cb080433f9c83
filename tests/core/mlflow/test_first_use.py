"""Several processes using a new project's MLflow store for the first time, at once."""

from __future__ import annotations

from pathlib import Path

from tests.first_use_race import assert_all_succeeded, leftovers_and_rows, run_at_once

# What ``%mlops track`` does first: the client, the experiment, a run, then MLflow's
# fluent API on that run (which opens MLflow's store by itself).
FIRST_RUN = """
import mlflow
from mlops_lab.core.config import resolve_settings
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
# --- go ---
settings = resolve_settings(root, environ={})
client = client_for(settings)
mlflow.set_tracking_uri(settings.tracking_uri)
experiment_id = ensure_experiment(settings, "race")
run = client.create_run(experiment_id)
with mlflow.start_run(run_id=run.info.run_id):
    mlflow.log_metric("index", index)
"""


def test_four_processes_create_the_store_once(tmp_path: Path) -> None:
    assert_all_succeeded(run_at_once(FIRST_RUN, tmp_path))
    database = tmp_path / "project" / ".mlops" / "mlflow.db"
    assert leftovers_and_rows(database, "latest_metrics") == ([], 4)
