"""The store facade the core uses; it returns entities, never ORM rows."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from filelock import Timeout as LockTimeout
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import Unavailable
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.store.db import create_store_engine, session_scope, upgrade_schema
from mlops_lab.core.store.entities import AuditEvent, LiveRun
from mlops_lab.core.store.schema import AuditEventRow, LiveRunRow


class LabStore:
    """Our SQLAlchemy store. Created lazily: the schema is migrated on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_store_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._ready = False
        self._lock = threading.Lock()

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                upgrade_schema(self._engine)
            except SQLAlchemyError as exc:
                raise Unavailable(
                    f"mlops-lab store {mask_uri(self.url)} cannot be opened or upgraded: "
                    f"{exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}. "
                    "Check the store URL and that the database is reachable."
                ) from exc
            except LockTimeout as exc:
                raise Unavailable(
                    f"mlops-lab store {mask_uri(self.url)} is being migrated by another process "
                    f"that has held {exc.lock_file} for minutes. Stop that process, then retry."
                ) from exc
            self._ready = True

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session on the current schema, committed on success and rolled back on error.

        For the stores of the core's packages (``core/jobs/store.py``) that keep their
        queries beside the code that uses them but share this engine and schema.
        """
        self._ensure_schema()
        with session_scope(self._sessions) as session:
            yield session

    def ping(self) -> None:
        """Raise :class:`Unavailable` unless the store answers and its schema is current."""
        self._ensure_schema()
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise Unavailable(
                f"mlops-lab store {mask_uri(self.url)} does not answer: {exc}"
            ) from exc

    def record_event(
        self,
        action: str,
        subject: str,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> AuditEvent:
        self._ensure_schema()
        row = AuditEventRow(
            time=datetime.now(UTC),
            actor=actor or getpass.getuser(),
            action=action,
            subject=subject,
            detail=detail or {},
        )
        with session_scope(self._sessions) as session:
            session.add(row)
            session.flush()
            return row.to_entity()

    def list_events(self, subject: str | None = None, limit: int = 100) -> list[AuditEvent]:
        self._ensure_schema()
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(AuditEventRow.subject == subject)
        with session_scope(self._sessions) as session:
            return [row.to_entity() for row in session.scalars(query)]

    # -- live runs: the MLflow runs kernels have open (see core/tracking/orphans.py) --------

    def add_live_run(self, run: LiveRun) -> None:
        """Remember that a kernel has ``run`` open (replacing an earlier row for that run)."""
        self._ensure_schema()
        with session_scope(self._sessions) as session:
            session.merge(
                LiveRunRow(
                    run_id=run.run_id,
                    tracking_uri=mask_uri(run.tracking_uri) or run.tracking_uri,
                    experiment_id=run.experiment_id,
                    experiment=run.experiment,
                    notebook=run.notebook,
                    host=run.host,
                    pid=run.pid,
                    process_started=run.process_started,
                    kernel_id=run.kernel_id,
                    started_at=run.started_at,
                    claimed_at=None,
                    history_file=run.history_file,
                    history_session=run.history_session,
                    first_cell=run.first_cell,
                )
            )

    def live_runs(self, host: str | None = None) -> list[LiveRun]:
        """The open runs, of kernels on ``host`` when given (one indexed query)."""
        self._ensure_schema()
        query = select(LiveRunRow).order_by(LiveRunRow.started_at)
        if host is not None:
            query = query.where(LiveRunRow.host == host)
        with session_scope(self._sessions) as session:
            return [row.to_entity() for row in session.scalars(query)]

    def claim_live_run(self, run_id: str, stale_after: timedelta = timedelta(minutes=5)) -> bool:
        """Claim a dead kernel's run for closing; True for exactly one of concurrent callers.

        The claim is one conditional UPDATE, so two reapers (a server and a CLI, or two
        servers on one store) never both close a run. A claim older than ``stale_after``
        (its reaper died half-way) can be taken again.
        """
        self._ensure_schema()
        now = datetime.now(UTC)
        statement = (
            update(LiveRunRow)
            .where(LiveRunRow.run_id == run_id)
            .where(or_(LiveRunRow.claimed_at.is_(None), LiveRunRow.claimed_at < now - stale_after))
            .values(claimed_at=now)
        )
        with session_scope(self._sessions) as session:
            return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]

    def forget_live_run(self, run_id: str) -> bool:
        """Delete the row of a run that ended; True when there was one."""
        self._ensure_schema()
        with session_scope(self._sessions) as session:
            statement = delete(LiveRunRow).where(LiveRunRow.run_id == run_id)
            return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]

    def dispose(self) -> None:
        self._engine.dispose()


def store_exists(settings: Settings) -> bool:
    """False for a SQLite store whose file was never created (nothing was ever tracked).

    For callers that only look (``mlops-lab runs``, the server's reaper and scheduler):
    looking must not create a ``.mlops/lab.db`` in every folder, and without one there is
    no live run and no schedule.
    """
    url = make_url(settings.store_url)
    database = url.database if url.get_backend_name() == "sqlite" else None
    return not (database and database != ":memory:" and not Path(database).is_file())


_stores: dict[str, LabStore] = {}
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> LabStore:
    """One :class:`LabStore` (one engine, one schema check) per store URL and process,
    shared by tracking, jobs and schedules."""
    with _stores_lock:
        store = _stores.get(settings.store_url)
        if store is None:
            store = _stores[settings.store_url] = LabStore(settings.store_url)
        return store
