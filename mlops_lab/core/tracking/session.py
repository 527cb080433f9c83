"""Notebook run tracking: the notebook's MLflow run, and a child run per model fit.

A :class:`TrackingSession` (one per kernel) opens an MLflow run for a notebook, tagged so
MLflow's UI shows the notebook, git commit and user, with the notebook's parameters; what
the user logs by hand (``%mlops param/metric/tag``) goes there too. Each model the user
fits becomes a child run of it (:mod:`~mlops_lab.core.tracking.fits` finds the fits,
:mod:`~mlops_lab.core.tracking.fit_logging` logs them). On ``end`` (or a new ``track``, or
interpreter exit) the snapshot, the code in execution order and the environment are
logged and the run closed. While the run is open a row in our store says which process
holds it, so a run whose kernel dies is closed by whoever notices
(:mod:`~mlops_lab.core.tracking.orphans`).

Every MLflow write happens on the kernel's logging worker
(:mod:`~mlops_lab.core.tracking.worker`), in order: ``%mlops track`` returns before MLflow
is even imported, and a cell that fits a model returns when the fit does. ``end`` waits for
the worker (bounded) before closing the run; what failed is reported by
:meth:`TrackingSession.take_failures`, which the faces call on every command.

Nothing here runs per cell, and this module never imports IPython or MLflow at import.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_lab.core.config import EXECUTION_ENV, Settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError
from mlops_lab.core.masking import MASK, is_secret_name
from mlops_lab.core.tracking import fit_logging, lineage, run_logging
from mlops_lab.core.tracking.fits import Evaluation, FitCall, FitHooks
from mlops_lab.core.tracking.logging_client import LoggingClient, LoggingFailure

OPENING = "opening the notebook's run"
"""What the logging process's first request for a run is called in messages."""

SESSION_ENV = "JPY_SESSION_NAME"
"""Set by jupyter_server in a kernel's environment: the notebook's path (see notebook_path)."""

DEFAULT_EXPERIMENT = "notebooks"
"""The experiment of a run whose notebook is unknown (a console, a plain IPython)."""

NOTEBOOK_ARTIFACT_DIR = "notebook"
EXECUTED_CODE_ARTIFACT = "notebook/executed_code.py"

OPEN_WAIT_S = 0.3
"""How long ``start`` waits for the run's id (enough once MLflow is imported)."""
OPEN_TIMEOUT_S = 120.0
"""How long asking for the run's id may wait while the logging process opens the run."""
END_WAIT_S = 300.0
"""``end`` and a new ``track`` wait this long for pending logging (a big model's upload)."""
EXIT_WAIT_S = 2.0
"""At kernel shutdown (Jupyter kills a kernel still there after 5 s); the logging process
finishes what it was sent even when the kernel is gone."""

Cell = tuple[int, str]
"""(execution count, source) of one executed cell."""


# --- notebook path and experiment ------------------------------------------------------


def notebook_path(
    root: Path,
    environ: Mapping[str, str],
    user_ns: Mapping[str, Any] | None = None,
    explicit: str | None = None,
) -> Path | None:
    """The notebook this kernel runs, as an absolute path, or None when unknown.

    Sources, first that answers: ``explicit`` (``--notebook``); ``JPY_SESSION_NAME``, which
    jupyter_server 2.x puts in the kernel's environment (absolute when the session has a
    name, ``os.path.join(cwd_for_path(path), name)``; otherwise the API path, relative to
    the server root); ``__session__`` in the user namespace (ipykernel copies the same
    value there). A session that is not a notebook (a console) counts as unknown.
    """
    candidates = [explicit, environ.get(SESSION_ENV), (user_ns or {}).get("__session__")]
    for candidate in candidates:
        if not candidate or not isinstance(candidate, str):
            continue
        path = Path(candidate).expanduser()
        path = path if path.is_absolute() else root / path
        if path.suffix == ".ipynb":
            return path.resolve()
        if candidate is explicit:
            raise InvalidInput(f"--notebook {candidate}: expected a .ipynb file.")
    return None


def run_name(notebook: Path | None, now: datetime | None = None) -> str | None:
    """``<notebook>-<MMDD-HHMMSS>``: runs of one notebook told apart at a glance, in
    MLflow's UI and ours (the notebook's name alone made every run of ``in.ipynb`` "in")."""
    if notebook is None:
        return None  # MLflow picks one of its generated names
    return f"{notebook.stem}-{(now or datetime.now()):%m%d-%H%M%S}"


def default_experiment(root: Path, notebook: Path | None) -> str:
    """The notebook's path relative to the root (``notebooks/quickstart.ipynb``)."""
    if notebook is None:
        return DEFAULT_EXPERIMENT
    try:
        return notebook.relative_to(root).as_posix()
    except ValueError:  # a notebook outside the root: its absolute path is still unique
        return notebook.as_posix()


# --- the session ------------------------------------------------------------------------


@dataclass(frozen=True)
class EndedRun:
    run_id: str
    status: str
    artifacts: list[str]
    unfinished: int = 0
    """Logging tasks still running when ``end`` stopped waiting (they go on)."""


class RunHandle:
    """The notebook's run as ``start`` returns it: the id arrives when the worker opens it.

    ``run_id`` and ``experiment_id`` wait for that (bounded) and raise the error that kept
    the run from opening; ``opened_id`` answers at once, None while it is still opening.
    """

    def __init__(
        self,
        experiment: str,
        notebook: Path | None,
        params: dict[str, str],
        replaced: EndedRun | None,
        job_run: str | None = None,
    ) -> None:
        self.key = uuid.uuid4().hex
        """The name the logging process knows the run by before it has an id."""
        self.experiment = experiment
        self.notebook = notebook
        self.params = params
        self.replaced = replaced
        """The run that was active before and was ended to open this one."""
        self.job_run = job_run
        """In a job execution's kernel, the execution's run, adopted instead of a new one:
        the job's runner ends it and logs the output notebook."""
        self._opened = threading.Event()
        self._ids: tuple[str, str] | None = None
        self.error: BaseException | None = None

    def settle(self, ids: tuple[str, str] | None, error: BaseException | None) -> None:
        """The logging process's answer to the opening: the ids, or why it failed."""
        self._ids, self.error = ids, error
        self._opened.set()

    def wait(self, timeout: float) -> bool:
        return self._opened.wait(timeout)

    @property
    def opened_id(self) -> str | None:
        return self._ids[0] if self._ids else None

    def _wait_ids(self) -> tuple[str, str]:
        if not self._opened.wait(OPEN_TIMEOUT_S):
            raise MlopsError(
                ErrorCode.UNAVAILABLE,
                f"The run of experiment '{self.experiment}' is still opening after "
                f"{OPEN_TIMEOUT_S:.0f} s; see %mlops status.",
            )
        if self.error is not None:
            raise self.error
        assert self._ids is not None
        return self._ids

    @property
    def run_id(self) -> str:
        return self._wait_ids()[0]

    @property
    def experiment_id(self) -> str:
        return self._wait_ids()[1]


@dataclass(frozen=True)
class SessionStatus:
    """What ``%mlops status`` shows."""

    run_id: str | None
    experiment: str | None
    fits: int
    pending: int
    current: str | None


class TrackingSession:
    """The tracking state of one kernel: at most one active run, opened by ``start``.

    Args:
        settings_factory: resolves the settings when a run starts (so a changed
            ``MLFLOW_TRACKING_URI`` is honoured by the next run).
        executed_cells: returns the cells executed so far, oldest first; called when a
            run starts and ends, never per cell.
        user_ns: the namespace holding the parameters' current values.
        environ: the kernel's environment (for ``JPY_SESSION_NAME``).
        kernel_id: the Jupyter kernel id when the face knows it (kept with the live-run
            row, so a server can tell its kernels' runs).
        history: where the face's input history is kept (IPython's history database and
            this kernel's session in it), so the code of a kernel that died can be read back.
        notify: shows the user a one-line message (the face prints it), used when a
            command has to wait for logging.
    """

    def __init__(
        self,
        settings_factory: Callable[[], Settings],
        executed_cells: Callable[[], list[Cell]] = list,
        user_ns: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        kernel_id: str | None = None,
        history: tuple[str, int] | None = None,
        notify: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._settings_factory = settings_factory
        self._executed_cells = executed_cells
        self._user_ns: Mapping[str, Any] = user_ns if user_ns is not None else {}
        self._environ = environ if environ is not None else os.environ
        self._kernel_id = kernel_id
        self._history = history
        self._notify = notify
        self._settings: Settings | None = None
        self._run: RunHandle | None = None
        self._last_experiment: str | None = None
        self._first_cell = 0
        self._logged_params: set[str] = set()
        self._redactor = lineage.Redactor()
        self._client = LoggingClient()
        self._hooks = FitHooks(
            on_fit=self._on_fit, on_evaluation=self._on_evaluation, on_error=self._failed
        )
        self._fit_counts: dict[str, int] = {}
        self._fit_records: weakref.WeakKeyDictionary[Any, tuple[str, fit_logging.FitRecord]] = (
            weakref.WeakKeyDictionary()
        )
        self._adopted = False
        self._atexit_registered = False

    # -- state ------------------------------------------------------------------------

    @property
    def active(self) -> RunHandle | None:
        """The open (or opening) run; a run that failed to open is not active."""
        if self._run is not None and self._run.error is not None:
            return None
        return self._run

    def settings(self) -> Settings:
        return self._settings or self._settings_factory()

    def current_experiment(self, notebook: str | None = None) -> str:
        """The active run's experiment, else the one ``start`` would pick now."""
        if self._run is not None:
            return self._run.experiment
        if self._last_experiment is not None and notebook is None:
            return self._last_experiment
        settings = self.settings()
        path = notebook_path(settings.root, self._environ, self._user_ns, notebook)
        return default_experiment(settings.root, path)

    def status(self) -> SessionStatus:
        run = self.active
        return SessionStatus(
            run_id=run.opened_id if run else None,
            experiment=run.experiment if run else None,
            fits=sum(self._fit_counts.values()),
            pending=self._client.pending,
            current=self._client.current,
        )

    def take_failures(self) -> list[LoggingFailure]:
        """Logging that failed since the last call, each reported once."""
        return self._client.take_failures()

    def flush(self, timeout: float = END_WAIT_S) -> int:
        """Wait (bounded) for pending logging; returns how many requests are left."""
        return self._client.flush(timeout, on_wait=self._tell_waiting)

    def _tell_waiting(self, pending: int, current: str | None) -> None:
        doing = f" ({current})" if current else ""
        tasks = "task" if pending == 1 else "tasks"
        self._notify(f"mlops: waiting for {pending} logging {tasks} to finish{doing}...")

    def _failed(self, what: str, exc: BaseException) -> None:
        self._client.record_failure(what, exc)

    # -- start --------------------------------------------------------------------------

    def start(
        self,
        experiment: str | None = None,
        notebook: str | None = None,
        autolog: bool = True,
        first_cell: int = 0,
    ) -> RunHandle:
        """Open a run (ending and logging the previous one first) and make it active.

        Returns once the arguments are checked and the run is queued; when the logging
        process was already running, waits at most ``OPEN_WAIT_S`` for the run's id.
        ``autolog`` turns on a child run per model fit. ``first_cell`` is the execution
        count from which this run's cells are counted in ``executed_code.py`` (the
        kernel's earlier cells are kept too, marked as such: the run's state depends on
        them).
        """
        # Everything a user can get wrong is checked before the active run is touched:
        # a refused argument must leave that run open and logging.
        settings = self._settings_factory()
        path = notebook_path(settings.root, self._environ, self._user_ns, notebook)
        name = experiment or default_experiment(settings.root, path)
        names = lineage.parameter_names(lineage.read_notebook(path)) if path else []
        if experiment is not None and not experiment.strip():
            raise InvalidInput("--experiment is empty: give the experiment's name.")
        replaced = self.end() if self.active is not None else None

        self._settings = settings
        self._last_experiment = name
        self._first_cell = first_cell
        self._logged_params = set()
        self._redactor = lineage.Redactor()
        self._fit_counts = {}
        self._adopted = False
        params = self._parameter_values(names)
        handle = RunHandle(name, path, params, replaced, self._execution_run())
        self._run = handle
        warm = self._client.start()  # MLflow imports there while the user's cells go on
        self._client.submit(
            OPENING,
            "open_run",
            on_done=handle.settle,
            run=handle.key,
            settings=settings,
            experiment=name,
            notebook=path,
            run_name=run_name(path),
            kernel=run_logging.Kernel(self._kernel_id, self._history, first_cell),
            params=params,
            adopt_run=handle.job_run,
        )
        self._hooks.enabled = autolog
        if autolog:
            self._hooks.install()
        if not self._atexit_registered:
            atexit.register(self._at_exit)
            self._atexit_registered = True
        if warm:  # a running process answers in time for the id to be shown
            handle.wait(OPEN_WAIT_S)
        return handle

    def _execution_run(self) -> str | None:
        """In a job execution's kernel, the execution's run: the notebook logs into it."""
        if self._environ.get(EXECUTION_ENV):
            return self._environ.get("MLFLOW_RUN_ID") or None
        return None

    def _parameter_values(self, names: list[str]) -> dict[str, str]:
        """The parameters' *current* values, masked, so papermill's injected ones win.

        ``names`` come from the notebook's ``parameters`` cell; papermill's injected cell
        (and the defaults cell before it) are found in the executed code, since a plain
        ``papermill`` run does not tell the kernel its notebook. Each name is taken once
        per run (MLflow params cannot change).
        """
        injected = lineage.injected_parameter_names(self._executed_cells())
        names = names + [n for n in injected if n not in names]
        values = {n: self._user_ns[n] for n in names if n in self._user_ns}
        fresh = self._masked({k: v for k, v in values.items() if k not in self._logged_params})
        self._logged_params.update(fresh)
        return fresh

    def adopt_in_this_thread(self) -> None:
        """Make the open run this thread's fluent MLflow run, so the user's own
        ``mlflow.log_metric`` lands on it. Only once the user has imported MLflow (we
        never import it into the kernel for them) and the run is open; cheap otherwise."""
        run = self.active
        if self._adopted or run is None or run.opened_id is None or "mlflow" not in sys.modules:
            return
        self._adopted = True
        import mlflow

        settings = self.settings()
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.registry_uri)
        if mlflow.active_run() is None:
            mlflow.start_run(run_id=run.opened_id)

    # -- params, metrics, tags ------------------------------------------------------------

    def _require_run(self, verb: str) -> tuple[Settings, RunHandle]:
        run = self.active
        if run is None or self._settings is None:
            raise MlopsError(
                ErrorCode.CONFLICT, f"No active run to {verb}: start one with %mlops track."
            )
        return self._settings, run

    def log_params(self, params: Mapping[str, object]) -> dict[str, str]:
        """Queue params, secrets masked (see :meth:`_masked`); returns what will be stored."""
        _, run = self._require_run("log params to")
        stored = {k: v[: fit_logging.MAX_PARAM_LENGTH] for k, v in self._masked(params).items()}
        self._logged_params.update(stored)
        self._client.submit(f"params {', '.join(stored)}", "log_params", run=run.key, params=stored)
        return stored

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        _, run = self._require_run("log metrics to")
        self._client.submit(
            f"metrics {', '.join(metrics)}",
            "log_metrics",
            run=run.key,
            metrics=dict(metrics),
            step=step or 0,
            timestamp=int(time.time() * 1000),
        )

    def set_tags(self, tags: Mapping[str, str]) -> None:
        _, run = self._require_run("tag")
        masked = self._masked(tags)
        self._client.submit(f"tags {', '.join(masked)}", "set_tags", run=run.key, tags=masked)

    def _masked(self, values: Mapping[str, object]) -> dict[str, str]:
        """``values`` as strings, with every secret we know of replaced by ``***``.

        A credential-looking key hides its whole value (and the value is learnt, so the
        snapshot hides it too). Any other value has the secrets it contains masked: the
        strings held by credential-looking variables of the namespace (``%mlops tag
        note={api_key}`` arrives already expanded by IPython) and URI passwords
        (``postgresql://u:***@h/db``).
        """
        self._redactor.learn(self._user_ns)
        masked: dict[str, str] = {}
        for key, value in values.items():
            text = str(value)
            if is_secret_name(str(key)):
                self._redactor.add(text)
                masked[str(key)] = MASK
            else:
                self._redactor.add_uri_passwords(text)
                masked[str(key)] = self._redactor.value(text)
        return masked

    # -- model fits (called by the hooks, in the user's thread) ----------------------------

    def _on_fit(self, call: FitCall) -> None:
        """Name the fit, take its params and pickle it now (the estimator may be refitted
        or changed by the next cell), and send it to the logging process."""
        run = self.active
        if run is None:
            return
        estimator = call.estimator
        count = self._fit_counts[call.kind] = self._fit_counts.get(call.kind, 0) + 1
        record = fit_logging.FitRecord.of(call, count, self._masked(fit_logging.fit_params(call)))
        if call.error is None:
            with contextlib.suppress(TypeError):  # unhashable (a dataclass): no later scores
                self._fit_records[estimator] = (run.key, record)
        try:
            payload: bytes | FitCall = fit_logging.pickle_fit(call)
        except Exception as exc:  # an estimator holding a lock, a file...: params only
            self._failed(f"model of {record.name} (it cannot be pickled)", exc)
            payload = dataclasses.replace(call, estimator=None, X=None, y=None, sample_weight=None)

        def logged(value: fit_logging.FitLogged | None, error: BaseException | None) -> None:
            for what, failure in value.failures if value else []:
                self._failed(what, RuntimeError(failure))

        self._client.submit(
            f"logging {record.name}",
            "log_fit",
            on_done=logged,
            run=run.key,
            fit=f"{run.key}/{record.name}",
            record=record,
            call=payload,
        )

    def _on_evaluation(self, evaluation: Evaluation) -> None:
        try:
            known = self._fit_records.get(evaluation.estimator)
        except TypeError:  # unhashable
            return
        if known is None or self.active is None:
            return
        run_key, record = known
        self._client.submit(
            f"{evaluation.key} of {record.name}",
            "log_evaluation",
            run=run_key,
            fit=f"{run_key}/{record.name}",
            key=evaluation.key,
            value=evaluation.value,
            step=record.next_step(evaluation.key),
            timestamp=int(time.time() * 1000),
        )

    # -- end ------------------------------------------------------------------------------

    def end(self, failed: bool = False, wait: float = END_WAIT_S) -> EndedRun:
        """Log the snapshot, code and environment and close the run, after everything the
        run's fits sent before (the logging process answers in order); waits ``wait``
        seconds at most, with a message once it has to wait."""
        _, run = self._require_run("end")
        self._hooks.enabled = False
        status = "FAILED" if failed else "FINISHED"
        try:
            self._redactor.learn(self._user_ns)
            names: list[str] = []
            if run.notebook is not None and run.notebook.is_file():
                names = lineage.parameter_names(lineage.read_notebook(run.notebook))
            late = self._parameter_values(names)  # a parameters cell run after `track`
            files = self._end_files(run)
            if run.opened_id is not None and run.job_run is None:
                self._leave_fluent_run(run.opened_id, status)  # a job's runner ends its run
            closed = self._client.submit(
                "closing the notebook's run",
                "close_run",
                run=run.key,
                status=status,
                files=files,
                late_params=late,
            )
        finally:
            self._run = None
            self._settings = None
        self._client.flush(wait, on_wait=self._tell_waiting)
        if run.error is not None:  # the run never opened: that is the error to show
            self._client.discard_failures(OPENING)
            raise run.error
        if not closed.wait(0):
            raise MlopsError(
                ErrorCode.UNAVAILABLE,
                f"The run is still being logged after {wait:.0f} s (the tracking store is "
                "slow or unreachable); it closes when that is done. See %mlops status.",
            )
        if closed.error is not None:
            raise closed.error
        return EndedRun(closed.value, status, list(files), self._client.pending)

    def _leave_fluent_run(self, run_id: str, status: str) -> None:
        """If the user's MLflow made our run its fluent run, pop it (the logging process
        writes the end itself)."""
        if "mlflow" not in sys.modules:
            return
        import mlflow

        active = mlflow.active_run()
        if active is not None and active.info.run_id == run_id:
            mlflow.end_run(status)

    def _end_files(self, run: RunHandle) -> dict[str, str]:
        """The end-of-run artifacts by path: snapshot, executed code, environment.

        In a job execution the runner logs the output notebook, with its outputs, under
        the same name: the saved file (without them) must not overwrite it.
        """
        files: dict[str, str] = {}
        if run.notebook is not None and run.notebook.is_file() and run.job_run is None:
            snapshot = self._redactor.notebook(lineage.read_notebook(run.notebook))
            files[f"{NOTEBOOK_ARTIFACT_DIR}/{run.notebook.name}"] = (
                json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n"
            )
        files[EXECUTED_CODE_ARTIFACT] = self._executed_code()
        files["environment/requirements.txt"] = lineage.requirements_txt()
        files["environment/python.txt"] = lineage.python_version() + "\n"
        return files

    def _executed_code(self) -> str:
        return lineage.executed_code(self._executed_cells(), self._first_cell, self._redactor)

    def shut_down(self) -> None:
        """``%unload_ext``: fits are no longer watched; the logging process finishes what
        it was sent and exits."""
        self._hooks.uninstall()
        self._client.close()

    def _at_exit(self) -> None:
        """Interpreter exit (kernel shutdown): send what ``end`` would and go; the logging
        process logs it even once the kernel is gone."""
        if self.active is not None:
            with contextlib.suppress(Exception):  # nothing can be reported at exit
                self.end(wait=EXIT_WAIT_S)
        self._client.close(timeout=EXIT_WAIT_S)  # what is queued reaches the process
