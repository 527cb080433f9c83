"""Fixtures for the engine and pool tests: small notebooks, and a check that no kernel is left."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from mlops_lab.core.jobs.forkserver import TEMPLATE
from tests import notebook_files

TEMPLATE_NAME = TEMPLATE.name


def kernel_processes() -> set[int]:
    """Pids of the kernels this test process started that still exist (zombies included).

    A kernel forked from the kernel template has the template's command line: every
    child of a template is a kernel (the template itself lives as long as its worker).
    """
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if any("ipykernel" in part for part in child.cmdline()) or _forked(child):
                found.add(child.pid)
        except psutil.ZombieProcess:
            found.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return found


def _forked(process: psutil.Process) -> bool:
    parent = process.parent()
    return parent is not None and any(TEMPLATE_NAME in part for part in parent.cmdline())


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a Python 3 notebook of code cells into ``tmp_path/work`` and return its path.

    ``parameters`` (a source) becomes the first cell, tagged ``parameters``.
    """
    folder = tmp_path / "work"
    folder.mkdir(exist_ok=True)

    def write(name: str, cells: list[str], *, parameters: str | None = None) -> Path:
        return notebook_files.write_notebook(folder / name, *cells, parameters=parameters)

    return write


@pytest.fixture
def no_kernel_left() -> Iterator[None]:
    """Fail the test when a kernel it started still exists (or was never reaped) at its end."""
    before = kernel_processes()
    yield
    left = kernel_processes() - before
    assert not left, f"kernels still running after the test: {sorted(left)}"
