"""Small notebooks the job faces' tests run for real: written with nbformat under a root."""

from __future__ import annotations

from pathlib import Path

from tests import notebook_files

PARAMETERS = 'alpha = 0.5\nname = "x"'
"""The cell tagged ``parameters`` of :func:`write_notebook`'s notebooks."""


def write_notebook(
    root: Path, relative: str, *cells: str, parameters: str | None = PARAMETERS
) -> Path:
    """``root/relative``: a parameters cell (unless None), then ``cells``, on python3."""
    return notebook_files.write_notebook(root / relative, *cells, parameters=parameters)


def adds(root: Path, relative: str = "work/adds.ipynb") -> Path:
    """Succeeds in three cells, printing what it was given."""
    return write_notebook(
        root,
        relative,
        'print(f"alpha={alpha} name={name}")',
        "result = alpha * 2\nprint('result', result)",
    )


def fails(root: Path, relative: str = "work/fails.ipynb") -> Path:
    """Its third cell (index 2) raises ``ValueError: alpha too small``."""
    return write_notebook(
        root,
        relative,
        "print('before')",
        "if alpha < 1:\n    raise ValueError('alpha too small')",
        "print('never')",
    )


def sleeps(root: Path, relative: str = "work/sleeps.ipynb") -> Path:
    """Busy for ``alpha`` seconds in its second cell (index 1)."""
    return write_notebook(root, relative, "import time\ntime.sleep(alpha)", "print('woke')")
