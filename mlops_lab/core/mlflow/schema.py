"""MLflow's database schema: is it current, and creating it once when several processes start.

MLflow's SQL stores create and migrate their tables the first time a process opens them,
with no lock (``SqlAlchemyStore.__init__``). Four notebooks tracked at once on a new
project race through the same migrations; SQLite's batch migrations then fail half-way
(``duplicate column name``) and leave ``_alembic_tmp_*`` tables behind, and the store is
broken for good. :func:`ensure_schema` therefore creates an embedded (SQLite) store under
a file lock before any MLflow client touches it, and :func:`inspect_schema` lets
``/health`` and ``mlops-lab info`` say when a store's schema is not the one MLflow expects.
"""

from __future__ import annotations

import enum
import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from filelock import Timeout as LockTimeout

from mlops_lab.core.errors import Unavailable
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.migration_lock import MIGRATION_LOCK

LOCK_TIMEOUT = 120.0
"""Seconds to wait for another process that is creating the same store."""

SQL_SCHEMES = {"sqlite", "postgresql", "mysql", "mssql"}

_ready: set[str] = set()
_lock = MIGRATION_LOCK
"""Shared with our store's migrations: alembic cannot run two at once in one process."""


class SchemaState(enum.Enum):
    CURRENT = "current"
    EMPTY = "empty"  # no file yet, or no MLflow tables: created on first use
    OUTDATED = "outdated"  # an older revision: `mlflow db upgrade`
    UNKNOWN_REVISION = "unknown_revision"  # a newer MLflow migrated it
    DAMAGED = "damaged"  # an interrupted migration left its temporary tables
    MISSING_TABLES = "missing_tables"
    CORRUPT = "corrupt"  # not a database at all
    FOREIGN = "foreign"  # tables, but no schema revision: not MLflow's database


@dataclass(frozen=True)
class SchemaCheck:
    """What :func:`inspect_schema` found in one MLflow database."""

    state: SchemaState
    revision: str | None = None
    head: str | None = None
    leftovers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    detail: str = ""

    def problem(self, uri: str, subject: str | None = None) -> str | None:
        """A message a user can act on, or None when the store is usable.

        ``subject`` replaces "MLflow store <uri>" where the URI is shown already.
        """
        where = subject or f"MLflow store {mask_uri(uri)}"
        fresh = "or, if it holds no runs you need, move the file away (a new one is created "
        fresh += "on first use)"
        version = _mlflow_version()
        if self.state is SchemaState.DAMAGED:
            return (
                f"{where} was damaged by an interrupted schema migration (leftover "
                f"{', '.join(self.leftovers)}). Restore it from a backup, {fresh}."
            )
        if self.state is SchemaState.CORRUPT:
            return (
                f"{where} is not a readable database ({self.detail}). "
                f"Restore it from a backup, {fresh}."
            )
        if self.state is SchemaState.FOREIGN:
            return (
                f"{where} holds tables but no MLflow schema revision: it is not an MLflow "
                "database (or one older than MLflow 1.0). Point MLFLOW_TRACKING_URI at an "
                "MLflow database, or at a new file."
            )
        if self.state is SchemaState.UNKNOWN_REVISION:
            return (
                f"{where} has schema revision {self.revision}, which MLflow {version} does not "
                "know: a newer MLflow upgraded it. Install that MLflow version, or use another "
                "store."
            )
        if self.state is SchemaState.OUTDATED:
            return (
                f"{where} has schema revision {self.revision}, MLflow {version} expects "
                f"{self.head}. Back it up, then run `mlflow db upgrade {mask_uri(uri)}`."
            )
        if self.state is SchemaState.MISSING_TABLES:
            return (
                f"{where} lacks the tables {', '.join(self.missing)} although its schema is at "
                f"revision {self.revision}. Restore it from a backup, {fresh}."
            )
        return None


def is_sql(uri: str) -> bool:
    """Whether ``uri`` names a database MLflow's SQL store opens (not a server or a folder)."""
    try:
        return sa.engine.make_url(uri).get_backend_name() in SQL_SCHEMES
    except sa.exc.ArgumentError:
        return False


@functools.cache
def head_revision() -> str:
    """The newest migration of the installed MLflow (read once: parsing its scripts costs)."""
    from mlflow.store.db.utils import _get_alembic_config

    heads = ScriptDirectory.from_config(_get_alembic_config("")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"MLflow's migrations have {len(heads)} heads: {heads}")
    return str(heads[0])


@functools.cache
def _known_revisions() -> frozenset[str]:
    from mlflow.store.db.utils import _get_alembic_config

    script = ScriptDirectory.from_config(_get_alembic_config(""))
    return frozenset(r.revision for r in script.walk_revisions())


@functools.cache
def _expected_tables() -> frozenset[str]:
    """Every table MLflow's ORM models declare (importing its db utils registers them all)."""
    import mlflow.store.db.utils  # noqa: F401
    from mlflow.store.db.base_sql_model import Base

    return frozenset(Base.metadata.tables)


def _mlflow_version() -> str:
    from mlflow.version import VERSION

    return str(VERSION)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI; None for in-memory and other schemes."""
    if not is_sql(uri):
        return None
    url = sa.engine.make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@contextmanager
def _connect(uri: str, timeout: float) -> Iterator[sa.Connection]:
    """A short-lived connection; SQLite files are opened read-only so nothing is created."""
    path = sqlite_path(uri)
    if path is not None:
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout),
            poolclass=sa.NullPool,
        )
    else:
        engine = sa.create_engine(
            uri, poolclass=sa.NullPool, connect_args={"connect_timeout": int(timeout)}
        )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def inspect_schema(uri: str, timeout: float = 5.0) -> SchemaCheck:
    """Compare an MLflow SQL store's tables and revision with the installed MLflow's.

    Raises:
        sqlalchemy.exc.OperationalError: the database does not answer.
    """
    path = sqlite_path(uri)
    if path is not None and not path.exists():
        return SchemaCheck(SchemaState.EMPTY)
    head = head_revision()
    try:
        with _connect(uri, timeout) as connection:
            tables = set(sa.inspect(connection).get_table_names())
            revision = MigrationContext.configure(connection).get_current_revision()
    except sa.exc.DatabaseError as exc:
        if path is None or not _is_corrupt(exc):
            raise
        return SchemaCheck(SchemaState.CORRUPT, head=head, detail=str(exc.orig))
    leftovers = sorted(t for t in tables if t.startswith("_alembic_tmp"))
    missing = sorted(_expected_tables() - tables)
    check = functools.partial(SchemaCheck, revision=revision, head=head)
    if leftovers:
        return check(SchemaState.DAMAGED, leftovers=leftovers)
    if all(t.startswith("alembic_") for t in tables):
        return check(SchemaState.EMPTY)
    if revision is None:
        return check(SchemaState.FOREIGN)
    if revision != head and revision not in _known_revisions():
        return check(SchemaState.UNKNOWN_REVISION)
    if revision != head:
        return check(SchemaState.OUTDATED, missing=missing)
    if missing:
        return check(SchemaState.MISSING_TABLES, missing=missing)
    return check(SchemaState.CURRENT)


def _is_corrupt(exc: sa.exc.DatabaseError) -> bool:
    """SQLite says a file is not a database (or is malformed), as opposed to locked or absent."""
    text = str(exc.orig).lower()
    return "not a database" in text or "malformed" in text


def ensure_schema(uri: str) -> None:
    """Create an embedded MLflow store's tables once, under a file lock, before first use.

    Cheap when the schema is current (one read-only look, no lock), and done once per URI
    per process. Anything else is looked at again holding the lock, since another process
    may be creating or migrating the store at this moment. Other stores (PostgreSQL, a
    tracking server) are left to MLflow.

    Raises:
        Unavailable: the store is damaged, outdated, or cannot be read; the message says
            what to do.
    """
    path = sqlite_path(uri)
    if path is None or uri in _ready:
        return
    with _lock:
        if uri in _ready:
            return
        check = _inspect_or_unavailable(uri)
        if check.state is not SchemaState.CURRENT:
            check = _create_locked(uri, path)
        problem = check.problem(uri)
        if problem is not None:
            raise Unavailable(problem)
        _ready.add(uri)


def _creatable(check: SchemaCheck) -> bool:
    """Whether MLflow's first use would create tables and migrate (it does when tables are
    missing); an outdated store that has them all it refuses, and so do we: the user decides
    when to upgrade."""
    if check.state is SchemaState.OUTDATED:
        return bool(check.missing)
    return check.state in (SchemaState.EMPTY, SchemaState.MISSING_TABLES)


def _create_locked(uri: str, path: Path) -> SchemaCheck:
    """What MLflow's first use does (create tables, run migrations), one process at a time."""
    from mlflow.store.db.utils import _initialize_tables, create_sqlalchemy_engine

    lock = FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with lock:
            check = _inspect_or_unavailable(uri)
            if not _creatable(check):
                return check
            engine = create_sqlalchemy_engine(uri)
            try:
                _initialize_tables(engine)
            except sa.exc.SQLAlchemyError as exc:
                raise database_unavailable(uri, exc, "cannot be created") from exc
            finally:
                engine.dispose()
            return _inspect_or_unavailable(uri)
    except LockTimeout as exc:
        raise Unavailable(
            f"MLflow store {mask_uri(uri)} is being created by another process that has held "
            f"{lock.lock_file} for over {LOCK_TIMEOUT:g} s. Stop that process, then try again."
        ) from exc
    except OSError as exc:  # a folder we may not write to: say which
        raise Unavailable(
            f"MLflow store {mask_uri(uri)} cannot be created: {exc.strerror or exc} "
            f"({exc.filename or path.parent}). Make that folder writable, or set "
            "MLFLOW_TRACKING_URI to a store you can write."
        ) from exc


def inspect_settled(uri: str, timeout: float) -> SchemaCheck | None:
    """:func:`inspect_schema`, looking again holding the creation lock when not current.

    So a store another process is creating or migrating at this moment is not reported as
    damaged. None when that process held the lock for all of ``timeout``.
    """
    check = inspect_schema(uri, timeout)
    path = sqlite_path(uri)
    if path is None or check.state in (SchemaState.CURRENT, SchemaState.EMPTY):
        return check
    try:
        with FileLock(f"{path}.lock", timeout=timeout):
            return inspect_schema(uri, timeout)
    except LockTimeout:
        return None
    except OSError:  # no lock file can be written there: nobody is creating the store
        return check


def _inspect_or_unavailable(uri: str) -> SchemaCheck:
    try:
        return inspect_schema(uri)
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(uri, exc) from exc


def forget(uri: str) -> None:
    """Check the schema again on next use (after a database error: the file may be replaced)."""
    with _lock:
        _ready.discard(uri)


def database_unavailable(uri: str, exc: BaseException, what: str = "cannot be read") -> Unavailable:
    """A database error as a short message naming the (masked) store, without the SQL."""
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else orig.__class__.__name__
    return Unavailable(
        f"MLflow store {mask_uri(uri)} {what} ({mask_uri(reason)}). Check that the database "
        "is reachable and intact (`mlops-lab info` checks it); restore it from a backup if it "
        "is damaged."
    )
