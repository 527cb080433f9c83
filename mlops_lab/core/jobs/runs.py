"""The MLflow side of jobs: one run per attempt of an execution, one parent run a sweep.

An attempt's run carries the job's lineage (source, user, git), the masked parameters as
params, and when it ends the masked output notebook and log as artifacts, so MLflow's UI
and the sidebar's run view show what ran. The notebook itself logs into the same run:
its kernel gets ``MLFLOW_RUN_ID``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.jobs.entities import CellError, Execution, ExecutionState, Job, Sweep
from mlops_lab.core.mlflow import tags as run_tags

RUN_STATUS = {
    ExecutionState.SUCCEEDED: "FINISHED",
    ExecutionState.FAILED: "FAILED",
    ExecutionState.TIMED_OUT: "FAILED",
    ExecutionState.CANCELLED: "KILLED",
}
SOURCE_TYPE = "JOB"


def _open_run(
    settings: Settings, job: Job, tags: dict[str, str], name: str, params: dict[str, str]
) -> tuple[str, str]:
    """A run of ``job`` in its experiment, with the job's lineage, ``tags`` and ``params``;
    its id and its experiment's id."""
    from mlops_lab.core.mlflow.connection import client_for, ensure_experiment, mlflow_errors
    from mlops_lab.core.tracking import fit_logging
    from mlops_lab.core.tracking.run_logging import start_tags

    client = client_for(settings)
    experiment_id = ensure_experiment(settings, job.experiment)
    lineage = start_tags(settings, settings.root / job.notebook)
    lineage[run_tags.SOURCE_TYPE] = SOURCE_TYPE
    lineage[run_tags.USER] = job.created_by
    lineage[run_tags.JOB_ID] = job.id
    with mlflow_errors(settings):
        run = client.create_run(experiment_id, tags={**lineage, **tags}, run_name=name)
        if params:
            fit_logging.log_params(client, run.info.run_id, params)
    return str(run.info.run_id), experiment_id


def open_attempt_run(
    settings: Settings,
    job: Job,
    execution: Execution,
    attempt: int,
    parent_run_id: str | None,
) -> tuple[str, str]:
    """Create the attempt's run; return its id and its experiment's id."""
    tags = {run_tags.EXECUTION_ID: execution.id, run_tags.ATTEMPT: str(attempt)}
    if execution.sweep_id:
        tags[run_tags.SWEEP_ID] = execution.sweep_id
    if execution.schedule_id and execution.slot_at:
        tags[run_tags.SCHEDULE_ID] = execution.schedule_id
        tags[run_tags.SLOT] = execution.slot_at.isoformat()
    if parent_run_id:
        tags[run_tags.PARENT_RUN_ID] = parent_run_id
    name = f"{Path(job.notebook).stem}-{execution.id}"
    if attempt > 1:
        name += f"-attempt{attempt}"
    return _open_run(settings, job, tags, name, _as_text(execution.parameters))


def close_attempt_run(
    settings: Settings,
    run_id: str,
    state: ExecutionState,
    error: CellError | None,
    output_notebook: Path,
    notebook_name: str,
    log: Path,
) -> None:
    """Log the output notebook and the log, say why it failed, and end the run."""
    from mlflow.entities import RunTag

    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    client = client_for(settings)
    tags = []
    with mlflow_errors(settings), tempfile.TemporaryDirectory(prefix="mlops-output-") as folder:
        # One upload of both files (the notebook under its own name, not the attempt's).
        if output_notebook.is_file():
            shutil.copyfile(output_notebook, Path(folder, notebook_name))
            tags.append(RunTag(run_tags.NOTEBOOK_ARTIFACT, f"notebook/{notebook_name}"))
        if log.is_file():
            shutil.copyfile(log, Path(folder, log.name))
        if any(Path(folder).iterdir()):
            client.log_artifacts(run_id, folder, "notebook")
        if error is not None:
            tags.append(RunTag(run_tags.ERROR, error.line()[:5000]))
        if tags:
            client.log_batch(run_id, tags=tags)
        client.set_terminated(run_id, RUN_STATUS[state])


def open_sweep_run(settings: Settings, job: Job, sweep: Sweep) -> str:
    """The parent run every execution of the sweep sits under."""
    grid = {f"sweep.{k}": ",".join(map(str, v)) for k, v in sweep.grid.items()}
    run_id, _ = _open_run(
        settings,
        job,
        {run_tags.SWEEP_ID: sweep.id},
        f"{Path(job.notebook).stem}-sweep-{sweep.id}",
        {**_as_text(job.parameters), **grid},
    )
    return run_id


def discard_run(settings: Settings, run_id: str) -> None:
    """Delete a run made for nothing (a sweep whose submit turned out to be a repeat)."""
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    with mlflow_errors(settings):
        client_for(settings).delete_run(run_id)


def close_sweep_run(
    settings: Settings, sweep: Sweep, executions: list[Execution]
) -> tuple[str | None, float | None]:
    """End the sweep's run with its best execution by ``sweep.metric``; return that one."""
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    client = client_for(settings)
    best: tuple[str | None, float | None, str | None] = (None, None, None)
    with mlflow_errors(settings):
        if sweep.metric:
            for execution in executions:
                if execution.state is not ExecutionState.SUCCEEDED or not execution.run_id:
                    continue
                value = client.get_run(execution.run_id).data.metrics.get(sweep.metric)
                if value is None:
                    continue
                better = best[1] is None or (
                    value > best[1] if sweep.goal.value == "max" else value < best[1]
                )
                if better:
                    best = (execution.id, float(value), execution.run_id)
        if sweep.run_id:
            if best[0] is not None and best[1] is not None and best[2] is not None:
                client.log_metric(sweep.run_id, f"best_{sweep.metric}", best[1])
                client.set_tag(sweep.run_id, run_tags.SWEEP_BEST_EXECUTION, best[0])
                client.set_tag(sweep.run_id, run_tags.SWEEP_BEST_RUN, best[2])
            client.set_terminated(sweep.run_id, RUN_STATUS[sweep.state])
    return best[0], best[1]


def _as_text(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else repr(v) for k, v in values.items()}
