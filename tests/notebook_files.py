"""Writing small notebooks for tests: a cell tagged ``parameters``, then code cells."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(
    path: Path, *cells: str, parameters: str | None = None, kernel: str | None = "python3"
) -> Path:
    """``path``: the ``parameters`` cell (unless None), then ``cells``, on ``kernel``."""
    notebook = nbformat.v4.new_notebook()
    if kernel is not None:
        notebook.metadata["kernelspec"] = {
            "name": kernel,
            "display_name": "Python 3",
            "language": "python",
        }
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        notebook.cells.append(cell)
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
