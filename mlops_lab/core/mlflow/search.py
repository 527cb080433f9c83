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

Pages are keyset pages: :func:`select_run_ids` returns, with each id, the values of the
sort keys for that row, and the next page starts strictly after the last row's values.
A run logged between two page requests therefore never repeats or hides a row, as an
offset would.

Anything this module does not translate (dataset filters, ``RLIKE`` on SQLite, MySQL's
binary collation tricks, MSSQL) makes :func:`select_run_ids` return ``None`` and the
caller falls back to ``MlflowClient.search_runs``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchUtils

from mlops_lab.core.mlflow.entities import RunSummary, run_summary

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


class PositionMismatch(ValueError):
    """The values a page token carries do not fit this query's sort keys (a forged token)."""


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


def _key_is(column: Any, key: str) -> Any:
    """``column = <key>``; a key holding NUL matches nothing, as in MLflow (no logged key can
    hold one), instead of breaking the SQL text it would be inlined into."""
    return sa.false() if "\x00" in key else column == _literal(key)


INT64_MAX = 2**63 - 1


def _compare(dialect: str, comparator: str, column: Any, value: Any) -> Any:
    if comparator == "RLIKE" and dialect == "sqlite":
        raise Unsupported("RLIKE needs the REGEXP function MLflow registers on its engine")
    return SearchUtils.get_sql_comparison_func(comparator, dialect)(column, value)


def _exists(table: sa.Table, key: str, *conditions: Any) -> Any:
    return (
        sa.select(table.c.run_uuid)
        .where(table.c.run_uuid == RUNS.c.run_uuid, _key_is(table.c.key, key), *conditions)
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
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL text cannot hold NUL, so no stored value has one; say so instead
            # of letting the driver fail on one dialect and not the other.
            raise MlflowException(
                f"The value compared with '{item['key']}' contains a NUL character; "
                "no logged value can.",
                error_code=INVALID_PARAMETER_VALUE,
            )
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
                if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
                    raise MlflowException(
                        f"{key} {comparator} {value}: the value does not fit in 64 bits "
                        "(times are milliseconds since 1970).",
                        error_code=INVALID_PARAMETER_VALUE,
                    )
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


Kind = Literal["int", "float", "str"]


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term: the expression, its direction, and the Python type of its values
    (to check the values a page token carries before they reach SQL)."""

    expression: Any
    ascending: bool
    kind: Kind

    def ordered(self) -> Any:
        return self.expression if self.ascending else self.expression.desc()

    def accepts(self, value: object) -> bool:
        if value is None:
            return True
        if self.kind == "str":
            return isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "int":
            return isinstance(value, int) and -INT64_MAX - 1 <= value <= INT64_MAX
        return math.isfinite(value)


_INT_ATTRIBUTES = {"start_time", "end_time"}


def _rank(*cases: tuple[Any, int]) -> SortKey:
    return SortKey(sa.case(*cases, else_=0), True, "int")


def order_keys(order_by: list[str]) -> tuple[list[SortKey], list[tuple[Any, Any]]]:
    """Sort keys and the outer joins they need, matching MLflow's natural order.

    Every key ends with ``run_uuid``, so the order is total and a page boundary is exact.
    """
    keys: list[SortKey] = []
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
            keys.append(_rank((value.is_(None), 1)))
            keys.append(SortKey(value, ascending, "int" if key in _INT_ATTRIBUTES else "str"))
            continue
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
        on = sa.and_(alias.c.run_uuid == RUNS.c.run_uuid, _key_is(alias.c.key, key))
        joins.append((alias, on))
        value = alias.c.value
        if table is LATEST_METRICS:
            keys.append(_rank((alias.c.is_nan == sa.true(), 1), (value.is_(None), 2)))
            keys.append(SortKey(value, ascending, "float"))
        else:
            keys.append(_rank((value.is_(None), 1)))
            keys.append(SortKey(value, ascending, "str"))
    if (SearchUtils._ATTRIBUTE_IDENTIFIER, "start_time") not in seen:
        keys.append(SortKey(RUNS.c.start_time, False, "int"))
    keys.append(SortKey(RUNS.c.run_uuid, True, "str"))
    return keys, joins


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> Any:
    """Rows strictly after the row whose sort values are ``values``, in the keys' order.

    The lexicographic comparison is spelled out (``k1 > v1 OR (k1 = v1 AND k2 > v2) ...``)
    because the directions differ per key. A NULL value is never "after" anything: each
    nullable value follows a rank key that already separates NULLs from values.
    """
    alternatives = []
    for index, (key, value) in enumerate(zip(keys, values, strict=True)):
        if value is not None:
            step = key.expression > value if key.ascending else key.expression < value
            ties = [
                k.expression.is_not_distinct_from(v)
                for k, v in zip(keys[:index], values[:index], strict=True)
            ]
            alternatives.append(sa.and_(*ties, step))
    return sa.or_(*alternatives) if alternatives else sa.false()


@dataclass(frozen=True)
class Position:
    """A row of a page: its run id and its sort values (what the next page starts after)."""

    run_id: str
    sort_values: list[Any]


def select_run_ids(
    tracking_uri: str,
    experiment_id: str,
    filter_string: str | None,
    order_by: list[str],
    limit: int,
    after_values: list[Any] | None = None,
) -> list[Position] | None:
    """Active runs in MLflow's order, the first ``limit`` after ``after_values``.

    Returns None when this query needs MLflow's own search (the caller falls back).

    Raises:
        MlflowException: MLflow's own message for a filter or order it cannot parse.
        PositionMismatch: ``after_values`` do not fit the sort keys (a forged page token).
    """
    dialect = dialect_of(tracking_uri)
    if dialect is None:
        return None
    try:
        conditions = filter_clauses(filter_string, dialect)
    except Unsupported:
        return None
    keys, joins = order_keys(order_by)
    if after_values is not None:
        if len(after_values) != len(keys) or not all(
            k.accepts(v) for k, v in zip(keys, after_values, strict=True)
        ):
            raise PositionMismatch("page position does not fit this query's sort keys")
        conditions.append(after(keys, after_values))
    source: Any = RUNS
    for alias, on in joins:
        source = source.outerjoin(alias, on)
    statement = (
        sa.select(RUNS.c.run_uuid, *(k.expression for k in keys))
        .select_from(source)
        .where(
            RUNS.c.experiment_id == int(experiment_id),
            RUNS.c.lifecycle_stage == "active",
            *conditions,
        )
        .order_by(*(k.ordered() for k in keys))
        .limit(limit)
    )
    with engine_for(tracking_uri).connect() as connection:
        return [Position(row[0], list(row[1:])) for row in connection.execute(statement)]


def run_ids_with_prefix(tracking_uri: str, prefix: str, limit: int = 3) -> list[str] | None:
    """Ids of runs (active or not) starting with ``prefix``; None where SQL is not at hand.

    ``prefix`` must be hex (checked by the caller): it is bound, and LIKE's wildcards
    cannot occur in it.
    """
    if dialect_of(tracking_uri) is None:
        return None
    statement = (
        sa.select(RUNS.c.run_uuid)
        .where(RUNS.c.run_uuid.like(prefix + "%"))
        .order_by(RUNS.c.run_uuid)
        .limit(limit)
    )
    with engine_for(tracking_uri).connect() as connection:
        return [row[0] for row in connection.execute(statement)]


def hydrate(tracking_uri: str, run_ids: list[str]) -> list[RunSummary]:
    """Attributes, params, latest metrics and tags of ``run_ids``, in that order, 4 queries."""
    if not run_ids:
        return []
    columns: dict[str, dict[str, Any]] = {}
    with engine_for(tracking_uri).connect() as connection:
        for row in connection.execute(sa.select(RUNS).where(RUNS.c.run_uuid.in_(run_ids))):
            columns[row.run_uuid] = {
                "run_id": row.run_uuid,
                "run_name": row.name,
                "experiment_id": str(row.experiment_id),
                "status": row.status,
                "start_time": row.start_time,
                "end_time": row.end_time,
                "user": row.user_id,
                "params": {},
                "metrics": {},
                "tags": {},
            }
        for table, field in ((PARAMS, "params"), (TAGS, "tags")):
            statement = sa.select(table.c.run_uuid, table.c.key, table.c.value).where(
                table.c.run_uuid.in_(run_ids)
            )
            for run_uuid, key, value in connection.execute(statement):
                columns[run_uuid][field][key] = value
        metrics = sa.select(
            LATEST_METRICS.c.run_uuid,
            LATEST_METRICS.c.key,
            LATEST_METRICS.c.value,
            LATEST_METRICS.c.is_nan,
        ).where(LATEST_METRICS.c.run_uuid.in_(run_ids))
        for run_uuid, key, value, is_nan in connection.execute(metrics):
            columns[run_uuid]["metrics"][key] = math.nan if is_nan else float(value)
    return [run_summary(**columns[run_id]) for run_id in run_ids if run_id in columns]
