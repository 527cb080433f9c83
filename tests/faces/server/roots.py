"""Jupyter roots in the states the server tests need."""

from __future__ import annotations

from pathlib import Path

MISSPELT_KEY = "traking-uri"


def misconfigured_root(tmp_path: Path) -> Path:
    """A root whose ``pyproject.toml`` has an unknown key in ``[tool.mlops-lab]``."""
    root = tmp_path / "root_dir"
    root.mkdir()
    (root / "pyproject.toml").write_text(f'[tool.mlops-lab]\n{MISSPELT_KEY} = "x"\n')
    return root
