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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.mlflow import search as run_search
from mlops_lab.core.mlflow.connection import NoStoreYet, mlflow_errors, reader_for
from mlops_lab.core.mlflow.entities import (
    ExperimentInfo,
    ExperimentPage,
    RunPage,
    RunSummary,
    column_keys,
    run_summary,
)

if TYPE_CHECKING:
    import pandas

MAX_RESULTS_LIMIT = 1000


MAX_ORDER_CLAUSES = 10
"""More sort keys than this is a mistake (and past 64 joins SQLite refuses the query)."""

INT64_MAX = 2**63 - 1


def list_experiments(
    settings: Settings,
    max_results: int = 100,
    page_token: str | None = None,
    name: str | None = None,
) -> ExperimentPage:
    """One page of active experiments, the most recently updated first.

    Args:
        name: keep experiments whose name contains this, ignoring case.
        page_token: ``next_page_token`` of the previous page of the same query.
    """
    _check_size(max_results)
    name = name.strip() if name and name.strip() else None
    fingerprint = _fingerprint("experiments", name, [])
    position = _decode_token(page_token, fingerprint)
    mlflow_token = position.get("m")
    if page_token and not isinstance(mlflow_token, str):
        raise _bad_token()
    pattern = None if name is None else "%" + name.replace("'", "''") + "%"
    try:
        client = reader_for(settings)
    except NoStoreYet:
        return ExperimentPage(experiments=[], next_page_token=None)  # nothing tracked yet
    with mlflow_errors(settings):
        page = client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY,
            max_results=max_results,
            filter_string=f"name ILIKE '{pattern}'" if pattern else None,
            order_by=["last_update_time DESC", "experiment_id DESC"],
            page_token=mlflow_token,
        )
    return ExperimentPage(
        experiments=[
            ExperimentInfo(
                experiment_id=str(e.experiment_id),
                name=e.name,
                lifecycle_stage=e.lifecycle_stage,
                creation_time=e.creation_time,
                last_update_time=e.last_update_time,
            )
            for e in page
        ],
        next_page_token=_encode_token(fingerprint, m=_text(page.token)) if page.token else None,
    )


def resolve_experiment(settings: Settings, experiment: str | None) -> str:
    """The id of an active experiment given by id or name.

    Raises:
        InvalidInput: ``experiment`` is empty.
        NotFound: no active experiment has that id or name.
    """
    if experiment is None or not str(experiment).strip():
        raise InvalidInput(
            "Choose an experiment: give its name or id (e.g. experiment=Default).",
            param="experiment",
        )
    experiment = str(experiment).strip()
    client = reader_for(settings)
    with mlflow_errors(settings):
        # No experiment name holds NUL (PostgreSQL text cannot); don't send one to the store.
        found = None if "\x00" in experiment else client.get_experiment_by_name(experiment)
        # Ids are 64-bit integers: a longer number can only be a name, and asking the
        # database for it would overflow its integer type.
        if found is None and experiment.isdigit() and int(experiment) <= INT64_MAX:
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
    """``"metrics.a DESC, params.b"`` -> clauses; commas inside backticks or quotes stay.

    Raises:
        InvalidInput: more than :data:`MAX_ORDER_CLAUSES` clauses.
    """
    if order_by is None:
        return []
    if isinstance(order_by, list):
        clauses = [c.strip() for c in order_by if c.strip()]
    else:
        parts = re.findall(r"(?:`[^`]*`|\"[^\"]*\"|'[^']*'|[^,])+", order_by)
        clauses = [p.strip() for p in parts if p.strip()]
    if len(clauses) > MAX_ORDER_CLAUSES:
        raise InvalidInput(
            f"order_by has {len(clauses)} clauses; at most {MAX_ORDER_CLAUSES} are allowed.",
            param="order_by",
        )
    return clauses


def _fingerprint(scope: str, filter_string: str | None, order_by: list[str]) -> str:
    raw = json.dumps([scope, filter_string or "", order_by])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode_token(fingerprint: str, **position: Any) -> str:
    body = json.dumps({"q": fingerprint, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode()


def _text(mlflow_token: str | bytes) -> str:
    """MLflow's stores return their page tokens as text or as bytes."""
    return mlflow_token.decode() if isinstance(mlflow_token, bytes) else mlflow_token


def _bad_token() -> InvalidInput:
    return InvalidInput(
        "Invalid page_token: pass the next_page_token of a previous page, or start again "
        "from the first page.",
        param="page_token",
    )


def _decode_token(token: str | None, fingerprint: str) -> dict[str, Any]:
    """The position a token carries; any token we did not write for this query is refused."""
    if not token:
        return {}
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise _bad_token() from None
    if not isinstance(body, dict) or not isinstance(body.get("q"), str):
        raise _bad_token()
    if body["q"] != fingerprint:
        raise InvalidInput(
            "This page_token belongs to another query (experiment, filter or order changed): "
            "start again from the first page.",
            param="page_token",
        )
    return dict(body)


def summary_of(run: Run) -> RunSummary:
    """The :class:`RunSummary` of a run MLflow's client returned."""
    info = run.info
    return run_summary(
        run_id=info.run_id,
        run_name=info.run_name,
        experiment_id=str(info.experiment_id),
        status=info.status,
        start_time=info.start_time,
        end_time=info.end_time,
        user=info.user_id,
        params=run.data.params,
        metrics=run.data.metrics,
        tags=run.data.tags,
    )


def _check_size(max_results: int) -> None:
    if not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidInput(
            f"max_results must be 1..{MAX_RESULTS_LIMIT}, got {max_results}.",
            param="max_results",
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

    Pages are keyset pages on SQL stores: a run logged between two requests neither
    repeats a row nor hides one on the next page.

    Args:
        experiment: id or name; required (searching every experiment is too expensive).
        filter_string: MLflow's search syntax, e.g. ``metrics.acc > 0.9 and params.lr = '0.1'``.
        order_by: MLflow order clauses separated by commas, e.g. ``metrics.acc DESC``.
            Runs without the metric sort last; ties go newest first, then by run id.
        max_results: 1..1000.
        page_token: ``next_page_token`` of the previous page of the same query.

    Raises:
        InvalidInput: bad filter or order (MLflow's message), bad size or token; ``param``
            names which.
        NotFound: unknown experiment.
    """
    _check_size(max_results)
    experiment_id = resolve_experiment(settings, experiment)
    clauses = split_order_by(order_by)
    filter_string = filter_string.strip() if filter_string and filter_string.strip() else None
    fingerprint = _fingerprint(experiment_id, filter_string, clauses)
    position = _decode_token(page_token, fingerprint)
    after = position.get("k")
    if page_token and not (
        isinstance(after, list) if "k" in position else isinstance(position.get("m"), str)
    ):
        raise _bad_token()
    with mlflow_errors(settings), _blame(filter_string):
        found = (
            None
            if "m" in position
            else run_search.select_run_ids(
                settings.tracking_uri,
                experiment_id,
                filter_string,
                clauses,
                limit=max_results + 1,
                after_values=after,
            )
        )
        if found is not None:
            shown = found[:max_results]
            runs = run_search.hydrate(settings.tracking_uri, [p.run_id for p in shown])
            more = len(found) > max_results
            token = _encode_token(fingerprint, k=shown[-1].sort_values) if more else None
        else:
            paged = reader_for(settings).search_runs(
                experiment_ids=[experiment_id],
                filter_string=filter_string or "",
                order_by=clauses or None,
                max_results=max_results,
                page_token=position.get("m"),
            )
            runs = [summary_of(r) for r in paged]
            token = _encode_token(fingerprint, m=_text(paged.token)) if paged.token else None
    param_keys, metric_keys = column_keys(runs)
    return RunPage(runs=runs, next_page_token=token, param_keys=param_keys, metric_keys=metric_keys)


@contextmanager
def _blame(filter_string: str | None) -> Iterator[None]:
    """Name the request parameter a parse error belongs to, so a form can show it in place."""
    try:
        yield
    except run_search.PositionMismatch:
        raise _bad_token() from None
    except MlflowException as exc:
        if exc.error_code != "INVALID_PARAMETER_VALUE":
            raise
        message = exc.message
        if "page token" in message.lower():
            raise _bad_token() from exc
        param = "order_by" if "order_by" in message else "filter" if filter_string else None
        raise InvalidInput(message, param=param) from exc


_RUN_ID_PREFIX = re.compile(r"[0-9a-f]{1,31}")


def resolve_run_id(settings: Settings, run_id: str) -> str:
    """The full id of the run ``run_id`` names, which may be a unique prefix of it.

    Faces print 8-character ids; every place that takes a run id accepts them back.

    Raises:
        InvalidInput: the prefix matches several runs (they are listed).
    """
    run_id = run_id.strip()
    if not _RUN_ID_PREFIX.fullmatch(run_id):
        return run_id  # a full id, or not an id at all: the lookup says which
    with mlflow_errors(settings):
        found = run_search.run_ids_with_prefix(settings.tracking_uri, run_id)
    if found is None or not found:
        return run_id
    if len(found) > 1:
        shown = ", ".join(f[:12] for f in found[:2]) + (", ..." if len(found) > 2 else "")
        raise InvalidInput(
            f"Run id '{run_id}' is the start of several runs ({shown}): give more characters.",
            param="run_id",
        )
    return found[0]


def get_mlflow_run(settings: Settings, run_id: str) -> Run:
    """A run by id or unique id prefix; ``NotFound`` naming it when there is none."""
    client = reader_for(settings)
    full_id = resolve_run_id(settings, run_id)
    try:
        with mlflow_errors(settings):
            return client.get_run(full_id)
    except NotFound as exc:
        where = mask_uri(settings.tracking_uri)
        raise NotFound(f"Run '{run_id}' was not found in {where}.") from exc
    except InvalidInput as exc:  # MLflow refuses a malformed id: say which parameter
        raise InvalidInput(exc.message, param="run_id") from exc


def default_experiment(settings: Settings) -> str:
    """The most recently updated active experiment, for callers that name none."""
    reader_for(settings)  # no store at all: say so, and how to start one
    experiments = list_experiments(settings, max_results=1).experiments
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
