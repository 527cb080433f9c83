"""Notebook run tracking: one MLflow run per ``%mlops track``, with its lineage.

A :class:`TrackingSession` (one per kernel) opens an MLflow run for a notebook, tags it
so MLflow's UI shows the notebook, git commit and user, turns on scikit-learn
autologging into that same run, logs the notebook's ``parameters`` cell as params, and
on ``end`` (or a new ``track``, or interpreter exit) logs the notebook snapshot, the code
in execution order and the environment before closing the run. While the run is open a
row in our store says which process holds it, so a run whose kernel dies without any of
those is closed by whoever notices (:mod:`~mlops_lab.core.tracking.orphans`).

Nothing here runs per cell: the code in execution order comes from a provider the face
passes in (the magic hands over IPython's own input history), so an active run costs a
cell nothing. This module never imports IPython.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError
from mlops_lab.core.masking import MASK, is_secret_name
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment, mlflow_errors
from mlops_lab.core.tracking import lineage, orphans

SESSION_ENV = "JPY_SESSION_NAME"
"""Set by jupyter_server in a kernel's environment: the notebook's path (see notebook_path)."""

DEFAULT_EXPERIMENT = "notebooks"
"""The experiment of a run whose notebook is unknown (a console, a plain IPython)."""

NOTEBOOK_ARTIFACT_DIR = "notebook"
EXECUTED_CODE_ARTIFACT = "notebook/executed_code.py"

# Packages a scikit-learn model needs to load, pinned once per session and handed to
# mlflow.sklearn.log_model instead of MLflow inferring them in a subprocess (2.5 s a fit).
SKLEARN_MODEL_PACKAGES = ["scikit-learn", "cloudpickle", "numpy", "scipy", "pandas"]

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


@dataclass
class RunHandle:
    """What ``start`` tells the face: enough to print one helpful line."""

    run_id: str
    experiment: str
    experiment_id: str
    notebook: Path | None
    params: dict[str, str] = field(default_factory=dict)
    replaced: EndedRun | None = None
    """The run that was active before and was ended to open this one."""


@dataclass
class EndedRun:
    run_id: str
    status: str
    artifacts: list[str]


class TrackingSession:
    """The tracking state of one kernel: at most one active run, opened by ``start``.

    Args:
        settings_factory: resolves the settings when a run starts (so a changed
            ``MLFLOW_TRACKING_URI`` is honoured by the next run).
        executed_cells: returns the cells executed so far, oldest first; called only
            when a run ends, never per cell.
        user_ns: the namespace holding the parameters' current values.
        environ: the kernel's environment (for ``JPY_SESSION_NAME``).
        kernel_id: the Jupyter kernel id when the face knows it (kept with the live-run
            row, so a server can tell its kernels' runs).
        history: where the face's input history is kept (IPython's history database and
            this kernel's session in it), so the code of a kernel that died can be read back.
    """

    def __init__(
        self,
        settings_factory: Callable[[], Settings],
        executed_cells: Callable[[], list[Cell]] = list,
        user_ns: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        kernel_id: str | None = None,
        history: tuple[str, int] | None = None,
    ) -> None:
        self._settings_factory = settings_factory
        self._executed_cells = executed_cells
        self._user_ns: Mapping[str, Any] = user_ns if user_ns is not None else {}
        self._environ = environ if environ is not None else os.environ
        self._settings: Settings | None = None
        self._run: RunHandle | None = None
        self._last_experiment: str | None = None
        self._first_cell = 0
        self._logged_params: set[str] = set()
        self._redactor = lineage.Redactor()
        self._autolog = False
        self._atexit_registered = False
        self._model_requirements: list[str] | None = None
        self._kernel_id = kernel_id
        self._history = history
        self._beacon: orphans.LiveRunBeacon | None = None

    # -- state ------------------------------------------------------------------------

    @property
    def active(self) -> RunHandle | None:
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

    # -- start --------------------------------------------------------------------------

    def start(
        self,
        experiment: str | None = None,
        notebook: str | None = None,
        autolog: bool = True,
        first_cell: int = 0,
    ) -> RunHandle:
        """Open a run (ending and logging the previous one first) and make it active.

        ``first_cell`` is the execution count from which this run's cells are counted
        in ``executed_code.py`` (the kernel's earlier cells are kept too, marked as
        such: the run's state depends on them).
        """
        import mlflow

        # Everything a user can get wrong is checked before the active run is touched:
        # a refused argument must leave that run open and logging.
        settings = self._settings_factory()
        path = notebook_path(settings.root, self._environ, self._user_ns, notebook)
        name = experiment or default_experiment(settings.root, path)
        names = lineage.parameter_names(lineage.read_notebook(path)) if path else []
        if experiment is not None and not experiment.strip():
            raise InvalidInput("--experiment is empty: give the experiment's name.")
        replaced = self.end() if self._run is not None else None

        client = client_for(settings)
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.registry_uri)
        experiment_id = ensure_experiment(settings, name)
        with mlflow_errors(settings):
            run = client.create_run(
                experiment_id,
                tags=self._start_tags(settings, path),
                run_name=run_name(path),
            )
            run_id = run.info.run_id
            if mlflow.active_run() is not None:  # the user's own run: ours takes over
                mlflow.end_run()
            mlflow.start_run(run_id=run_id)
        self._settings = settings
        self._run = RunHandle(run_id, name, experiment_id, path, replaced=replaced)
        self._last_experiment = name
        self._first_cell = first_cell
        self._logged_params = set()
        self._redactor = lineage.Redactor()
        self._beacon = orphans.LiveRunBeacon.open(
            settings,
            run_id,
            experiment_id,
            name,
            path,
            kernel_id=self._kernel_id,
            history=self._history,
            first_cell=first_cell,
        )
        try:
            self._run.params = self._log_parameters_cell(names)
            if autolog:
                self._enable_autolog()
        except BaseException:
            self.end(failed=True)
            raise
        if not self._atexit_registered:
            atexit.register(self._at_exit)
            self._atexit_registered = True
        return self._run

    def _start_tags(self, settings: Settings, path: Path | None) -> dict[str, str]:
        tags = {
            run_tags.SOURCE_TYPE: "NOTEBOOK",
            run_tags.USER: lineage.current_user(),
            run_tags.PYTHON_VERSION: lineage.python_version(),
        }
        if path is not None:
            tags[run_tags.SOURCE_NAME] = str(path)
        git = lineage.git_state(path.parent if path else settings.root)
        if git is not None:
            tags[run_tags.GIT_COMMIT] = git.commit
            tags[run_tags.GIT_DIRTY] = "true" if git.dirty else "false"
            if git.branch:
                tags[run_tags.GIT_BRANCH] = git.branch
        return tags

    def _log_parameters_cell(self, names: list[str]) -> dict[str, str]:
        """Log the parameters' *current* values, so papermill's injected ones win."""
        values = {n: self._user_ns[n] for n in names if n in self._user_ns}
        fresh = {k: v for k, v in values.items() if k not in self._logged_params}
        return self.log_params(fresh) if fresh else {}

    # -- params, metrics, tags ------------------------------------------------------------

    def _require_run(self, verb: str) -> tuple[Settings, RunHandle]:
        if self._run is None or self._settings is None:
            raise MlopsError(
                ErrorCode.CONFLICT, f"No active run to {verb}: start one with %mlops track."
            )
        return self._settings, self._run

    def log_params(self, params: Mapping[str, object]) -> dict[str, str]:
        """Log params, secrets masked (see :meth:`_masked`); returns what was stored."""
        settings, run = self._require_run("log params to")
        stored = {k: v[:6000] for k, v in self._masked(params).items()}  # MLflow's limit
        with mlflow_errors(settings):
            import mlflow.entities

            client_for(settings).log_batch(
                run.run_id, params=[mlflow.entities.Param(k, v) for k, v in stored.items()]
            )
        self._logged_params.update(stored)
        return stored

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        settings, run = self._require_run("log metrics to")
        import time

        import mlflow.entities

        now = int(time.time() * 1000)
        batch = [mlflow.entities.Metric(k, v, now, step or 0) for k, v in metrics.items()]
        with mlflow_errors(settings):
            client_for(settings).log_batch(run.run_id, metrics=batch)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        settings, run = self._require_run("tag")
        import mlflow.entities

        batch = [mlflow.entities.RunTag(k, v) for k, v in self._masked(tags).items()]
        with mlflow_errors(settings):
            client_for(settings).log_batch(run.run_id, tags=batch)

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

    # -- autolog ----------------------------------------------------------------------------

    def _enable_autolog(self) -> None:
        """scikit-learn autologging into our run, without the 2.5 s requirements inference."""
        import mlflow.sklearn

        if self._model_requirements is None:
            self._model_requirements = lineage.pinned(SKLEARN_MODEL_PACKAGES)
        _SklearnSeams.install(self._model_requirements, self._masked)
        mlflow.sklearn.autolog(
            log_input_examples=True,
            log_model_signatures=True,
            log_models=True,
            log_datasets=True,
            exclusive=False,
            silent=True,
        )
        # MLflow 3.17's autolog metrics still pass scikit-learn 1.9 the renamed `y_pred`
        # argument; the FutureWarning would show in red under the user's own fit. The
        # filter names that one message only, and stays for the kernel's life.
        warnings.filterwarnings("ignore", message=_AUTOLOG_NOISE, category=FutureWarning)
        self._autolog = True
        threading.Thread(target=_warm_autolog, name="mlops-warm-autolog", daemon=True).start()

    def _disable_autolog(self) -> None:
        if not self._autolog:
            return
        import mlflow.sklearn

        mlflow.sklearn.autolog(disable=True)
        _SklearnSeams.remove()
        self._autolog = False

    # -- end ------------------------------------------------------------------------------

    def end(self, failed: bool = False) -> EndedRun:
        """Log the snapshot, executed code and environment, then close the run."""
        settings, run = self._require_run("end")
        import mlflow

        status = "FAILED" if failed else "FINISHED"
        artifacts: list[str] = []
        try:
            self._disable_autolog()
            self._redactor.learn(self._user_ns)
            if run.notebook is not None and run.notebook.is_file():
                names = lineage.parameter_names(lineage.read_notebook(run.notebook))
                self._log_parameters_cell(names)  # a parameters cell run after `track`
            with mlflow_errors(settings), tempfile.TemporaryDirectory() as tmp:
                artifacts = self._write_artifacts(Path(tmp), run)
                client = client_for(settings)
                for relative in artifacts:
                    folder = str(Path(relative).parent)
                    client.log_artifact(run.run_id, str(Path(tmp, relative)), folder)
                snapshot = next((a for a in artifacts if a.endswith(".ipynb")), None)
                if snapshot is not None:
                    client.set_tag(run.run_id, run_tags.NOTEBOOK_ARTIFACT, snapshot)
        finally:
            self._run = None
            self._settings = None
            with mlflow_errors(settings):
                active = mlflow.active_run()
                if active is not None and active.info.run_id == run.run_id:
                    mlflow.end_run(status)
                else:
                    client_for(settings).set_terminated(run.run_id, status)
            beacon, self._beacon = self._beacon, None
            if beacon is not None:  # only now: a crash before this still gets the run closed
                beacon.close()
        return EndedRun(run.run_id, status, artifacts)

    def _write_artifacts(self, folder: Path, run: RunHandle) -> list[str]:
        written: list[str] = []

        def write(relative: str, text: str) -> None:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(relative)

        if run.notebook is not None and run.notebook.is_file():
            snapshot = self._redactor.notebook(lineage.read_notebook(run.notebook))
            write(
                f"{NOTEBOOK_ARTIFACT_DIR}/{run.notebook.name}",
                json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n",
            )
        write(EXECUTED_CODE_ARTIFACT, self._executed_code())
        write("environment/requirements.txt", lineage.requirements_txt())
        write("environment/python.txt", lineage.python_version() + "\n")
        return written

    def _executed_code(self) -> str:
        return lineage.executed_code(self._executed_cells(), self._first_cell, self._redactor)

    def _at_exit(self) -> None:
        """Interpreter exit (kernel shutdown): log what ``end`` would, best effort."""
        if self._run is not None:
            with contextlib.suppress(Exception):  # nothing can be reported at exit
                self.end()


_AUTOLOG_NOISE = "`y_pred` was renamed to `y_proba`"


def _warm_autolog() -> None:
    """Pay autolog's one-time costs while the user is still loading data, not in a fit.

    The first logged model builds MLflow's module-to-package map (a scan of every
    installed distribution) and the first classifier imports pyplot for its confusion
    matrix: together about a second, measured on the first tracked fit. Best effort:
    a failure here only means the first fit pays those costs itself.
    """
    with contextlib.suppress(Exception):
        from mlflow.utils import requirements_utils

        requirements_utils._init_packages_to_modules_map()
    with contextlib.suppress(Exception):
        import matplotlib.pyplot  # noqa: F401
        import sklearn.metrics  # noqa: F401


class _SklearnSeams:
    """The two places where autologging gets our policy: pinned requirements and masking.

    MLflow has no setting to skip requirements inference (``MLFLOW_REQUIREMENTS_INFERENCE_
    TIMEOUT`` only bounds the subprocess and falls back with a warning), but
    ``mlflow.sklearn.log_model`` takes ``pip_requirements``: autolog calls it by its module
    name, so while a run tracks we route it through a wrapper that supplies the session's
    pinned requirements when the caller gave none. Autolog's estimator params go through
    the autologging client's ``log_params``, wrapped to mask them as the session masks
    ``%mlops param`` (credential-looking names, known secret values, URI passwords).
    Both wrappers are removed when the run ends.
    """

    _saved: dict[str, Any] = {}

    @classmethod
    def install(
        cls, requirements: list[str], mask: Callable[[Mapping[str, object]], dict[str, str]]
    ) -> None:
        if cls._saved:
            return
        from mlflow.utils.autologging_utils import client as autolog_client

        flavor: Any = importlib.import_module("mlflow.sklearn")
        original_log_model = flavor.log_model
        original_log_params = autolog_client.MlflowAutologgingQueueingClient.log_params

        def log_model(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("pip_requirements") is None and kwargs.get("conda_env") is None:
                kwargs["pip_requirements"] = list(requirements)
            if isinstance(kwargs.get("params"), dict):
                kwargs["params"] = mask(kwargs["params"])
            return original_log_model(*args, **kwargs)

        def log_params(self: Any, run_id: Any, params: dict[str, Any]) -> None:
            original_log_params(self, run_id, mask(params))

        cls._saved = {"log_model": original_log_model, "log_params": original_log_params}
        flavor.log_model = log_model
        autolog_client.MlflowAutologgingQueueingClient.log_params = log_params  # type: ignore[method-assign]

    @classmethod
    def remove(cls) -> None:
        if not cls._saved:
            return
        from mlflow.utils.autologging_utils import client as autolog_client

        flavor: Any = importlib.import_module("mlflow.sklearn")
        flavor.log_model = cls._saved["log_model"]
        autolog_client.MlflowAutologgingQueueingClient.log_params = cls._saved[  # type: ignore[method-assign]
            "log_params"
        ]
        cls._saved = {}
