"""``mlops-lab runs`` and ``mlops-lab compare`` against a real temp MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_lab.core.config import resolve_settings
from mlops_lab.faces.cli import cli
from tests.runs_data import Runs, make_runs


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def runs(root: Path, tmp_path: Path) -> Runs:
    return make_runs(resolve_settings(root, environ={}), tmp_path)


def invoke(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--root", str(root), *args])


def test_runs_table_newest_first(root: Path, runs: Runs) -> None:
    result = invoke(root, "runs", "--experiment", "exp")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["run_id", "run_name", "status", "start_time"]
    assert "metrics.acc" in lines[0] and "params.lr" in lines[0]
    assert [line.split()[1] for line in lines[1:]] == ["beta", "alpha", "bare"]
    assert lines[1].startswith(runs.beta[:8])


def test_runs_defaults_to_latest_experiment(root: Path, runs: Runs) -> None:
    result = invoke(root, "runs", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 2


def test_runs_json_filter_and_sort(root: Path, runs: Runs) -> None:
    result = invoke(
        root,
        "runs",
        "-e",
        runs.experiment_id,
        "--filter",
        "params.lr = '0.1'",
        "--sort",
        "metrics.loss DESC",
        "--json",
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["run_id"] for r in records] == [runs.bare, runs.alpha]
    assert records[0]["metrics.loss"] == 1.0
    assert records[0]["start_time"].startswith("1970-01-01T00:00:01")


def test_runs_long_values_are_truncated(root: Path, runs: Runs) -> None:
    result = invoke(root, "runs", "-e", "exp", "--filter", "run_name = 'alpha'")
    assert result.exit_code == 0, result.output
    assert runs.alpha not in result.output and runs.alpha[:8] in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (("runs", "-e", "nope"), "Error: Experiment 'nope' was not found in sqlite:///"),
        (("runs", "-e", "exp", "--filter", "params.lr = 1"), "Error: Expected a quoted string"),
        (("compare", "abc", "def"), "Error: Run 'abc' was not found in sqlite:///"),
        (("compare", "abc"), "Error: Give at least two different run ids to compare."),
    ],
)
def test_errors_are_one_line(root: Path, runs: Runs, args: tuple[str, ...], message: str) -> None:
    result = invoke(root, *args)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


SEVENTY_SORT_KEYS = ",".join(f"metrics.m{i}" for i in range(70))


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "-e", "exp", "--sort", "metrics.`a"),
        ("runs", "-e", "exp", "--filter", "attributes.start_time > 99999999999999999999"),
        ("runs", "-e", "99999999999999999999999"),
        ("runs", "-e", "exp", "--sort", SEVENTY_SORT_KEYS),
        ("runs", "-e", "exp", "--filter", "metrics.`a"),
    ],
)
def test_any_failure_is_one_line_without_sql(root: Path, runs: Runs, args: tuple[str, ...]) -> None:
    """Whether the core maps these to MlopsError or not yet, the CLI prints one line."""
    result = invoke(root, *args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and "SELECT" not in result.output


def test_unexpected_error_names_it_and_debug_shows_it(
    root: Path, runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:  # stands in for a bug of ours in the core
        raise RuntimeError("boom at postgresql://u:hunter2@db/lab\n[SQL: SELECT 1]")

    monkeypatch.setattr("mlops_lab.core.runs.search.runs_frame", broken)
    result = invoke(root, "runs")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: unexpected RuntimeError in mlops-lab (boom at postgresql://u:***@db/lab). "
        "This is a bug: run the command again with `mlops-lab --debug ...` to see the "
        "traceback, and report it."
    )
    debug = CliRunner().invoke(cli, ["--debug", "--root", str(root), "runs"])
    assert isinstance(debug.exception, RuntimeError)


def test_usage_errors_stay_clicks(root: Path) -> None:
    result = invoke(root, "runs", "--limit", "many")
    assert result.exit_code == 2 and "Invalid value for '--limit'" in result.output


def test_compare_marks_differing_rows(root: Path, runs: Runs) -> None:
    result = invoke(root, "compare", runs.alpha, runs.beta)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert f"alpha ({runs.alpha[:8]})" in header and f"beta ({runs.beta[:8]})" in header
    marks = {row[2:].split()[0]: row[0] for row in rows}
    assert marks == {"params.epochs": " ", "params.lr": "*", "metrics.acc": "*"}


def test_compare_json(root: Path, runs: Runs) -> None:
    result = invoke(root, "compare", runs.alpha, runs.beta, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)  # the document GET /mlops-lab/api/compare serves
    assert [r["label"] for r in body["runs"]] == [
        f"alpha ({runs.alpha[:8]})",
        f"beta ({runs.beta[:8]})",
    ]
    rows = {row["key"]: row for row in body["rows"]}
    assert [key for key, row in rows.items() if row["differs"]] == ["params.lr", "metrics.acc"]
    assert rows["params.lr"]["values"] == ["0.1", "0.2"]


def test_compare_takes_the_short_ids_runs_prints(root: Path, runs: Runs) -> None:
    result = invoke(root, "compare", runs.alpha[:8], runs.beta[:8], "--json")
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in json.loads(result.output)["runs"]] == [runs.alpha, runs.beta]


def test_read_only_commands_never_create_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    for args in (["runs"], ["runs", "-e", "exp"], ["compare", "abcd1234", "dcba4321"]):
        result = CliRunner().invoke(cli, ["--root", str(empty), *args])
        assert result.exit_code == 1, result.output
        assert f"No MLflow store at {empty}/.mlops/mlflow.db yet" in result.output
        assert "%mlops track" in result.output
    assert list(empty.iterdir()) == []
