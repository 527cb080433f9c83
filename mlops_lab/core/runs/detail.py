"""One run in full: lineage (datasets, notebook, git state), artifacts, notebook snapshot.

The REST ``/runs/{id}`` and ``/runs/{id}/notebook`` (the sidebar's run details) read it;
the tags it reads are those the tracking session writes (:mod:`mlops_lab.core.mlflow.tags`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mlflow.entities import Run
from pydantic import Field

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.mlflow.connection import client_for, mlflow_errors
from mlops_lab.core.mlflow.entities import RunSummary
from mlops_lab.core.runs.search import get_mlflow_run, summary_of

MAX_ARTIFACTS = 200


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    digest: str
    source_type: str | None
    source: str | None
    context: str | None
    profile: str | None
    schema: str | None


@dataclass(frozen=True)
class RunDetail(RunSummary):
    """A run's summary plus its lineage: data, notebook snapshot, git state, artifacts."""

    datasets: list[DatasetInfo]
    notebook_path: str | None
    notebook_artifact: str | None
    git_branch: str | None
    git_dirty: bool | None
    artifacts: Annotated[list[str], Field(description="Artifact file paths (at most 200).")]
    mlflow_url: Annotated[
        str | None, Field(description="This run in the MLflow UI, when configured.")
    ]


def _datasets(run: Run) -> list[DatasetInfo]:
    found = []
    for item in run.inputs.dataset_inputs if run.inputs else []:
        d = item.dataset
        context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), None)
        found.append(
            DatasetInfo(
                name=d.name,
                digest=d.digest,
                source_type=d.source_type or None,
                source=d.source or None,
                context=context,
                profile=d.profile or None,
                schema=d.schema or None,
            )
        )
    return found


def _artifacts(settings: Settings, run_id: str) -> list[str]:
    """Artifact file paths, breadth first, at most :data:`MAX_ARTIFACTS`."""
    client = client_for(settings)
    files: list[str] = []
    folders: list[str | None] = [None]
    with mlflow_errors(settings):
        while folders and len(files) < MAX_ARTIFACTS:
            for entry in client.list_artifacts(run_id, folders.pop(0)):
                (folders if entry.is_dir else files).append(entry.path)
    return sorted(files[:MAX_ARTIFACTS])


def get_run(settings: Settings, run_id: str) -> RunDetail:
    """Everything the run detail view shows; ``NotFound`` naming the run when unknown."""
    run = get_mlflow_run(settings, run_id)
    summary = summary_of(run)
    tags = summary.tags
    dirty = tags.get(run_tags.GIT_DIRTY)
    ui = settings.mlflow_ui_url
    return RunDetail(
        **vars(summary),
        datasets=_datasets(run),
        notebook_path=tags.get(run_tags.SOURCE_NAME),
        notebook_artifact=tags.get(run_tags.NOTEBOOK_ARTIFACT),
        git_branch=tags.get(run_tags.GIT_BRANCH),
        git_dirty=None if dirty is None else dirty.lower() == "true",
        artifacts=_artifacts(settings, run.info.run_id),
        mlflow_url=(
            f"{ui.rstrip('/')}/#/experiments/{summary.experiment_id}/runs/{summary.run_id}"
            if ui
            else None
        ),
    )


def get_notebook(settings: Settings, run_id: str) -> tuple[str, dict[str, Any]]:
    """The run's notebook snapshot: ``(artifact path, nbformat JSON)``.

    The path is the ``mlops.notebook.artifact`` tag, else the first ``notebook/*.ipynb``.

    Raises:
        NotFound: unknown run, or a run without a notebook snapshot.
    """
    run = get_mlflow_run(settings, run_id)
    path = run.data.tags.get(run_tags.NOTEBOOK_ARTIFACT)
    client = client_for(settings)
    if path is None:
        with mlflow_errors(settings):
            entries = client.list_artifacts(run_id, "notebook")
        path = next((e.path for e in entries if e.path.endswith(".ipynb")), None)
    if path is None:
        raise NotFound(f"Run '{run_id}' has no notebook snapshot (no notebook/*.ipynb artifact).")
    with tempfile.TemporaryDirectory(prefix="mlops-nb-") as folder:
        try:
            with mlflow_errors(settings):
                local = client.download_artifacts(run_id, path, folder)
            content = json.loads(Path(local).read_text(encoding="utf-8"))
        except (NotFound, FileNotFoundError) as exc:
            raise NotFound(
                f"Run '{run_id}' names notebook '{path}' but has no such artifact."
            ) from exc
        except ValueError as exc:
            raise InvalidInput(f"Notebook '{path}' of run '{run_id}' is not valid JSON.") from exc
    return path, content
