"""Parsing ``KEY=VALUE`` arguments, shared by the faces that take them (magic and CLI).

The core takes typed mappings; turning a user's words into them is a face's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

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


def parse_end_date(text: str) -> datetime:
    """``--end 2026-12-31`` or ``2026-12-31T18:00`` (a space works too): a date alone is
    midnight at its start. Without an offset the core reads it in the schedule's zone."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--end must be a date, or a date and time, such as 2026-12-31 or "
            f"'2026-12-31 18:00', got '{text}'.",
            param="end_at",
        ) from None


def schedule_options(
    *,
    timezone: str | None,
    kernel: str | None,
    timeout: float | None,
    retries: int | None,
    retry_backoff: float | None,
    experiment: str | None,
    name: str | None,
    concurrency: str | None,
    max_active: int | None,
    catch_up: str | None,
    end: str | None,
) -> dict[str, Any]:
    """A schedule create's options as the user gave them, under the core's names; the
    ones left out keep the core's defaults. ``concurrency`` and ``catch_up`` stay words:
    the core checks them and names the allowed ones, for every face alike."""
    given: dict[str, Any] = {
        "timezone": timezone,
        "kernel_name": kernel,
        "timeout": timeout,
        "retries": retries,
        "retry_backoff": retry_backoff,
        "experiment": experiment,
        "name": name,
        "concurrency": concurrency,
        "max_active": max_active,
        "catch_up": catch_up,
        "end_at": parse_end_date(end) if end is not None else None,
    }
    return {key: value for key, value in given.items() if value is not None}
