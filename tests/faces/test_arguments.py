"""KEY=VALUE parsing shared by the magic and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_lab.core.errors import InvalidInput
from mlops_lab.faces.arguments import (
    notebook_argument,
    parse_job_parameters,
    parse_metrics,
    parse_pairs,
)


def test_parse_pairs_and_metrics() -> None:
    assert parse_pairs(["a=1", "b=x=y", "c="], "tag") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_metrics(["acc=0.9", "n=3"]) == {"acc": 0.9, "n": 3.0}
    with pytest.raises(InvalidInput, match="Metric 'acc' must be a number, got 'high'"):
        parse_metrics(["acc=high"])
    with pytest.raises(InvalidInput, match="KEY=VALUE, got 'oops'"):
        parse_pairs(["oops"], "param")


def test_job_parameters_are_texts_for_the_core() -> None:
    assert parse_job_parameters([]) == {}
    assert parse_job_parameters(["alpha=0.1,0.5", "q=a=b", " name = x y", "empty="]) == {
        "alpha": "0.1,0.5",
        "q": "a=b",
        "name": " x y",
        "empty": "",
    }
    with pytest.raises(InvalidInput, match="NAME=VALUE, got 'oops'") as missing:
        parse_job_parameters(["oops"])
    assert missing.value.param == "parameters"
    with pytest.raises(InvalidInput, match="given twice") as twice:
        parse_job_parameters(["alpha=1", "alpha=2"])
    assert "-p alpha=1,2" in twice.value.message and twice.value.param == "alpha"


def test_notebook_argument_from_here_or_from_the_root(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "nb.ipynb").write_text("{}")
    here = tmp_path / "work"
    assert notebook_argument("nb.ipynb", here) == str(here / "nb.ipynb")
    assert notebook_argument("work/nb.ipynb", here) == "work/nb.ipynb"  # the root's to resolve
    assert notebook_argument("../../etc/passwd", here) == "../../etc/passwd"
    assert notebook_argument(str(here / "nb.ipynb"), tmp_path) == str(here / "nb.ipynb")
