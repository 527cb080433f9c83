"""Parsing ``KEY=VALUE`` arguments, shared by the faces that take them (magic and CLI).

The core takes typed mappings; turning a user's words into them is a face's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mlops_lab.core.errors import InvalidInput


def parse_pairs(tokens: Iterable[str], what: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a token without ``=`` is an error."""
    pairs: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"Expected {what} as KEY=VALUE, got '{token}'.")
        pairs[key.strip()] = value
    if not pairs:
        raise InvalidInput(f"Give at least one {what} as KEY=VALUE.")
    return pairs


def parse_metrics(tokens: Iterable[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for key, value in parse_pairs(tokens, "metric").items():
        try:
            metrics[key] = float(value)
        except ValueError:
            raise InvalidInput(
                f"Metric '{key}' must be a number, got '{value}'. Use %mlops param or "
                "%mlops tag for text."
            ) from None
    return metrics


def parse_job_parameters(tokens: Iterable[str]) -> dict[str, str]:
    """``-p alpha=0.5 -p depth=3,5`` -> ``{"alpha": "0.5", "depth": "3,5"}``, values as text.

    The core reads each text as the type the notebook's parameters cell declares (and a
    comma-separated text as a sweep), so the faces only split the words. A name given
    twice is refused rather than letting the last one win silently: a sweep is written
    as one assignment with commas.
    """
    texts: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        name = key.strip()
        if not sep or not name:
            raise InvalidInput(
                f"Expected a parameter as NAME=VALUE, got '{token}' (e.g. -p alpha=0.5).",
                param="parameters",
            )
        if name in texts:
            raise InvalidInput(
                f"Parameter '{name}' is given twice ('{texts[name]}' and '{value}'): give it "
                f"once, or sweep its values with commas: -p {name}={texts[name]},{value}.",
                param=name,
            )
        texts[name] = value
    return texts


def notebook_argument(text: str, cwd: Path) -> str:
    """A notebook named on a command line, as the core takes it.

    People name a notebook two ways: relative to where they are (a shell's directory, a
    kernel's folder: what tab completion gives) or relative to the Jupyter root (what
    JupyterLab's "Copy Path" gives). A relative path that names a file from ``cwd`` is
    made absolute; anything else is passed on for the core to resolve against the root
    (and to refuse, in its words, when it is missing or outside).
    """
    path = Path(text).expanduser()
    if not path.is_absolute() and (cwd / path).is_file():
        return str(cwd / path)
    return text
