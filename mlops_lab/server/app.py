"""The Jupyter Server extension: resolves settings once and registers the REST routes."""

from __future__ import annotations

import os

from jupyter_server.extension.application import ExtensionApp
from traitlets import Unicode

from mlops_lab.config import ROOT_ENV, Settings, resolve_settings
from mlops_lab.errors import ConfigError
from mlops_lab.server.handlers import ROUTES
from mlops_lab.store import LabStore


class MlopsLabApp(ExtensionApp):
    """Holds the resolved :class:`Settings` and the shared store for every handler."""

    name = "mlops_lab"

    tracking_uri = Unicode(None, allow_none=True, config=True, help="MLflow tracking URI.")
    registry_uri = Unicode(None, allow_none=True, config=True, help="MLflow registry URI.")
    store_url = Unicode(None, allow_none=True, config=True, help="mlops-lab store URL.")
    home = Unicode(None, allow_none=True, config=True, help="Folder of the embedded stores.")
    mlflow_ui_url = Unicode(None, allow_none=True, config=True, help="Link to the MLflow UI.")

    settings_: Settings
    lab_store: LabStore | None = None
    config_error: ConfigError | None = None

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = self.serverapp.root_dir
        # Kernels started by this server resolve the same default stores as the server.
        os.environ.setdefault(ROOT_ENV, str(root))
        try:
            self.settings_ = resolve_settings(
                root,
                tracking_uri=self.tracking_uri,
                registry_uri=self.registry_uri,
                store_url=self.store_url,
                home=self.home,
                mlflow_ui_url=self.mlflow_ui_url,
            )
            self.lab_store = LabStore(self.settings_.store_url)
        except ConfigError as exc:
            self.config_error = exc
            self.log.error("mlops-lab is not configured: %s", exc)
            return
        self.log.info(
            "mlops-lab: MLflow tracking at %s", self.settings_.values["tracking_uri"].masked_value
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    def raise_config_error(self) -> None:
        if self.config_error is not None:
            raise self.config_error

    async def stop_extension(self) -> None:
        if self.lab_store is not None:
            self.lab_store.dispose()
