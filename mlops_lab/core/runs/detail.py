"""One run in full: lineage (datasets, notebook, git state), artifacts, models, snapshot.

The REST ``/runs/{id}`` and ``/runs/{id}/notebook`` (the sidebar's run details) read it;
the tags it reads are those the tracking session writes (:mod:`mlops_lab.core.mlflow.tags`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from mlflow.entities import FileInfo, Run
from pydantic import Field

from mlops_lab.core.config import MEGABYTE, Settings
from mlops_lab.core.errors import InvalidInput, NotFound, TooLarge
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.mlflow.artifacts import Listing, walk_files
from mlops_lab.core.mlflow.connection import mlflow_errors, reader_for
from mlops_lab.core.mlflow.entities import RunSummary
from mlops_lab.core.runs.logged_models import LoggedModelInfo, run_models
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
    """A run's summary, lineage (data, notebook, git state), artifacts and models."""

    datasets: list[DatasetInfo]
    notebook_path: str | None
    notebook_artifact: str | None
    git_branch: str | None
    git_dirty: bool | None
    artifacts: Annotated[list[str], Field(description="Artifact file paths (at most 200).")]
    models: Annotated[
        list[LoggedModelInfo],
        Field(
            description="The models the run logged, with their size: its MLflow logged "
            "models in the order logged (the newest 100 at most), then folders of its "
            "artifacts holding an MLmodel file."
        ),
    ]
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


def _artifacts(settings: Settings, run_id: str) -> Listing:
    """The run's artifact files, breadth first, at most :data:`MAX_ARTIFACTS`."""
    client = reader_for(settings)
    with mlflow_errors(settings):
        return walk_files(partial(client.list_artifacts, run_id), limit=MAX_ARTIFACTS)


def get_run(settings: Settings, run_id: str) -> RunDetail:
    """Everything the run detail view shows; ``NotFound`` naming the run when unknown."""
    run = get_mlflow_run(settings, run_id)
    summary = summary_of(run)
    tags = summary.tags
    dirty = tags.get(run_tags.GIT_DIRTY)
    ui = settings.mlflow_ui_url
    artifacts = _artifacts(settings, run.info.run_id)
    return RunDetail(
        **vars(summary),
        datasets=_datasets(run),
        notebook_path=tags.get(run_tags.SOURCE_NAME),
        notebook_artifact=tags.get(run_tags.NOTEBOOK_ARTIFACT),
        git_branch=tags.get(run_tags.GIT_BRANCH),
        git_dirty=None if dirty is None else dirty.lower() == "true",
        artifacts=sorted(f.path for f in artifacts.files),
        models=run_models(settings, run, artifacts),
        mlflow_url=(
            f"{ui.rstrip('/')}/#/experiments/{summary.experiment_id}/runs/{summary.run_id}"
            if ui
            else None
        ),
    )


def get_notebook(settings: Settings, run_id: str) -> tuple[str, dict[str, Any]]:
    """The run's notebook snapshot: ``(artifact path, nbformat JSON)``.

    The path is the ``mlops.notebook.artifact`` tag, else the first ``notebook/*.ipynb``.
    The artifact's size is checked against ``max-served-artifact-mb`` before it is
    downloaded: a snapshot is read whole and sent as JSON, and a large one would hold
    the server's memory for as long as the request lasts.

    Raises:
        NotFound: unknown run, or a run without a notebook snapshot.
        InvalidInput: the tag is empty, names a folder or a path outside the run's
            artifacts, or the artifact is not JSON.
        TooLarge: the snapshot is larger than the limit.
    """
    run = get_mlflow_run(settings, run_id)
    run_id = run.info.run_id  # the full id, when a prefix was given
    tagged = run.data.tags.get(run_tags.NOTEBOOK_ARTIFACT)
    client = reader_for(settings)
    if tagged is None:
        with mlflow_errors(settings):
            entries = client.list_artifacts(run_id, "notebook")
        entry = next((e for e in entries if e.path.endswith(".ipynb") and not e.is_dir), None)
        if entry is None:
            raise NotFound(
                f"Run '{run_id}' has no notebook snapshot (no notebook/*.ipynb artifact)."
            )
    else:
        entry = _tagged_artifact(settings, run_id, tagged)
    _check_served_size(settings, run_id, entry)
    path = entry.path
    with tempfile.TemporaryDirectory(prefix="mlops-nb-") as folder:
        try:
            with mlflow_errors(settings):
                local = client.download_artifacts(run_id, path, folder)
            content = json.loads(Path(local).read_text(encoding="utf-8"))
        except (NotFound, FileNotFoundError) as exc:
            raise NotFound(
                f"Run '{run_id}' names notebook '{path}' but has no such artifact."
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Notebook '{path}' of run '{run_id}' is not valid JSON.") from exc
    if not isinstance(content, dict):
        raise InvalidInput(f"Notebook '{path}' of run '{run_id}' is not an nbformat notebook.")
    return path, content


def _tagged_artifact(settings: Settings, run_id: str, tagged: str) -> FileInfo:
    """The artifact the run's notebook tag names, found by listing its folder.

    Listing (not downloading) tells a file from a folder and gives its size; a tag that
    is empty or climbs out of the run's artifacts is refused before MLflow sees it.
    """
    tag = run_tags.NOTEBOOK_ARTIFACT
    parts = PurePosixPath(tagged.strip()).parts
    if not parts or tagged.startswith("/") or ".." in parts:
        raise InvalidInput(
            f"Run '{run_id}' has tag {tag}={tagged!r}, which is not a path inside the run's "
            f"artifacts. Set the tag to the snapshot's artifact path (e.g. notebook/train.ipynb) "
            "or delete it to use the first notebook/*.ipynb."
        )
    path = "/".join(parts)
    parent = "/".join(parts[:-1]) or None
    with mlflow_errors(settings):
        entries = reader_for(settings).list_artifacts(run_id, parent)
    entry = next((e for e in entries if e.path == path), None)
    if entry is None:
        raise NotFound(f"Run '{run_id}' names notebook '{path}' but has no such artifact.")
    if entry.is_dir:
        raise InvalidInput(
            f"Run '{run_id}' has tag {tag}={tagged!r}, which names a folder of artifacts, not "
            "a notebook file. Set the tag to the .ipynb file inside it, e.g. "
            f"{path}/<name>.ipynb."
        )
    return entry


def _check_served_size(settings: Settings, run_id: str, entry: FileInfo) -> None:
    limit = settings.max_served_artifact_bytes
    size = entry.file_size
    if size is None or size <= limit:
        return
    raise TooLarge(
        f"Notebook snapshot '{entry.path}' of run '{run_id}' is {_megabytes(size)}, "
        f"above the {_megabytes(limit)} the server sends to the browser. "
        f"Download it with `mlflow artifacts download -r {run_id} -a {entry.path}`, or raise "
        f"the limit with max-served-artifact-mb in [tool.mlops-lab] "
        f"(or MLOPS_LAB_MAX_SERVED_ARTIFACT_MB) and restart the server."
    )


def _megabytes(size: int) -> str:
    value = size / MEGABYTE
    return f"{value:,.1f} MB" if value >= 1 else f"{value:.2g} MB"
