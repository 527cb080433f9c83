"""The runs REST API through real HTTP on a real MLflow SQLite store in the Jupyter root."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.mlflow.connection import client_for
from mlops_lab.core.mlflow.tags import NOTEBOOK_ARTIFACT
from tests.faces.server.test_openapi import error_validator, response_validator
from tests.runs_data import MODEL_FILES, NOTEBOOK, Runs, add_models, make_runs


@pytest.fixture
def runs(jp_root_dir: Path, tmp_path: Path) -> Runs:
    """Runs in the store the server resolves by default: ``<root>/.mlops/mlflow.db``."""
    return make_runs(resolve_settings(jp_root_dir, environ={}), tmp_path)


async def get_json(jp_fetch, *path: str, **params: str) -> dict:
    response = await jp_fetch("mlops-lab", "api", *path, params=params)
    assert response.code == 200
    return json.loads(response.body)


async def error_of(jp_fetch, *path: str, **params: str) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("mlops-lab", "api", *path, params=params)
    return caught.value.code, json.loads(caught.value.response.body)


async def test_experiments(jp_fetch, runs: Runs) -> None:
    body = await get_json(jp_fetch, "experiments")
    response_validator("listExperiments").validate(body)
    assert {e["name"]: e["experiment_id"] for e in body["experiments"]}["exp"] == (
        runs.experiment_id
    )


async def test_runs_page_sorted_by_metric_with_token(jp_fetch, runs: Runs) -> None:
    first = await get_json(
        jp_fetch, "runs", experiment="exp", order_by="metrics.acc DESC", max_results="2"
    )
    response_validator("searchRuns").validate(first)
    assert [r["run_id"] for r in first["runs"]] == [runs.beta, runs.alpha]
    assert first["param_keys"] == ["epochs", "lr"] and first["metric_keys"] == ["acc"]
    assert first["runs"][0]["metrics"] == {"acc": 0.9}
    assert first["runs"][0]["source_name"] == "notebooks/train.ipynb"
    second = await get_json(
        jp_fetch,
        "runs",
        experiment="exp",
        order_by="metrics.acc DESC",
        max_results="2",
        page_token=first["next_page_token"],
    )
    assert [r["run_id"] for r in second["runs"]] == [runs.bare]
    assert second["next_page_token"] is None


async def test_runs_filter_by_experiment_id(jp_fetch, runs: Runs) -> None:
    body = await get_json(
        jp_fetch, "runs", experiment=runs.experiment_id, filter="params.lr = '0.1'"
    )
    assert [r["run_id"] for r in body["runs"]] == [runs.alpha, runs.bare]


@pytest.mark.parametrize(
    "params,status,fragment,param",
    [
        ({}, 400, "Choose an experiment", "experiment"),
        ({"experiment": "nope"}, 404, "Experiment 'nope' was not found", None),
        ({"experiment": "99999999999999999999999"}, 404, "was not found", None),
        (
            {"experiment": "exp", "max_results": "0"},
            400,
            "max_results must be 1..1000",
            "max_results",
        ),
        (
            {"experiment": "exp", "max_results": "1001"},
            400,
            "max_results must be 1..1000",
            "max_results",
        ),
        ({"experiment": "exp", "max_results": "ten"}, 400, "must be an integer", "max_results"),
        ({"experiment": "exp", "filter": "metrics.acc >"}, 400, "Invalid", "filter"),
        ({"experiment": "exp", "filter": "params.lr = 1"}, 400, "Expected a quoted", "filter"),
        (
            {"experiment": "exp", "filter": "attributes.start_time > 99999999999999999999"},
            400,
            "64 bits",
            "filter",
        ),
        ({"experiment": "exp", "order_by": "metrics.`acc"}, 400, "order_by", "order_by"),
        (
            {"experiment": "exp", "order_by": ",".join(f"params.k{i}" for i in range(70))},
            400,
            "at most 10",
            "order_by",
        ),
        ({"experiment": "exp", "page_token": "zzz"}, 400, "Invalid page_token", "page_token"),
    ],
)
async def test_runs_errors(
    jp_fetch, runs: Runs, params: dict, status: int, fragment: str, param: str | None
) -> None:
    code, body = await error_of(jp_fetch, "runs", **params)
    assert code == status
    assert fragment in body["message"]
    assert body["code"] == ("NOT_FOUND" if status == 404 else "INVALID")
    assert body["param"] == param


async def test_experiments_paged_by_token_and_name(jp_fetch, runs: Runs) -> None:
    first = await get_json(jp_fetch, "experiments", max_results="1")
    response_validator("listExperiments").validate(first)
    assert len(first["experiments"]) == 1 and first["next_page_token"]
    rest = await get_json(jp_fetch, "experiments", page_token=first["next_page_token"])
    names = [e["name"] for e in first["experiments"] + rest["experiments"]]
    assert "exp" in names and len(names) == len(set(names))
    found = await get_json(jp_fetch, "experiments", name="EX")
    assert [e["name"] for e in found["experiments"]] == ["exp"]


async def test_compare_serves_the_cores_comparison(jp_fetch, runs: Runs) -> None:
    response = await jp_fetch(
        "mlops-lab", "api", "compare", params=[("run_id", runs.alpha), ("run_id", runs.beta)]
    )
    body = json.loads(response.body)
    response_validator("compareRuns").validate(body)
    assert [r["label"] for r in body["runs"]] == [
        f"alpha ({runs.alpha[:8]})",
        f"beta ({runs.beta[:8]})",
    ]
    rows = {row["key"]: row for row in body["rows"]}
    assert rows["metrics.acc"]["values"] == [0.8, 0.9] and rows["metrics.acc"]["differs"]
    assert [h["metric"] for h in body["histories"]] == ["acc"]
    code, error = await error_of(jp_fetch, "compare", run_id=runs.alpha)
    assert (code, error["param"]) == (400, "run_id")


async def test_run_detail(jp_fetch, runs: Runs) -> None:
    body = await get_json(jp_fetch, "runs", runs.alpha)
    response_validator("getRun").validate(body)
    assert body["run_name"] == "alpha"
    assert body["git_dirty"] is True and body["git_branch"] == "main"
    assert body["notebook_artifact"] == "notebook/train.ipynb"
    assert body["datasets"][0]["schema"] is None
    assert body["datasets"][0]["context"] == "training"
    assert body["artifacts"] == ["notebook/train.ipynb"]
    assert body["mlflow_url"] is None
    assert body["models"] == []


async def test_run_detail_lists_models_with_their_sizes(
    jp_fetch, jp_root_dir: Path, tmp_path: Path, runs: Runs
) -> None:
    models = add_models(resolve_settings(jp_root_dir, environ={}), runs.alpha, tmp_path)
    body = await get_json(jp_fetch, "runs", runs.alpha)
    response_validator("getRun").validate(body)
    size = sum(len(content) for content in MODEL_FILES.values())
    assert body["models"] == [
        {
            "name": "classifier",
            "model_id": models.logged_id,
            "artifact_path": None,
            "model_uri": f"models:/{models.logged_id}",
            "status": "READY",
            "size_bytes": size,
            "file_count": 2,
        },
        {
            "name": "exported/model",
            "model_id": None,
            "artifact_path": "exported/model",
            "model_uri": f"runs:/{runs.alpha}/exported/model",
            "status": None,
            "size_bytes": size,
            "file_count": 2,
        },
    ]


async def test_run_notebook(jp_fetch, runs: Runs) -> None:
    body = await get_json(jp_fetch, "runs", runs.beta, "notebook")
    response_validator("getRunNotebook").validate(body)
    assert body == {"path": "notebook/train.ipynb", "content": NOTEBOOK}


@pytest.mark.parametrize(
    "path,fragment",
    [
        (("runs", "abc"), "Run 'abc' was not found in sqlite:///"),
        (("runs", "abc", "notebook"), "Run 'abc' was not found"),
        (("runs", "BARE", "notebook"), "has no notebook snapshot"),
    ],
)
async def test_unknown_run_or_snapshot_is_json_404(jp_fetch, runs: Runs, path, fragment) -> None:
    path = tuple(runs.bare if p == "BARE" else quote(p) for p in path)
    code, body = await error_of(jp_fetch, *path)
    assert code == 404
    assert body["code"] == "NOT_FOUND"
    assert fragment in body["message"]


async def test_notebook_tag_naming_a_folder_is_json_400(
    jp_fetch, jp_root_dir: Path, runs: Runs
) -> None:
    settings = resolve_settings(jp_root_dir, environ={})
    client_for(settings).set_tag(runs.alpha, NOTEBOOK_ARTIFACT, "notebook")
    code, body = await error_of(jp_fetch, "runs", runs.alpha, "notebook")
    assert code == 400
    error_validator().validate(body)
    assert body["code"] == "INVALID"
    assert "names a folder of artifacts, not a notebook file" in body["message"]


class TestServedArtifactLimit:
    @pytest.fixture
    def jp_server_config(self, monkeypatch: pytest.MonkeyPatch) -> dict:
        # 100 bytes: the fixture's 136-byte snapshot is over it. Set before the server starts.
        monkeypatch.setenv("MLOPS_LAB_MAX_SERVED_ARTIFACT_MB", "0.0001")
        return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}

    async def test_snapshot_over_the_limit_is_json_413(self, jp_fetch, runs: Runs) -> None:
        code, body = await error_of(jp_fetch, "runs", runs.alpha, "notebook")
        assert code == 413
        error_validator().validate(body)
        assert body["code"] == "TOO_LARGE"
        assert "is 0.00014 MB, above the 0.0001 MB" in body["message"]
        assert (
            f"mlflow artifacts download -r {runs.alpha} -a notebook/train.ipynb"
            in (body["message"])
        )

    async def test_health_shows_the_limit_and_its_variable(self, jp_fetch) -> None:
        body = await get_json(jp_fetch, "health")
        [limit] = [s for s in body["settings"] if s["name"] == "max_served_artifact_mb"]
        assert limit == {
            "name": "max_served_artifact_mb",
            "value": "0.0001",
            "source": "environment",
            "origin": "MLOPS_LAB_MAX_SERVED_ARTIFACT_MB",
        }


class TestBadServedArtifactLimit:
    @pytest.fixture
    def jp_server_config(self, monkeypatch: pytest.MonkeyPatch) -> dict:
        monkeypatch.setenv("MLOPS_LAB_MAX_SERVED_ARTIFACT_MB", "fifty")
        return {"ServerApp": {"jpserver_extensions": {"mlops_lab": True}}}

    async def test_every_route_is_503_naming_the_variable(self, jp_fetch) -> None:
        code, body = await error_of(jp_fetch, "runs", "abc", "notebook")
        assert code == 503
        assert body["code"] == "MISCONFIGURED"
        assert body["message"].startswith(
            "environment variable MLOPS_LAB_MAX_SERVED_ARTIFACT_MB must be a positive number"
        )


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "attributes.start_time > 99999999999999999999"},
        {"filter": "attributes.end_time < -9223372036854775809"},
        {"order_by": ",".join(f"metrics.m{i}" for i in range(70))},
        {"order_by": ",".join(f"tags.t{i}" for i in range(70))},
        {"experiment": "99999999999999999999999"},
        {"experiment": "exp\x00"},
        {"filter": "params.`a\x00b` = '1'"},
        {"filter": "params.lr = 'x\x00'"},
        {"order_by": "params.`a\x00b`"},
        {"order_by": "metrics.`acc"},
        {"filter": "metrics.acc > 99999999999999999999999999999"},
        {"page_token": "eyJvIjogLTV9"},  # {"o": -5}
    ],
)
async def test_odd_search_is_never_a_5xx(jp_fetch, runs: Runs, params: dict) -> None:
    try:
        response = await jp_fetch(
            "mlops-lab", "api", "runs", params={"experiment": "exp", **params}
        )
        code, body = response.code, json.loads(response.body)
    except HTTPClientError as exc:
        code, body = exc.code, json.loads(exc.response.body)
        error_validator().validate(body)
        assert body["code"] in ("INVALID", "NOT_FOUND"), body
    assert code < 500


@pytest.mark.parametrize("suffix", [(), ("notebook",)])
async def test_malformed_run_id_is_json_400(jp_fetch, runs: Runs, suffix: tuple[str, ...]) -> None:
    code, body = await error_of(jp_fetch, "runs", quote("é!"), *suffix)
    assert code == 400
    error_validator().validate(body)
    assert body["code"] == "INVALID" and "run_id" in body["message"]
    assert body["param"] == "run_id"


async def test_a_new_project_lists_no_experiments_and_creates_no_store(
    jp_fetch, jp_root_dir: Path
) -> None:
    body = await get_json(jp_fetch, "experiments")
    assert body == {"experiments": [], "next_page_token": None}
    code, error = await error_of(jp_fetch, "runs", experiment="exp")
    assert code == 404 and "No MLflow store at" in error["message"]
    assert not (jp_root_dir / ".mlops" / "mlflow.db").exists()
