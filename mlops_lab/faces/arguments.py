"""Parsing ``KEY=VALUE`` arguments, shared by the faces that take them (magic and CLI).

The core takes typed mappings; turning a user's words into them is a face's job.
"""

from __future__ import annotations

from collections.abc import Iterable

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
