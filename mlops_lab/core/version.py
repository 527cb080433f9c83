"""The package version, read from the installed distribution's metadata.

Reading metadata (rather than a generated ``_version.py``) keeps the core free of any
import of the top-level package, so the import contracts hold on a clone that was never
built.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlops_lab")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
