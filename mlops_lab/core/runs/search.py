"""Reading tracked runs: experiments, paged run search, one run's lineage, its notebook.

Every face (``%mlops runs``, ``mlops-lab runs``, the sidebar) calls these functions, so
the same filter is valid or invalid everywhere with MLflow's own message. Paged search
uses the fast SQL path of :mod:`mlops_lab.core.mlflow.search` on SQL tracking stores and
``MlflowClient.search_runs`` otherwise; both return the same runs in the same order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.mlflow import search as run_search
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.mlflow.connection import client_for, mlflow_errors

if TYPE_CHECKING:
    import pandas

MAX_RESULTS_LIMIT = 1000


@dataclass(frozen=True)
class ExperimentInfo:
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None


@dataclass(frozen=True)
class RunSummary:
    """What a runs table shows: attributes, params, latest metrics and tags."""

    run_id: str
    run_name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    user: str | None
    source_name: str | None
    git_commit: str | None
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


@dataclass(frozen=True)
class RunPage:
    """One page of runs; ``param_keys``/``metric_keys`` are the keys seen on this page."""

    runs: list[RunSummary]
    next_page_token: str | None
    param_keys: list[str]
    metric_keys: list[str]


def list_experiments(settings: Settings) -> list[ExperimentInfo]:
    """Active experiments, the most recently updated first."""
    client = client_for(settings)
    experiments: list[Any] = []
    token = None
    with mlflow_errors(settings):
        while True:
            page = client.search_experiments(
                view_type=ViewType.ACTIVE_ONLY,
                max_results=MAX_RESULTS_LIMIT,
                order_by=["last_update_time DESC", "experiment_id DESC"],
                page_token=token,
            )
            experiments += page
            token = page.token
            if not token:
                break
    return [
        ExperimentInfo(
            experiment_id=str(e.experiment_id),
            name=e.name,
            lifecycle_stage=e.lifecycle_stage,
            creation_time=e.creation_time,
            last_update_time=e.last_update_time,
        )
        for e in experiments
    ]


def resolve_experiment(settings: Settings, experiment: str | None) -> str:
    """The id of an active experiment given by id or name.

    Raises:
        InvalidInput: ``experiment`` is empty.
        NotFound: no active experiment has that id or name.
    """
    if experiment is None or not str(experiment).strip():
        raise InvalidInput("Choose an experiment: give its name or id (e.g. experiment=Default).")
    experiment = str(experiment).strip()
    client = client_for(settings)
    with mlflow_errors(settings):
        found = client.get_experiment_by_name(experiment)
        if found is None and experiment.isdigit():
            try:
                found = client.get_experiment(experiment)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
    if found is None or found.lifecycle_stage != "active":
        raise NotFound(
            f"Experiment '{experiment}' was not found in {mask_uri(settings.tracking_uri)}."
        )
    return str(found.experiment_id)


def split_order_by(order_by: str | list[str] | None) -> list[str]:
    """``"metrics.a DESC, params.b"`` -> clauses; commas inside backticks or quotes stay."""
    if order_by is None:
        return []
    if isinstance(order_by, list):
        return [c.strip() for c in order_by if c.strip()]
    parts = re.findall(r"(?:`[^`]*`|\"[^\"]*\"|'[^']*'|[^,])+", order_by)
    return [p.strip() for p in parts if p.strip()]


def _fingerprint(experiment_id: str, filter_string: str | None, order_by: list[str]) -> str:
    raw = json.dumps([experiment_id, filter_string or "", order_by])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode_token(fingerprint: str, **position: Any) -> str:
    body = json.dumps({"q": fingerprint, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode()


def _decode_token(token: str | None, fingerprint: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        valid = isinstance(body, dict) and isinstance(body.get("q"), str)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInput("Invalid page_token: pass the next_page_token of a previous page.")
    if body["q"] != fingerprint:
        raise InvalidInput(
            "This page_token belongs to another query (experiment, filter or order changed): "
            "start again from the first page."
        )
    return dict(body)


def _summary(
    run_id: str,
    run_name: str | None,
    experiment_id: str,
    status: str,
    start_time: int | None,
    end_time: int | None,
    user: str | None,
    params: dict[str, str],
    metrics: dict[str, float],
    tags: dict[str, str],
) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        run_name=run_name or tags.get(run_tags.RUN_NAME),
        experiment_id=experiment_id,
        status=status,
        start_time=start_time,
        end_time=end_time,
        user=user or tags.get(run_tags.USER),
        source_name=tags.get(run_tags.SOURCE_NAME),
        git_commit=tags.get(run_tags.GIT_COMMIT),
        params=dict(params),
        metrics=dict(metrics),
        tags=dict(tags),
    )


def summary_of(run: Run) -> RunSummary:
    info = run.info
    return _summary(
        info.run_id,
        info.run_name,
        str(info.experiment_id),
        info.status,
        info.start_time,
        info.end_time,
        info.user_id,
        dict(run.data.params),
        dict(run.data.metrics),
        dict(run.data.tags),
    )


def search_runs(
    settings: Settings,
    experiment: str | None = None,
    filter_string: str | None = None,
    order_by: str | None = None,
    max_results: int = 50,
    page_token: str | None = None,
) -> RunPage:
    """One page of an experiment's active runs, newest first unless ``order_by`` says.

    Args:
        experiment: id or name; required (searching every experiment is too expensive).
        filter_string: MLflow's search syntax, e.g. ``metrics.acc > 0.9 and params.lr = '0.1'``.
        order_by: MLflow order clauses separated by commas, e.g. ``metrics.acc DESC``.
            Runs without the metric sort last; ties go newest first, then by run id.
        max_results: 1..1000.
        page_token: ``next_page_token`` of the previous page of the same query.

    Raises:
        InvalidInput: bad filter or order (MLflow's message), bad size or token.
        NotFound: unknown experiment.
    """
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidInput(f"max_results must be 1..{MAX_RESULTS_LIMIT}, got {max_results}.")
    experiment_id = resolve_experiment(settings, experiment)
    clauses = split_order_by(order_by)
    filter_string = filter_string.strip() if filter_string and filter_string.strip() else None
    fingerprint = _fingerprint(experiment_id, filter_string, clauses)
    position = _decode_token(page_token, fingerprint)
    with mlflow_errors(settings):
        offset = position.get("o", 0)
        ids = (
            None
            if "m" in position
            else run_search.select_run_ids(
                settings.tracking_uri,
                experiment_id,
                filter_string,
                clauses,
                offset=offset,
                limit=max_results + 1,
            )
        )
        if ids is not None:
            more = len(ids) > max_results
            rows = run_search.hydrate(settings.tracking_uri, ids[:max_results])
            runs = [_summary(**vars(r)) for r in rows]
            token = _encode_token(fingerprint, o=offset + max_results) if more else None
        else:
            paged = client_for(settings).search_runs(
                experiment_ids=[experiment_id],
                filter_string=filter_string or "",
                order_by=clauses or None,
                max_results=max_results,
                page_token=position.get("m"),
            )
            runs = [summary_of(r) for r in paged]
            mlflow_token = paged.token.decode() if isinstance(paged.token, bytes) else paged.token
            token = _encode_token(fingerprint, m=mlflow_token) if mlflow_token else None
    param_keys, metric_keys = column_keys(runs)
    return RunPage(runs=runs, next_page_token=token, param_keys=param_keys, metric_keys=metric_keys)


def column_keys(runs: list[RunSummary]) -> tuple[list[str], list[str]]:
    """The sorted param and metric keys any of ``runs`` has: a table's columns."""
    return (
        sorted({k for r in runs for k in r.params}),
        sorted({k for r in runs for k in r.metrics}),
    )


def get_mlflow_run(settings: Settings, run_id: str) -> Run:
    client = client_for(settings)
    try:
        with mlflow_errors(settings):
            return client.get_run(run_id)
    except NotFound as exc:
        where = mask_uri(settings.tracking_uri)
        raise NotFound(f"Run '{run_id}' was not found in {where}.") from exc


def default_experiment(settings: Settings) -> str:
    """The most recently updated active experiment, for callers that name none."""
    experiments = list_experiments(settings)
    if not experiments:
        raise NotFound(f"No experiment in {mask_uri(settings.tracking_uri)} yet: log a run first.")
    return experiments[0].experiment_id


def runs_frame(
    settings: Settings,
    experiment: str | None = None,
    filter_string: str | None = None,
    sort: str | None = None,
    limit: int = 100,
) -> pandas.DataFrame:
    """Runs as a DataFrame, newest first unless ``sort`` (an MLflow order clause) says.

    ``experiment=None`` means the most recently updated active experiment (faces that
    know the notebook's experiment pass it). Columns: ``run_id``, ``run_name``,
    ``status``, ``start_time`` (UTC datetime), then ``params.<k>`` and ``metrics.<k>``.
    """
    import pandas as pd

    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, got {limit}.")
    experiment_id = resolve_experiment(settings, experiment or default_experiment(settings))
    runs: list[RunSummary] = []
    token = None
    while len(runs) < limit:
        page = search_runs(
            settings,
            experiment_id,
            filter_string,
            sort,
            max_results=min(MAX_RESULTS_LIMIT, limit - len(runs)),
            page_token=token,
        )
        runs.extend(page.runs)
        token = page.next_page_token
        if token is None:
            break
    param_keys, metric_keys = column_keys(runs)  # across every page fetched
    records = [
        {
            "run_id": r.run_id,
            "run_name": r.run_name,
            "status": r.status,
            "start_time": r.start_time,
            **{f"params.{k}": r.params.get(k) for k in param_keys},
            **{f"metrics.{k}": r.metrics.get(k) for k in metric_keys},
        }
        for r in runs
    ]
    columns = ["run_id", "run_name", "status", "start_time"]
    columns += [f"params.{k}" for k in param_keys] + [f"metrics.{k}" for k in metric_keys]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["start_time"] = pd.to_datetime(frame["start_time"], unit="ms", utc=True)
    return frame
