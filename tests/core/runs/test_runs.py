"""Run detail, notebook snapshot, experiments, runs_frame and comparison on a real store."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import InvalidInput, NotFound, TooLarge
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
from mlops_lab.core.mlflow.tags import NOTEBOOK_ARTIFACT
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


def run_with_notebook_tag(settings: Settings, tmp: Path, tag: str) -> str:
    """A run with a real snapshot under ``notebook/`` and the notebook tag set to ``tag``,
    in an experiment of its own so the runs tests' experiment keeps its three runs."""
    client = client_for(settings)
    run_id = client.create_run(ensure_experiment(settings, "tags")).info.run_id
    snapshot = tmp / run_id / "train.ipynb"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(json.dumps(NOTEBOOK))
    client.log_artifact(run_id, str(snapshot), "notebook")
    client.set_tag(run_id, NOTEBOOK_ARTIFACT, tag)
    return run_id


@pytest.mark.parametrize(
    "tag,fragment",
    [
        ("", "which is not a path inside the run's artifacts"),
        ("   ", "which is not a path inside the run's artifacts"),
        ("../../etc/passwd", "which is not a path inside the run's artifacts"),
        ("/etc/passwd", "which is not a path inside the run's artifacts"),
        ("notebook", "names a folder of artifacts, not a notebook file"),
        ("notebook/", "names a folder of artifacts, not a notebook file"),
    ],
)
def test_notebook_tag_that_names_no_file_is_invalid(env, tmp_path: Path, tag, fragment) -> None:
    settings, _ = env
    run_id = run_with_notebook_tag(settings, tmp_path, tag)
    with pytest.raises(InvalidInput, match=re.escape(fragment)) as caught:
        get_notebook(settings, run_id)
    assert NOTEBOOK_ARTIFACT in caught.value.message and run_id in caught.value.message


def test_notebook_tag_naming_a_missing_file_is_not_found(env, tmp_path: Path) -> None:
    settings, _ = env
    run_id = run_with_notebook_tag(settings, tmp_path, "notebook/other.ipynb")
    with pytest.raises(NotFound, match=r"names notebook 'notebook/other\.ipynb' but has no such"):
        get_notebook(settings, run_id)


def test_notebook_that_is_not_json_is_invalid(env, tmp_path: Path) -> None:
    settings, _ = env
    run_id = run_with_notebook_tag(settings, tmp_path, "notebook/train.ipynb")
    broken = tmp_path / "broken" / "train.ipynb"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xfe not json")
    client_for(settings).log_artifact(run_id, str(broken), "notebook")
    with pytest.raises(InvalidInput, match="is not valid JSON"):
        get_notebook(settings, run_id)


def test_snapshot_over_the_limit_is_refused_before_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_MAX_SERVED_ARTIFACT_MB": "0.5"})
    runs = make_runs(settings, tmp_path)
    client = client_for(settings)
    run_id = client.create_run(runs.experiment_id).info.run_id
    big = tmp_path / "big" / "train.ipynb"
    big.parent.mkdir()
    cell = {"cell_type": "markdown", "source": "x" * 1_000, "metadata": {}}
    big.write_text(json.dumps({**NOTEBOOK, "cells": [cell] * 600}))  # about 0.63 MB
    client.log_artifact(run_id, str(big), "notebook")
    client.set_tag(run_id, NOTEBOOK_ARTIFACT, "notebook/train.ipynb")

    downloads: list[str] = []
    real_download = MlflowClient.download_artifacts
    monkeypatch.setattr(  # count calls only: the store and the listing stay real
        MlflowClient,
        "download_artifacts",
        lambda self, *a, **k: downloads.append(a[1]) or real_download(self, *a, **k),
    )
    with pytest.raises(TooLarge) as caught:
        get_notebook(settings, run_id)
    message = caught.value.message
    assert caught.value.http_status == 413
    assert "is 0.63 MB, above the 0.5 MB" in message
    assert f"mlflow artifacts download -r {run_id} -a notebook/train.ipynb" in message
    assert "max-served-artifact-mb" in message and "MLOPS_LAB_MAX_SERVED_ARTIFACT_MB" in message
    assert downloads == []
    # Under the limit the same code path downloads and parses it.
    assert get_notebook(settings, runs.alpha) == ("notebook/train.ipynb", NOTEBOOK)
    assert downloads == ["notebook/train.ipynb"]


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
