"""Engines, sessions and migrations: the one place a transaction begins and ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from mlops_lab.core.errors import ConfigError
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.migration_lock import MIGRATION_LOCK

MIGRATIONS = Path(__file__).parent / "migrations"

MIGRATION_LOCK_TIMEOUT = 120.0
"""Seconds a process waits for another one migrating the same store."""

PG_MIGRATION_LOCK = 0x6D6C6F70735F6C62
"""The PostgreSQL advisory lock key our migrations hold (any fixed 64-bit number)."""


def create_store_engine(url: str, *, connect_timeout: float = 5.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so two processes can share it.

    Raises:
        ConfigError: the URL cannot be parsed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"Store URL {mask_uri(url)!r} is not a database URL: {exc}.") from exc
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args["timeout"] = connect_timeout
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = int(connect_timeout)
    try:
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    except ArgumentError as exc:
        raise ConfigError(f"Cannot open store {mask_uri(url)!r}: {exc}.") from exc
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"Cannot open store {mask_uri(url)!r}: its driver is not installed ({exc}). "
            "For PostgreSQL: pip install 'psycopg[binary]'."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on a new database).

    Several processes may open a new store at once (notebooks, the server, a scheduler):
    without a lock they run the same migrations together and fail half-way (``table
    already exists``). The migration runs under a file lock beside a SQLite database and
    under a transaction-level advisory lock on PostgreSQL; a store already at the newest
    revision is recognised without taking either. Threads of one process take turns
    (:data:`MIGRATION_LOCK`).
    """
    with MIGRATION_LOCK:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        with engine.connect() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        with _file_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """A lock file beside a SQLite database; nothing for server databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with FileLock(f"{database}.lock", timeout=MIGRATION_LOCK_TIMEOUT):
        yield


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: no half-written state survives."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
