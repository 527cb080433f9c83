"""KEY=VALUE parsing shared by the magic and the CLI."""

from __future__ import annotations

import pytest

from mlops_lab.core.errors import InvalidInput
from mlops_lab.faces.arguments import parse_metrics, parse_pairs


def test_parse_pairs_and_metrics() -> None:
    assert parse_pairs(["a=1", "b=x=y", "c="], "tag") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_metrics(["acc=0.9", "n=3"]) == {"acc": 0.9, "n": 3.0}
    with pytest.raises(InvalidInput, match="Metric 'acc' must be a number, got 'high'"):
        parse_metrics(["acc=high"])
    with pytest.raises(InvalidInput, match="KEY=VALUE, got 'oops'"):
        parse_pairs(["oops"], "param")
