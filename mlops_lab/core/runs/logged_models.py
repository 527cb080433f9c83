"""The models a run logged and the bytes each takes, for the run details.

MLflow 3 keeps a model logged in a run (``mlflow.sklearn.log_model(m, name="model")``,
autolog) as a *logged model*: its own id (``m-...``), its files under the experiment's
``models/<id>/artifacts/``, and the run as its ``source_run_id``; the run's own artifacts
no longer hold it. A model written by MLflow 2, or saved and copied in with
``log_artifacts``, is instead a folder among the run's artifacts holding an ``MLmodel``
file. The details list both kinds with their size, so a user sees what a run's models
cost in storage (and whether ``log-models = "none"`` is worth setting) before opening
the MLflow UI.

Sizes come from listing the models' folders, never from downloading them. Each logged
model costs a lookup of its artifact location and a listing per folder; against a remote
tracking server or object store each is a round trip, so the models are measured a few
at a time in threads rather than one after the other.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import Annotated

from mlflow.entities import LoggedModel, Run
from mlflow.tracking import MlflowClient
from pydantic import Field

from mlops_lab.core.config import Settings
from mlops_lab.core.mlflow.artifacts import Listing, total_size, walk_files
from mlops_lab.core.mlflow.connection import mlflow_errors, reader_for

MAX_MODELS = 100
"""Logged models listed per run; a run that logs more is a sweep better read in MLflow."""

MEASURING_THREADS = 8
"""Logged models measured at once: enough to hide round trips, few enough for a server."""

MODEL_FILE = "MLmodel"
"""The file that makes a folder of artifacts an MLflow model."""


@dataclass(frozen=True)
class LoggedModelInfo:
    """One model a run logged, and the bytes its files take in the artifact store."""

    name: Annotated[
        str,
        Field(
            description="The logged model's name, or the folder of a model among the run's "
            "artifacts."
        ),
    ]
    model_id: Annotated[
        str | None,
        Field(description="MLflow's logged model id (m-...); null for a folder model."),
    ]
    artifact_path: Annotated[
        str | None,
        Field(description="The model's folder among the run's artifacts; null for a logged model."),
    ]
    model_uri: Annotated[
        str, Field(description="What mlflow.pyfunc.load_model takes: models:/m-... or runs:/...")
    ]
    status: Annotated[
        str | None,
        Field(description="READY, PENDING or FAILED for a logged model; null for a folder."),
    ]
    size_bytes: Annotated[
        int | None,
        Field(
            description="Total size of the model's files; null when the artifact store does "
            "not report a file's size."
        ),
    ]
    file_count: Annotated[int, Field(description="How many files size_bytes adds up.")]


def run_models(settings: Settings, run: Run, run_files: Listing) -> list[LoggedModelInfo]:
    """The run's logged models (in the order they were logged), then its model folders.

    ``run_files`` is the run's artifact listing the details already made; model folders
    are found in it, and listed again only when that listing stopped early.
    """
    client = reader_for(settings)
    run_id = run.info.run_id
    with mlflow_errors(settings):
        found = _logged_models(client, run.info.experiment_id, run_id)
        measure = partial(_logged_model_info, client)
        if len(found) > 1:
            with ThreadPoolExecutor(min(MEASURING_THREADS, len(found))) as pool:
                logged = list(pool.map(measure, found))
        else:
            logged = [measure(model) for model in found]
        folders = [
            _folder_model_info(client, run_id, folder, run_files)
            for folder in _model_folders(run_files)
        ]
    return logged + folders


def _logged_models(client: MlflowClient, experiment_id: str, run_id: str) -> list[LoggedModel]:
    """The logged models whose source is the run: the newest :data:`MAX_MODELS` (MLflow
    lists newest first), put back in the order they were logged."""
    found: list[LoggedModel] = []
    token: str | None = None
    while len(found) < MAX_MODELS:
        page = client.search_logged_models(
            experiment_ids=[experiment_id],
            filter_string=f"source_run_id = '{run_id}'",
            max_results=MAX_MODELS,
            page_token=token,
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    found.sort(key=lambda m: (m.creation_timestamp or 0, m.name, m.model_id))
    return found[:MAX_MODELS]


def _logged_model_info(client: MlflowClient, model: LoggedModel) -> LoggedModelInfo:
    files = walk_files(partial(client.list_logged_model_artifacts, model.model_id)).files
    return LoggedModelInfo(
        name=model.name,
        model_id=model.model_id,
        artifact_path=None,
        model_uri=model.model_uri,
        status=str(model.status) if model.status is not None else None,
        size_bytes=total_size(files),
        file_count=len(files),
    )


def _model_folders(run_files: Listing) -> list[str]:
    """Folders holding an ``MLmodel`` file (``""`` for the artifact root), by path.

    A model's own subfolders (a nested ``MLmodel``, as a wrapped model writes) are part
    of it, not models of their own.
    """
    found = sorted(
        {_parent(f.path) for f in run_files.files if PurePosixPath(f.path).name == MODEL_FILE},
        key=lambda folder: (folder.count("/"), folder),
    )
    outer: list[str] = []
    for folder in found:
        if not any(_is_inside(folder, other) for other in outer):
            outer.append(folder)
    return sorted(outer)


def _parent(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def _is_inside(folder: str, other: str) -> bool:
    return other == "" or folder == other or folder.startswith(f"{other}/")


def _folder_model_info(
    client: MlflowClient, run_id: str, folder: str, run_files: Listing
) -> LoggedModelInfo:
    if run_files.complete:
        files = run_files.below(folder)
    else:  # the details' listing stopped early: this folder may hold more than it saw
        files = walk_files(partial(client.list_artifacts, run_id), folder or None).files
    return LoggedModelInfo(
        name=folder or "(artifact root)",
        model_id=None,
        artifact_path=folder,
        model_uri=f"runs:/{run_id}/{folder}",
        status=None,
        size_bytes=total_size(files),
        file_count=len(files),
    )
