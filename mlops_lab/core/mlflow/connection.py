"""Talking to MLflow: one client per store pair, experiments under our artifact root,
and MLflow's failures turned into :class:`~mlops_lab.core.errors.MlopsError`.

Every core module that reads or writes MLflow goes through :func:`client_for` and the
:func:`mlflow_errors` context manager, so a missing run, a bad filter or a tracking
server that does not answer reads the same in the magic, the CLI and the sidebar.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError, NotFound, Unavailable
from mlops_lab.core.masking import mask_uri
from mlops_lab.core.mlflow import schema
from mlops_lab.core.mlflow import search as run_search
from mlops_lab.core.probes import probe_uri

# MLflow retries a failed request 7 times with a backoff factor of 2 (minutes). We keep
# a few quick retries and leave a long per-request timeout, so that large artifact
# uploads still work; a server that does not answer is caught by the probe below
# instead. The user's own values win.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}

PROBE_TIMEOUT = 4.0
"""Seconds a tracking server has to answer ``/health`` before we give up on it."""

PROBE_TTL = 10.0
"""Seconds a successful probe is trusted, so a busy notebook does not probe per call."""

_clients: dict[tuple[str, str], MlflowClient] = {}
_answered_at: dict[str, float] = {}
_lock = threading.Lock()


def apply_http_defaults() -> None:
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)


def quiet_schema_chatter() -> None:
    """MLflow announces creating and upgrading its tables at INFO on stderr, which a
    notebook shows in red under the user's first ``%mlops track``; warnings still show."""
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)


def ensure_reachable(settings: Settings) -> None:
    """Fail within :data:`PROBE_TIMEOUT` when an HTTP tracking server does not answer.

    Without this, a server that accepts connections and never replies would hold a
    kernel, a CLI command or a REST request for MLflow's full timeout and retries.
    Local stores (SQLite, PostgreSQL, files) are not probed: their drivers time out.
    """
    uri = settings.tracking_uri
    if not uri.startswith(("http://", "https://")):
        return
    answered = _answered_at.get(uri)
    if answered is not None and time.monotonic() - answered < PROBE_TTL:
        return
    try:
        probe_uri(uri, PROBE_TIMEOUT)
    except (OSError, RuntimeError) as exc:
        detail = str(getattr(exc, "reason", None) or exc)
        if isinstance(exc, TimeoutError) or "timed out" in detail:
            detail = f"no answer within {PROBE_TIMEOUT:g} s"
        raise unreachable(settings, detail) from exc
    _answered_at[uri] = time.monotonic()


def client_for(settings: Settings) -> MlflowClient:
    """A cached :class:`MlflowClient` for the settings' stores, checked to answer.

    An embedded store's tables are created here, once and under a file lock, so neither
    this client nor MLflow's fluent API (``mlflow.start_run`` in a tracked notebook) races
    other processes through MLflow's first-use migrations.
    """
    ensure_reachable(settings)
    key = (settings.tracking_uri, settings.registry_uri)
    quiet_schema_chatter()
    for uri in dict.fromkeys(key):
        schema.ensure_schema(uri)
    with _lock:
        client = _clients.get(key)
        if client is None:
            apply_http_defaults()
            client = MlflowClient(tracking_uri=key[0], registry_uri=key[1])
            _clients[key] = client
        return client


def reader_for(settings: Settings) -> MlflowClient:
    """A client for reading only: an embedded store that does not exist yet is not created.

    ``mlops-lab runs`` in the wrong folder, or the sidebar on a new project, must not
    leave an empty ``.mlops/mlflow.db`` behind.

    Raises:
        NoStoreYet: the embedded SQLite store was never created.
    """
    path = schema.sqlite_path(settings.tracking_uri)
    if path is not None and not path.exists():
        raise NoStoreYet(
            f"No MLflow store at {path} yet: track a notebook (`%mlops track`) or run a job "
            "to start one, or point MLFLOW_TRACKING_URI at an existing store "
            "(`mlops-lab info` shows where each setting comes from)."
        )
    return client_for(settings)


class NoStoreYet(NotFound):
    """Nothing was tracked here yet (read-only callers may treat it as 'no results')."""


def experiment_artifact_location(settings: Settings, name: str) -> str:
    """``<artifact_root>/<safe name>``: artifacts stay beside the embedded stores."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "experiment"
    return Path(settings.artifact_root, safe).as_uri()


def ensure_experiment(settings: Settings, name: str) -> str:
    """The id of experiment ``name``, created under our artifact root when missing."""
    if not name or not name.strip():
        raise InvalidInput("Experiment name is empty: give --experiment NAME.")
    client = client_for(settings)
    with mlflow_errors(settings):
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                raise MlopsError(
                    ErrorCode.CONFLICT,
                    f"Experiment '{name}' is deleted. Restore it in MLflow or pick another name.",
                )
            return str(experiment.experiment_id)
        try:
            return str(
                client.create_experiment(
                    name, artifact_location=experiment_artifact_location(settings, name)
                )
            )
        except MlflowException as exc:  # created by someone else meanwhile
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            found = client.get_experiment_by_name(name)
            assert found is not None
            return str(found.experiment_id)


_CODE_MAP = {
    "RESOURCE_DOES_NOT_EXIST": ErrorCode.NOT_FOUND,
    "INVALID_PARAMETER_VALUE": ErrorCode.INVALID,
    "BAD_REQUEST": ErrorCode.INVALID,
    "RESOURCE_ALREADY_EXISTS": ErrorCode.CONFLICT,
    "PERMISSION_DENIED": ErrorCode.FORBIDDEN,
}


@contextmanager
def mlflow_errors(settings: Settings) -> Iterator[None]:
    """Translate MLflow's exceptions into :class:`MlopsError` naming the (masked) store.

    A database error (raised by :mod:`mlops_lab.core.mlflow.search`, or wrapped by MLflow
    in an ``MlflowException`` whose message carries the SQL statement) is the store's
    failure, not the user's: ``UNAVAILABLE`` with a short message, and the cached client,
    schema check and engines are dropped so the next call reconnects.
    """
    try:
        yield
    except MlopsError as exc:
        if exc.code is ErrorCode.UNAVAILABLE:
            forget_stores(settings)
        raise
    except sa.exc.IntegrityError as exc:
        raise _conflict(exc) from exc
    except sa.exc.SQLAlchemyError as exc:
        forget_stores(settings)
        raise schema.database_unavailable(settings.tracking_uri, exc) from exc
    except MlflowException as exc:
        cause = exc.__cause__
        if isinstance(cause, sa.exc.IntegrityError):
            raise _conflict(cause) from exc
        if isinstance(cause, sa.exc.SQLAlchemyError):
            forget_stores(settings)
            raise schema.database_unavailable(settings.tracking_uri, cause) from exc
        code = _CODE_MAP.get(exc.error_code)
        message = exc.message
        if code is None:
            if _looks_unreachable(message):
                raise unreachable(settings, message) from exc
            code = ErrorCode.UNAVAILABLE
        if code is ErrorCode.NOT_FOUND:
            raise NotFound(message) from exc
        if code is ErrorCode.INVALID:
            raise InvalidInput(message) from exc
        raise MlopsError(code, message) from exc
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise unreachable(settings, str(exc)) from exc


def _conflict(exc: sa.exc.IntegrityError) -> MlopsError:
    """A constraint the database enforced: usually another process wrote the same thing."""
    return MlopsError(
        ErrorCode.CONFLICT,
        f"MLflow refused the change ({_first_line(str(exc.orig))}): another process may have "
        "written the same entry at the same time. Reload and try again.",
    )


def forget_stores(settings: Settings) -> None:
    """Drop the cached client and close every pooled connection to the settings' stores.

    After a database error the file may have been replaced (restored from a backup, moved
    away): connections opened before still read the old one, so the next call reconnects
    and checks the schema again instead of failing until the process restarts.
    """
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    uris = {settings.tracking_uri, settings.registry_uri}
    with _lock:
        for key in [k for k in _clients if set(k) & uris]:
            del _clients[key]
    for uri in uris:
        schema.forget(uri)
        run_search.forget_engine(uri)
        for store in (TrackingStore, RegistryStore):
            engine = store._engine_map.get(uri)
            if engine is not None:
                engine.dispose()


def unreachable(settings: Settings, detail: str) -> Unavailable:
    uri = mask_uri(settings.tracking_uri)
    return Unavailable(
        f"MLflow tracking server {uri} does not answer ({_first_line(detail)}). "
        "Check that it is running, or point MLFLOW_TRACKING_URI elsewhere "
        "(`mlops-lab info` shows where each setting comes from)."
    )


def _looks_unreachable(message: str) -> bool:
    lowered = message.lower()
    return any(
        s in lowered
        for s in ("max retries exceeded", "connection refused", "timed out", "connectionerror")
    )


def _first_line(text: str, limit: int = 160) -> str:
    line = mask_uri(text.strip().splitlines()[0] if text.strip() else text) or ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
