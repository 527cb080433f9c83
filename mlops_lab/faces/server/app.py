"""The Jupyter Server extension: resolves settings once, registers the REST routes,
closes the runs of kernels that died (the server outlives its kernels), and runs a
scheduler for cron schedules on a thread of its own."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Type, Unicode

from mlops_lab.core.config import ROOT_ENV, Settings, resolve_settings
from mlops_lab.core.errors import ConfigError
from mlops_lab.core.jobs.scheduler import Scheduler, start_in_thread
from mlops_lab.core.store import LabStore, store_exists
from mlops_lab.core.tracking.orphans import reap_orphaned_runs
from mlops_lab.faces.server.routes import ROUTES


class MlopsLabApp(ExtensionApp):
    """Holds the resolved :class:`Settings` and the shared store for every handler.

    The swappable parts are ``Type`` traits (as jupyter-scheduler does), so a deployment
    or a test can replace one in ``jupyter_server_config.py`` without subclassing.
    """

    name = "mlops_lab"

    tracking_uri = Unicode(None, allow_none=True, config=True, help="MLflow tracking URI.")
    registry_uri = Unicode(None, allow_none=True, config=True, help="MLflow registry URI.")
    store_url = Unicode(None, allow_none=True, config=True, help="mlops-lab store URL.")
    home = Unicode(None, allow_none=True, config=True, help="Folder of the embedded stores.")
    mlflow_ui_url = Unicode(None, allow_none=True, config=True, help="Link to the MLflow UI.")

    store_class = Type(
        default_value=LabStore,
        klass=LabStore,
        config=True,
        help="The class of mlops-lab's own store (jobs, schedules, audit events).",
    )

    reap_interval = Float(
        10.0,
        config=True,
        help=(
            "Seconds between two looks for runs left RUNNING by a kernel that died "
            "(closed as KILLED with their notebook snapshot); 0 turns the reaper off."
        ),
    )

    _settings: Settings | None = None
    _reaper: PeriodicCallback | None = None
    _reaper_pool: ThreadPoolExecutor | None = None
    _reaping: Future[object] | None = None
    lab_store: LabStore | None = None
    scheduler: Scheduler | None = None
    """Fires cron schedules while this server runs (the ``scheduler`` setting)."""
    config_error: ConfigError | None = None

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = self.serverapp.root_dir
        # Kernels started by this server resolve the same default stores as the server.
        os.environ.setdefault(ROOT_ENV, str(root))
        try:
            self._settings = resolve_settings(
                root,
                tracking_uri=self.tracking_uri,
                registry_uri=self.registry_uri,
                store_url=self.store_url,
                home=self.home,
                mlflow_ui_url=self.mlflow_ui_url,
            )
            self.lab_store = self.store_class(self._settings.store_url)
        except ConfigError as exc:
            self.config_error = exc
            self.log.error("mlops-lab is not configured: %s", exc)
            return
        self.log.info(
            "mlops-lab: MLflow tracking at %s", self._settings.values["tracking_uri"].masked_value
        )
        if self.reap_interval > 0:
            # Started once the loop runs; pytest-jupyter never calls the server's _post_start.
            self.serverapp.io_loop.add_callback(self._start_reaper)
        if self._settings.scheduler_in_server:
            self.scheduler = start_in_thread(self._settings)

    # -- the orphaned-run reaper --------------------------------------------------------------

    def _start_reaper(self) -> None:
        self._reaper_pool = ThreadPoolExecutor(1, thread_name_prefix="mlops-reaper")
        self._reaper = PeriodicCallback(self._reap_tick, self.reap_interval * 1000)
        self._reaper.start()

    def _reap_tick(self) -> None:
        """Hand one reaping pass to the worker thread, unless the last one is still going:
        the store and MLflow calls never run on the event loop."""
        if self._reaper_pool is None or (self._reaping is not None and not self._reaping.done()):
            return
        self._reaping = self._reaper_pool.submit(self._reap_once)

    def _reap_once(self) -> object:
        try:
            if not store_exists(self.settings_):
                return None  # no kernel of this root ever tracked a run
            reaped = reap_orphaned_runs(self.settings_, self.store, reaper="the Jupyter server")
        except Exception as exc:  # a down store must not stop later passes
            self.log.warning("mlops-lab: looking for runs of dead kernels failed: %s", exc)
            return None
        for run in reaped:
            self.log.info(
                "mlops-lab: run %s of %s closed as %s: its kernel is gone",
                run.run_id,
                run.notebook or run.experiment,
                run.status,
            )
        return reaped

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    @property
    def settings_(self) -> Settings:
        """The resolved settings; raises the configuration error when there are none.

        Every handler reads settings through here, so a broken ``[tool.mlops-lab]`` is
        the same 503 with the file and key on every route, never an ``AttributeError``.
        """
        if self.config_error is not None:
            raise self.config_error
        assert self._settings is not None
        return self._settings

    @property
    def store(self) -> LabStore:
        """Our store, under the same guard as :attr:`settings_`."""
        settings = self.settings_
        if self.lab_store is None:
            self.lab_store = self.store_class(settings.store_url)
        return self.lab_store

    async def stop_extension(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._reaper is not None:
            self._reaper.stop()
        if self._reaper_pool is not None:
            self._reaper_pool.shutdown(wait=True, cancel_futures=True)
        if self.lab_store is not None:
            self.lab_store.dispose()
