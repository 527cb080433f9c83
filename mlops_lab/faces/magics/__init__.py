"""The IPython face: ``%load_ext mlops_lab`` registers ``%mlops``."""

from mlops_lab.faces.magics.mlops_magics import (
    MlopsMagics,
    load_ipython_extension,
    unload_ipython_extension,
)

__all__ = ["MlopsMagics", "load_ipython_extension", "unload_ipython_extension"]
