"""The command-line face: ``mlops-lab``."""

from mlops_lab.faces.cli.commands import cli, main

__all__ = ["cli", "main"]
