"""Run detail, notebook snapshot, experiments, runs_frame and comparison on a real store."""

from __future__ import annotations

import math
import re

import matplotlib
import pandas as pd
import pytest

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.runs.compare import compare_runs
from mlops_lab.core.runs.detail import get_notebook, get_run
from mlops_lab.core.runs.search import list_experiments, runs_frame
from tests.runs_data import NOTEBOOK, Runs, make_runs

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Runs]:
    root = tmp_path_factory.mktemp("runs")
    settings = resolve_settings(root, environ={}, mlflow_ui_url="http://mlflow.example:5000/")
    return settings, make_runs(settings, root)


def test_run_detail_has_lineage(env) -> None:
    settings, runs = env
    detail = get_run(settings, runs.alpha)
    assert detail.run_name == "alpha"
    assert detail.params == {"lr": "0.1", "epochs": "2"}
    assert detail.metrics == {"acc": 0.8}
    assert detail.git_commit == "abc123"
    assert detail.notebook_path == "notebooks/train.ipynb"
    assert detail.notebook_artifact == "notebook/train.ipynb"
    assert (detail.git_branch, detail.git_dirty) == ("main", True)
    assert get_run(settings, runs.beta).git_dirty is False
    assert detail.artifacts == ["notebook/train.ipynb"]
    [dataset] = detail.datasets
    assert (dataset.name, dataset.digest, dataset.context) == ("iris", "d1g3st", "training")
    assert detail.mlflow_url == (
        f"http://mlflow.example:5000/#/experiments/{runs.experiment_id}/runs/{runs.alpha}"
    )


def test_bare_run_has_no_lineage(env) -> None:
    settings, runs = env
    detail = get_run(settings, runs.bare)
    assert detail.git_dirty is None and detail.notebook_artifact is None
    assert detail.datasets == [] and detail.artifacts == []


def test_unknown_run_is_one_line_not_found(env) -> None:
    settings, _ = env
    with pytest.raises(NotFound) as caught:
        get_run(settings, "abc")
    assert caught.value.message == f"Run 'abc' was not found in {settings.tracking_uri}."


def test_notebook_snapshot(env) -> None:
    settings, runs = env
    assert get_notebook(settings, runs.alpha) == ("notebook/train.ipynb", NOTEBOOK)
    with pytest.raises(NotFound, match="has no notebook snapshot"):
        get_notebook(settings, runs.bare)


def test_experiments_list_active_ones(env) -> None:
    settings, runs = env
    names = {e.name: e.experiment_id for e in list_experiments(settings).experiments}
    assert names["exp"] == runs.experiment_id


def test_experiments_are_paged_and_searchable_by_name(env) -> None:
    settings, _ = env
    every = [e.name for e in list_experiments(settings, max_results=1000).experiments]
    first = list_experiments(settings, max_results=1)
    assert len(first.experiments) == 1 and first.next_page_token is not None
    second = list_experiments(settings, max_results=1000, page_token=first.next_page_token)
    assert [e.name for e in first.experiments + second.experiments] == every
    assert [e.name for e in list_experiments(settings, name="EX").experiments] == ["exp"]
    with pytest.raises(InvalidInput) as caught:
        list_experiments(settings, name="other", page_token=first.next_page_token)
    assert caught.value.param == "page_token"


def test_runs_frame_newest_first_with_columns(env) -> None:
    settings, runs = env
    frame = runs_frame(settings, "exp")
    assert list(frame["run_id"]) == [runs.beta, runs.alpha, runs.bare]
    assert list(frame.columns) == [
        "run_id",
        "run_name",
        "status",
        "start_time",
        "params.epochs",
        "params.lr",
        "metrics.acc",
        "metrics.loss",
    ]
    assert pd.api.types.is_datetime64_any_dtype(frame["start_time"])
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert frame.loc[0, "start_time"] == pd.Timestamp(2_001, unit="ms", tz="UTC")
    assert math.isnan(frame.loc[2, "metrics.acc"])


def test_runs_frame_filter_sort_limit(env) -> None:
    settings, runs = env
    frame = runs_frame(settings, "exp", "params.lr = '0.1'", "attributes.start_time ASC", 1)
    assert list(frame["run_id"]) == [runs.bare]
    with pytest.raises(InvalidInput, match="limit must be at least 1"):
        runs_frame(settings, "exp", limit=0)


def test_compare_marks_differences_and_keeps_histories(env) -> None:
    settings, runs = env
    result = compare_runs(settings, [runs.alpha, runs.beta, runs.bare])
    table = result.table()
    assert list(table.index) == ["params.epochs", "params.lr", "metrics.acc", "metrics.loss"]
    assert (
        [run.label for run in result.runs]
        == list(table.columns)
        == [
            f"alpha ({runs.alpha[:8]})",
            f"beta ({runs.beta[:8]})",
            f"bare ({runs.bare[:8]})",
        ]
    )
    assert result.differing == ["params.epochs", "params.lr", "metrics.acc", "metrics.loss"]
    assert result.histories == []  # 'bare' has no acc: no shared curve


def test_compare_two_runs_histories_style_and_plot(env) -> None:
    settings, runs = env
    result = compare_runs(settings, [runs.alpha, runs.beta])
    assert result.differing == ["params.lr", "metrics.acc"]
    [history] = result.histories
    assert history.metric == "acc"
    assert [s.label for s in history.series] == [run.label for run in result.runs]
    assert [[(p.step, p.value) for p in s.points] for s in history.series] == [
        [(0, 0.5), (1, 0.8)],
        [(0, 0.6), (1, 0.9)],
    ]
    html = result.styled().to_html()
    highlighted = set(re.findall(r"_(row\d_col\d)\b[^{]*?(?=[,{])", html.split("}")[0]))
    assert highlighted == {"row1_col0", "row1_col1", "row2_col0", "row2_col1"}
    assert "background-color: #fff3cd" in html
    figure = result.plot()
    assert figure is not None and len(figure.axes) == 1


def test_compare_needs_two_known_runs(env) -> None:
    settings, runs = env
    with pytest.raises(InvalidInput, match="at least two"):
        compare_runs(settings, [runs.alpha, runs.alpha])
    with pytest.raises(NotFound, match="Run 'nope' was not found"):
        compare_runs(settings, [runs.alpha, "nope"])
