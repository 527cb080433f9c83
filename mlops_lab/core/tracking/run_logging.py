"""The notebook run's MLflow writes: open, params, metrics, tags, close.

These run in the logging process (:mod:`~mlops_lab.core.tracking.logging_process`), called
with plain values the kernel sends, so the kernel never imports MLflow to track. The live-
run row that lets a dead kernel's run be closed is written here too, under this process's
pid: it outlives its kernel until it has logged all it was sent, and closes the run when
the kernel asked it to; a row whose process is gone is a run no one will close.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_lab.core.config import Settings
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.tracking import fit_logging, lineage

if TYPE_CHECKING:  # the kernel imports this module for Kernel: no store, no MLflow there
    from mlops_lab.core.tracking.orphans import LiveRunBeacon

_beacons: dict[str, LiveRunBeacon] = {}


@dataclass(frozen=True)
class OpenedRun:
    run_id: str
    experiment_id: str
    parent: fit_logging.ParentRun
    options: fit_logging.FitOptions
    adopted: bool = False
    """A job execution's run: its runner ends it, with the output notebook."""


@dataclass(frozen=True)
class Kernel:
    """The kernel the run belongs to, for its live-run row. The row's process is this
    logging process, not the kernel: it is what closes the run, and it lives until it
    has logged everything the kernel sent (a kernel that crashed included)."""

    kernel_id: str | None
    history: tuple[str, int] | None
    first_cell: int


def open_run(
    settings: Settings,
    experiment: str,
    notebook: Path | None,
    run_name: str | None,
    kernel: Kernel,
    params: Mapping[str, str],
    adopt_run: str | None = None,
) -> OpenedRun:
    """Create the notebook's run with its lineage tags and params; record it as live.

    ``adopt_run`` is a job execution's run (its kernel has ``MLFLOW_RUN_ID``): that run
    is used instead of a new one, and nothing records it as live, since the job's runner
    owns its end.
    """
    import mlflow

    from mlops_lab.core.mlflow.connection import client_for, ensure_experiment, mlflow_errors
    from mlops_lab.core.tracking import orphans

    client = client_for(settings)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.registry_uri)
    tags = start_tags(settings, notebook)
    if adopt_run is not None:
        return _adopted(settings, adopt_run, tags, params)
    experiment_id = ensure_experiment(settings, experiment)
    with mlflow_errors(settings):
        run = client.create_run(experiment_id, tags=tags, run_name=run_name)
        run_id = run.info.run_id
        if params:
            fit_logging.log_params(client, run_id, params)
    _beacons[run_id] = orphans.LiveRunBeacon.open(
        settings,
        run_id,
        experiment_id,
        experiment,
        notebook,
        kernel_id=kernel.kernel_id,
        history=kernel.history,
        first_cell=kernel.first_cell,
    )
    return OpenedRun(
        run_id,
        experiment_id,
        fit_logging.ParentRun(run_id, experiment_id, tags),
        _fit_options(settings),
    )


def _adopted(
    settings: Settings, run_id: str, tags: dict[str, str], params: Mapping[str, str]
) -> OpenedRun:
    """The execution's run, with the params it lacks (the runner logged the injected ones)."""
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    client = client_for(settings)
    with mlflow_errors(settings):
        run = client.get_run(run_id)
        fresh = {k: v for k, v in params.items() if k not in run.data.params}
        if fresh:
            fit_logging.log_params(client, run_id, fresh)
    experiment_id = str(run.info.experiment_id)
    lineage_tags = {**tags, **{k: v for k, v in run.data.tags.items() if k in tags}}
    return OpenedRun(
        run_id,
        experiment_id,
        fit_logging.ParentRun(run_id, experiment_id, lineage_tags),
        _fit_options(settings),
        adopted=True,
    )


def _fit_options(settings: Settings) -> fit_logging.FitOptions:
    installed = lineage.installed_versions()  # one scan of the distributions, not one a flavor
    requirements = {
        flavor: lineage.pinned(packages, installed)
        for flavor, packages in fit_logging.FLAVOR_PACKAGES.items()
    }
    return fit_logging.FitOptions(settings.log_models, requirements)


def start_tags(settings: Settings, path: Path | None) -> dict[str, str]:
    """Source, user, Python and git: what MLflow's UI shows as the run's lineage."""
    tags = {
        run_tags.SOURCE_TYPE: "NOTEBOOK",
        run_tags.USER: lineage.current_user(),
        run_tags.PYTHON_VERSION: lineage.python_version(),
    }
    if path is not None:
        tags[run_tags.SOURCE_NAME] = str(path)
    git = lineage.git_state(path.parent if path else settings.root)
    if git is not None:
        tags[run_tags.GIT_COMMIT] = git.commit
        tags[run_tags.GIT_DIRTY] = "true" if git.dirty else "false"
        if git.branch:
            tags[run_tags.GIT_BRANCH] = git.branch
    return tags


def log_params(settings: Settings, run_id: str, params: Mapping[str, str]) -> None:
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    with mlflow_errors(settings):
        fit_logging.log_params(client_for(settings), run_id, params)


def log_metrics(
    settings: Settings, run_id: str, metrics: Mapping[str, float], step: int, timestamp: int
) -> None:
    from mlflow.entities import Metric

    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    batch = [Metric(k, v, timestamp, step) for k, v in metrics.items()]
    with mlflow_errors(settings):
        client_for(settings).log_batch(run_id, metrics=batch)


def set_tags(settings: Settings, run_id: str, tags: Mapping[str, str]) -> None:
    from mlflow.entities import RunTag

    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    with mlflow_errors(settings):
        client_for(settings).log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])


def close_run(
    settings: Settings,
    run_id: str,
    status: str,
    folder: Path,
    artifacts: list[str],
    late_params: Mapping[str, str],
    terminate: bool = True,
) -> None:
    """Log the end-of-run files (written by the kernel under ``folder``) and close the run
    (unless ``terminate`` is off: a job execution's run is ended by its runner).

    Late params (a parameters cell run after ``track``) whose name the run already has
    are left out: MLflow refuses a changed value, and the refusal would lose the files.
    """
    from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

    try:
        with mlflow_errors(settings):
            client = client_for(settings)
            known = client.get_run(run_id).data.params
            fresh = {k: v for k, v in late_params.items() if k not in known}
            if fresh:
                fit_logging.log_params(client, run_id, fresh)
            for relative in artifacts:
                client.log_artifact(run_id, str(folder / relative), str(Path(relative).parent))
            snapshot = next((a for a in artifacts if a.endswith(".ipynb")), None)
            if snapshot is not None:
                client.set_tag(run_id, run_tags.NOTEBOOK_ARTIFACT, snapshot)
    finally:
        if terminate:
            with mlflow_errors(settings):
                end_time = int(time.time() * 1000)
                client_for(settings).set_terminated(run_id, status, end_time=end_time)
        beacon = _beacons.pop(run_id, None)
        if beacon is not None:  # only now: a crash before this still gets the run closed
            beacon.close()
