"""``mlops-lab runs`` closes the runs of dead kernels before listing (no server needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.store import LabStore, LiveRun
from mlops_lab.core.tracking import orphans
from mlops_lab.faces.cli import cli


def test_runs_closes_a_dead_kernels_run_first(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    client = MlflowClient(settings.tracking_uri)
    experiment_id = client.create_experiment("nb.ipynb")
    run_id = client.create_run(experiment_id).info.run_id
    # A real process that held the run and died (killed, and waited for).
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = orphans.process_started(process.pid)
    process.kill()
    process.wait()
    LabStore(settings.store_url).add_live_run(
        LiveRun(
            run_id,
            settings.tracking_uri,
            experiment_id,
            "nb.ipynb",
            None,
            orphans.host_name(),
            process.pid,
            started,
            None,
            datetime.now(UTC),
        )
    )

    result = CliRunner().invoke(
        cli, ["--root", str(tmp_path), "runs", "--experiment", "nb.ipynb", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json.loads(result.stdout)] == ["KILLED"]
    assert f"run {run_id} of nb.ipynb closed as KILLED" in result.stderr
    assert client.get_run(run_id).info.status == "KILLED"


def test_runs_creates_no_store_where_nothing_was_tracked(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    MlflowClient(settings.tracking_uri).create_experiment("e")
    result = CliRunner().invoke(cli, ["--root", str(tmp_path), "runs", "--experiment", "e"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".mlops" / "lab.db").exists()
