"""Jupyter roots in the states the server tests need."""

from __future__ import annotations

from pathlib import Path

import nbformat

MISSPELT_KEY = "traking-uri"


def misconfigured_root(tmp_path: Path) -> Path:
    """A root whose ``pyproject.toml`` has an unknown key in ``[tool.mlops-lab]``."""
    root = tmp_path / "root_dir"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[tool.mlops-lab]\n{MISSPELT_KEY} = "x"\n')
    return root


JOB_PARAMETERS = 'alpha = 0.5\nepochs = 3\nname = "base"\nflags = [1, 2]\nverbose = False\n'
"""The parameters cell of ``train.ipynb``: one variable of each type a form shows."""


def write_notebook(path: Path, *sources: str, parameters: str | None = JOB_PARAMETERS) -> None:
    """A notebook whose first cell (tagged ``parameters``) holds ``parameters``."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        notebook.cells.append(cell)
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in sources)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def add_job_notebooks(root: Path) -> Path:
    """``train.ipynb`` (typed parameters), ``plain.ipynb`` (none), and two broken files."""
    write_notebook(
        root / "train.ipynb",
        'print(f"alpha={alpha} epochs={epochs}")',
        "result = alpha * epochs\nresult",
    )
    write_notebook(root / "plain.ipynb", "print('no parameters')", parameters=None)
    (root / "not-json.ipynb").write_text("{ this is not json")
    (root / "not-a-notebook.ipynb").write_text('{"hello": "world"}')
    return root
