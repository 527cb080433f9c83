"""The fast paged run query: one SQL statement over MLflow's own tables.

Why it exists: on SQLite, ``MlflowClient.search_runs`` ordered by a metric joins a
``latest_metrics`` subquery whose key is a *bound parameter*; SQLite materialises it and
scans it once per run, so the first page of a 20,000-run experiment takes ~18 s. Here the
metric, param and tag keys are rendered as SQL literals by the dialect (never by string
concatenation), which lets the database use the ``(key, run_uuid)`` primary keys, and only
the page's run ids are selected; :func:`hydrate` then loads those few runs in 4 batched
queries.

Semantics follow ``mlflow.store.tracking.sqlalchemy_store`` (``_search_runs``,
``_get_sqlalchemy_filter_clauses`` and ``_get_orderby_clauses``) so both paths return the
same runs in the same order:

- filters are parsed by MLflow's own ``SearchUtils.parse_search_filter`` (its syntax, its
  error messages) and compared with ``SearchUtils.get_sql_comparison_func``;
- ``run_name`` filters match the ``mlflow.runName`` tag, ``run_name`` ordering the
  ``runs.name`` column, as MLflow does;
- a metric stored as NaN never satisfies a comparison except ``!=``;
- ordering by a metric puts real values first (ascending or descending), then NaN, then
  runs without the metric; ordering by a param, tag or attribute puts missing values last;
- then ``start_time DESC`` (unless ordered by start time already), then ``run_uuid``.

Anything this module does not translate (dataset filters, ``RLIKE`` on SQLite, MySQL's
binary collation tricks, MSSQL) makes :func:`select_run_ids` return ``None`` and the
caller falls back to ``MlflowClient.search_runs``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchUtils

FAST_DIALECTS = {"sqlite", "postgresql"}

_metadata = sa.MetaData()
RUNS = sa.Table(
    "runs",
    _metadata,
    sa.Column("run_uuid", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(250)),
    sa.Column("user_id", sa.String(256)),
    sa.Column("status", sa.String(9)),
    sa.Column("start_time", sa.BigInteger),
    sa.Column("end_time", sa.BigInteger),
    sa.Column("lifecycle_stage", sa.String(20)),
    sa.Column("artifact_uri", sa.String(200)),
    sa.Column("experiment_id", sa.Integer),
)
LATEST_METRICS = sa.Table(
    "latest_metrics",
    _metadata,
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Float),
    sa.Column("step", sa.BigInteger),
    sa.Column("is_nan", sa.Boolean),
    sa.Column("run_uuid", sa.String(32), primary_key=True),
)
PARAMS = sa.Table(
    "params",
    _metadata,
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(8000)),
    sa.Column("run_uuid", sa.String(32), primary_key=True),
)
TAGS = sa.Table(
    "tags",
    _metadata,
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(8000)),
    sa.Column("run_uuid", sa.String(32), primary_key=True),
)
_ATTRIBUTE_COLUMNS = {"run_name": "name", "run_id": "run_uuid"}

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


class Unsupported(Exception):
    """This query needs MLflow's own search (the caller falls back to it)."""


def dialect_of(tracking_uri: str) -> str | None:
    """``sqlite``/``postgresql`` when the fast path applies to this tracking URI, else None."""
    scheme = urlsplit(tracking_uri).scheme.split("+")[0]
    return scheme if scheme in FAST_DIALECTS else None


def engine_for(tracking_uri: str) -> sa.Engine:
    """One pooled engine per tracking store, reading the tables MLflow already created."""
    with _lock:
        engine = _engines.get(tracking_uri)
        if engine is None:
            engine = sa.create_engine(tracking_uri, pool_pre_ping=True)
            _engines[tracking_uri] = engine
        return engine


def forget_engine(tracking_uri: str) -> None:
    """Close and drop the engine after a database error: the file may have been replaced.

    Its database errors reach the caller as ``sqlalchemy`` exceptions; call this module
    inside ``connection.mlflow_errors``, which maps them to ``UNAVAILABLE`` and calls this.
    """
    with _lock:
        engine = _engines.pop(tracking_uri, None)
    if engine is not None:
        engine.dispose()


def _literal(value: str) -> sa.BindParameter[str]:
    """A key rendered inline by the dialect's own quoting (so the planner sees a constant)."""
    return sa.bindparam(None, value, type_=sa.String(), literal_execute=True)


def _compare(dialect: str, comparator: str, column: Any, value: Any) -> Any:
    if comparator == "RLIKE" and dialect == "sqlite":
        raise Unsupported("RLIKE needs the REGEXP function MLflow registers on its engine")
    return SearchUtils.get_sql_comparison_func(comparator, dialect)(column, value)


def _exists(table: sa.Table, key: str, *conditions: Any) -> Any:
    return (
        sa.select(table.c.run_uuid)
        .where(table.c.run_uuid == RUNS.c.run_uuid, table.c.key == _literal(key), *conditions)
        .exists()
    )


def filter_clauses(filter_string: str | None, dialect: str) -> list[Any]:
    """SQL conditions on ``runs`` for an MLflow filter string.

    Raises:
        MlflowException: MLflow's own message for a filter it cannot parse.
        Unsupported: a valid filter this module does not translate.
    """
    clauses: list[Any] = []
    for item in SearchUtils.parse_search_filter(filter_string):
        key_type = item["type"]
        key = SearchUtils.translate_key_alias(item["key"])
        comparator = item["comparator"].upper()
        value = item["value"]
        if SearchUtils.is_string_attribute(
            key_type, key, comparator
        ) or SearchUtils.is_numeric_attribute(key_type, key, comparator):
            if key == "run_name":
                clauses.append(
                    _exists(
                        TAGS, MLFLOW_RUN_NAME, _compare(dialect, comparator, TAGS.c.value, value)
                    )
                )
            else:
                column = RUNS.c[_ATTRIBUTE_COLUMNS.get(key, key)]
                clauses.append(_compare(dialect, comparator, column, value))
        elif SearchUtils.is_metric(key_type, comparator):
            condition = _compare(dialect, comparator, LATEST_METRICS.c.value, float(value))
            if comparator == "!=":
                condition = sa.or_(condition, LATEST_METRICS.c.is_nan == sa.true())
            else:
                condition = sa.and_(condition, LATEST_METRICS.c.is_nan == sa.false())
            clauses.append(_exists(LATEST_METRICS, key, condition))
        elif SearchUtils.is_param(key_type, comparator) or SearchUtils.is_tag(key_type, comparator):
            table = PARAMS if key_type == SearchUtils._PARAM_IDENTIFIER else TAGS
            if comparator == "IS NULL":
                clauses.append(~_exists(table, key))
            elif comparator == "IS NOT NULL":
                clauses.append(_exists(table, key))
            else:
                clauses.append(
                    _exists(table, key, _compare(dialect, comparator, table.c.value, value))
                )
        else:
            raise Unsupported(f"filter on {key_type} '{key}'")
    return clauses


def order_clauses(order_by: list[str]) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """ORDER BY terms and the outer joins they need, matching MLflow's natural order."""
    terms: list[Any] = []
    joins: list[tuple[Any, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, clause in enumerate(order_by):
        key_type, key, ascending = SearchUtils.parse_order_by_for_search_runs(clause)
        key = SearchUtils.translate_key_alias(key)
        if (key_type, key) in seen:
            raise MlflowException(
                f"`order_by` contains duplicate fields: {order_by}",
                error_code=INVALID_PARAMETER_VALUE,
            )
        seen.add((key_type, key))
        if SearchUtils.is_string_attribute(key_type, key, "=") or SearchUtils.is_numeric_attribute(
            key_type, key, "="
        ):
            value = RUNS.c[_ATTRIBUTE_COLUMNS.get(key, key)]
            rank = sa.case((value.is_(None), 1), else_=0)
        else:
            if SearchUtils.is_metric(key_type, "="):
                table = LATEST_METRICS
            elif SearchUtils.is_tag(key_type, "="):
                table = TAGS
            elif SearchUtils.is_param(key_type, "="):
                table = PARAMS
            else:
                raise MlflowException(
                    f"Invalid identifier type '{key_type}'", error_code=INVALID_PARAMETER_VALUE
                )
            alias = table.alias(f"order_{index}")
            joins.append(
                (alias, sa.and_(alias.c.run_uuid == RUNS.c.run_uuid, alias.c.key == _literal(key)))
            )
            value = alias.c.value
            if table is LATEST_METRICS:
                rank = sa.case((alias.c.is_nan == sa.true(), 1), (value.is_(None), 2), else_=0)
            else:
                rank = sa.case((value.is_(None), 1), else_=0)
        terms.extend([rank, value if ascending else value.desc()])
    if (SearchUtils._ATTRIBUTE_IDENTIFIER, "start_time") not in seen:
        terms.append(RUNS.c.start_time.desc())
    terms.append(RUNS.c.run_uuid)
    return terms, joins


def select_run_ids(
    tracking_uri: str,
    experiment_id: str,
    filter_string: str | None,
    order_by: list[str],
    offset: int,
    limit: int,
) -> list[str] | None:
    """Ids of active runs ``offset .. offset+limit`` in MLflow's order; None = unsupported."""
    dialect = dialect_of(tracking_uri)
    if dialect is None:
        return None
    try:
        conditions = filter_clauses(filter_string, dialect)
    except Unsupported:
        return None
    terms, joins = order_clauses(order_by)
    source: Any = RUNS
    for alias, on in joins:
        source = source.outerjoin(alias, on)
    statement = (
        sa.select(RUNS.c.run_uuid)
        .select_from(source)
        .where(
            RUNS.c.experiment_id == int(experiment_id),
            RUNS.c.lifecycle_stage == "active",
            *conditions,
        )
        .order_by(*terms)
        .offset(offset)
        .limit(limit)
    )
    with engine_for(tracking_uri).connect() as connection:
        return [row[0] for row in connection.execute(statement)]


@dataclass
class RunRows:
    """One run's columns as plain values, before they become a ``RunSummary``."""

    run_id: str
    run_name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    user: str | None
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def hydrate(tracking_uri: str, run_ids: list[str]) -> list[RunRows]:
    """Attributes, params, latest metrics and tags of ``run_ids``, in that order, 4 queries."""
    if not run_ids:
        return []
    with engine_for(tracking_uri).connect() as connection:
        base = {
            row.run_uuid: RunRows(
                run_id=row.run_uuid,
                run_name=row.name,
                experiment_id=str(row.experiment_id),
                status=row.status,
                start_time=row.start_time,
                end_time=row.end_time,
                user=row.user_id,
                params={},
                metrics={},
                tags={},
            )
            for row in connection.execute(sa.select(RUNS).where(RUNS.c.run_uuid.in_(run_ids)))
        }
        for table, field in ((PARAMS, "params"), (TAGS, "tags")):
            statement = sa.select(table.c.run_uuid, table.c.key, table.c.value).where(
                table.c.run_uuid.in_(run_ids)
            )
            for run_uuid, key, value in connection.execute(statement):
                getattr(base[run_uuid], field)[key] = value
        metrics = sa.select(
            LATEST_METRICS.c.run_uuid,
            LATEST_METRICS.c.key,
            LATEST_METRICS.c.value,
            LATEST_METRICS.c.is_nan,
        ).where(LATEST_METRICS.c.run_uuid.in_(run_ids))
        for run_uuid, key, value, is_nan in connection.execute(metrics):
            base[run_uuid].metrics[key] = math.nan if is_nan else float(value)
    return [base[run_id] for run_id in run_ids if run_id in base]
