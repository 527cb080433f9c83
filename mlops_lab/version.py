"""The package version, importable by the core without loading the faces."""

try:
    from mlops_lab._version import __version__
except ImportError:  # a source tree that was never built
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
