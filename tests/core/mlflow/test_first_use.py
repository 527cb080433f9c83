"""Several processes using a new project's MLflow store for the first time, at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.first_use_race import run_at_once

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
    results = run_at_once(FIRST_RUN, tmp_path)
    failures = [r.stderr[-2000:] for r in results if r.returncode != 0]
    assert not failures, failures
    database = sqlite3.connect(tmp_path / "project" / ".mlops" / "mlflow.db")
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    metrics = database.execute("SELECT count(*) FROM latest_metrics").fetchone()[0]
    database.close()
    assert not [t for t in tables if t.startswith("_alembic_tmp")]
    assert metrics == 4
