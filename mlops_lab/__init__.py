"""mlops-lab: from an exploratory notebook to a governed production model in JupyterLab."""

from __future__ import annotations

from typing import Any

from mlops_lab.core.version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "mlops-lab"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from mlops_lab.faces.server.app import MlopsLabApp

    return [{"module": "mlops_lab", "app": MlopsLabApp}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mlops_lab``: registers the ``%mlops`` magics."""
    from mlops_lab.faces.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from mlops_lab.faces.magics import unload_ipython_extension as unload

    unload(ipython)
