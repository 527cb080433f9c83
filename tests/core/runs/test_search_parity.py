"""The fast SQL run search returns exactly what ``MlflowClient.search_runs`` returns.

A generated experiment of 60 runs with random params and metrics, some missing, some
NaN, and shared start times (so the run-id tie-break matters) is searched with a table
of filters and orders through both paths; ids and order must match, on SQLite and on a
real PostgreSQL (the two dialects the fast path supports). This grid is the check that
decides whether a new MLflow version is supported (see the README).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.mlflow import search as run_search
from mlops_lab.core.mlflow.connection import client_for, ensure_experiment
from mlops_lab.core.runs.search import search_runs
from tests.postgres_server import postgres_cluster


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None  # the embedded default under the test's root
        return
    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, tracking_uri: str | None
) -> tuple[Settings, str]:
    root = tmp_path_factory.mktemp("search")
    settings = resolve_settings(root, environ={}, tracking_uri=tracking_uri)
    client = client_for(settings)
    experiment_id = ensure_experiment(settings, "generated")
    ensure_experiment(settings, "other")
    rng = random.Random(7)
    for i in range(60):
        run = client.create_run(
            experiment_id,
            start_time=1_000 + rng.randrange(12) * 10,  # many ties on start_time
            run_name=f"run-{i % 7}",
            tags={"team": rng.choice(["a", "b", "Beta"])} if i % 5 else {},
        )
        params = [Param(f"p{k}", str(rng.choice([1, 2, 10, "x", "y"]))) for k in range(3)]
        params = [p for p in params if rng.random() > 0.2]
        metrics = []
        for k in range(3):
            roll = rng.random()
            if roll < 0.15:
                continue  # missing
            value = math.nan if roll < 0.25 else round(rng.uniform(-1, 1), 2)
            metrics.append(Metric(f"m{k}", value, 0, 0))
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        if i % 4 == 0:
            client.set_terminated(run.info.run_id, "FAILED" if i % 8 else "FINISHED")
        if i == 59:
            client.delete_run(run.info.run_id)  # deleted runs never show
    return settings, experiment_id


FILTERS = [
    None,
    "metrics.m0 > 0",
    "metrics.m0 <= 0.5 and metrics.m1 != 0.1",
    "metrics.m2 != 0.3",
    "metrics.m1 = 0",
    "params.p0 = '1'",
    "params.p1 != 'x'",
    "params.p2 LIKE '1%'",
    "params.p1 IS NULL",
    "params.p2 IS NOT NULL and metrics.m0 < 0",
    "tags.team = 'b'",
    "tags.team ILIKE 'b%'",
    "tags.team IS NULL",
    "attributes.status = 'FAILED'",
    "attributes.status != 'RUNNING'",
    "run_name = 'run-3'",
    "attributes.run_name LIKE 'run-1%'",
    "attributes.start_time > 1050",
    "attributes.end_time > 0",
    "attributes.run_id IN ('x', 'y')",
]
ORDERS = [
    [],
    ["metrics.m0 DESC"],
    ["metrics.m0"],
    ["metrics.m1 ASC", "params.p0 DESC"],
    ["params.p1"],
    ["tags.team DESC"],
    ["attributes.start_time ASC"],
    ["attributes.run_name"],
    ["attributes.status DESC", "metrics.m2 DESC"],
]


def mlflow_ids(client: MlflowClient, experiment_id: str, filter_: str | None, order: list[str]):
    found = client.search_runs(
        [experiment_id], filter_string=filter_ or "", order_by=order or None, max_results=1000
    )
    return [r.info.run_id for r in found]


@pytest.mark.parametrize("filter_", FILTERS)
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o) or "default")
def test_fast_path_matches_mlflow(store, filter_: str | None, order: list[str]) -> None:
    settings, experiment_id = store
    fast = run_search.select_run_ids(settings.tracking_uri, experiment_id, filter_, order, 1000)
    assert fast is not None, "this filter must take the fast path"
    expected = mlflow_ids(client_for(settings), experiment_id, filter_, order)
    assert [p.run_id for p in fast] == expected


@pytest.mark.parametrize("order", ["metrics.m0 DESC", None, "params.p1, metrics.m1 DESC"])
def test_pages_concatenate_to_mlflow_order_and_match_its_values(store, order) -> None:
    settings, experiment_id = store
    client = client_for(settings)
    clauses = [c.strip() for c in order.split(",")] if order else []
    expected = client.search_runs([experiment_id], order_by=clauses or None, max_results=1000)
    seen, token, pages = [], None, 0
    while True:
        page = search_runs(settings, "generated", order_by=order, max_results=7, page_token=token)
        seen += page.runs
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert pages == math.ceil(len(expected) / 7)
    assert [r.run_id for r in seen] == [r.info.run_id for r in expected]
    for ours, theirs in zip(seen, expected, strict=True):
        assert ours.params == theirs.data.params
        assert ours.tags == theirs.data.tags
        assert ours.run_name == theirs.info.run_name
        assert ours.status == theirs.info.status
        assert ours.metrics.keys() == theirs.data.metrics.keys()
        for key, value in ours.metrics.items():
            other = theirs.data.metrics[key]
            assert (value is None and math.isnan(other)) or value == other


def test_fallback_path_pages_like_the_fast_path(store, monkeypatch) -> None:
    settings, _ = store
    fast = search_runs(settings, "generated", "metrics.m0 > -0.5", "metrics.m0 DESC", 10)
    monkeypatch.setattr(run_search, "dialect_of", lambda uri: None)
    slow = search_runs(settings, "generated", "metrics.m0 > -0.5", "metrics.m0 DESC", 10)
    assert [r.run_id for r in slow.runs] == [r.run_id for r in fast.runs]
    assert slow.param_keys == fast.param_keys and slow.metric_keys == fast.metric_keys
    assert slow.next_page_token is not None
    second = search_runs(
        settings, "generated", "metrics.m0 > -0.5", "metrics.m0 DESC", 10, slow.next_page_token
    )
    assert not {r.run_id for r in second.runs} & {r.run_id for r in slow.runs}


def test_dataset_filter_falls_back_to_mlflow(store) -> None:
    settings, experiment_id = store
    assert (
        run_search.select_run_ids(
            settings.tracking_uri, experiment_id, "dataset.name = 'x'", [], 10
        )
        is None
    )
    assert search_runs(settings, experiment_id, "dataset.name = 'x'").runs == []


def test_keys_are_rendered_safely(store) -> None:
    settings, experiment_id = store
    hostile = "m0' OR '1'='1"
    assert search_runs(settings, experiment_id, f"metrics.`{hostile}` > 0").runs == []
    page = search_runs(settings, experiment_id, order_by=f"metrics.`{hostile}` DESC")
    assert len(page.runs) == 50  # every run lacks that metric: still listed


@pytest.mark.parametrize(
    "filter_,fragment",
    [
        ("metrics.m0 >> 1", "Invalid"),
        ("params.p0 = 1", "Expected a quoted string value for parameter"),
        ("bogus.x = '1'", "Invalid entity type 'bogus'"),
    ],
)
def test_invalid_filter_carries_mlflows_message(store, filter_: str, fragment: str) -> None:
    settings, experiment_id = store
    with pytest.raises(InvalidInput) as caught:
        search_runs(settings, experiment_id, filter_)
    assert fragment in caught.value.message


def test_page_token_of_another_query_is_rejected(store) -> None:
    settings, experiment_id = store
    token = search_runs(settings, experiment_id, max_results=5).next_page_token
    with pytest.raises(InvalidInput, match="another query"):
        search_runs(settings, experiment_id, "metrics.m0 > 0", max_results=5, page_token=token)
    with pytest.raises(InvalidInput, match="Invalid page_token"):
        search_runs(settings, experiment_id, page_token="not-a-token")


def test_size_and_experiment_are_checked(store) -> None:
    settings, _ = store
    with pytest.raises(InvalidInput, match=r"max_results must be 1\.\.1000, got 0"):
        search_runs(settings, "generated", max_results=0)
    with pytest.raises(InvalidInput, match="Choose an experiment"):
        search_runs(settings, None)
    with pytest.raises(NotFound, match=r"Experiment 'nope' was not found in (sqlite|postgresql)"):
        search_runs(settings, "nope")


def test_experiment_by_id_or_name_gives_the_same_page(store) -> None:
    settings, experiment_id = store
    by_id = search_runs(settings, experiment_id, max_results=3)
    by_name = search_runs(settings, "generated", max_results=3)
    assert [r.run_id for r in by_id.runs] == [r.run_id for r in by_name.runs]
    assert search_runs(settings, "other").runs == []


def test_fast_path_reads_a_fresh_store_path(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={})
    client_for(settings).create_experiment("fresh")
    page = search_runs(settings, "fresh")
    assert page.runs == [] and page.next_page_token is None


@pytest.mark.parametrize("order", [None, "metrics.m0 DESC", "params.p1, attributes.start_time ASC"])
def test_keyset_pages_neither_repeat_nor_skip_when_runs_arrive(tracking_uri, tmp_path, order):
    """Offset paging repeated a row when a run was logged between two page requests."""
    settings = resolve_settings(tmp_path, environ={}, tracking_uri=tracking_uri)
    name = f"arrivals-{tmp_path.name}"
    experiment_id = ensure_experiment(settings, name)
    client = client_for(settings)

    def log(i: int, start: int) -> str:
        run = client.create_run(experiment_id, start_time=start, run_name=f"r{i}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("m0", i / 10, 0, 0)],
            params=[Param("p1", str(i % 3))],
        )
        return run.info.run_id

    before = [log(i, 1_000 + i) for i in range(9)]
    first = search_runs(settings, name, order_by=order, max_results=4)
    # New runs that sort before, inside and after the page boundary arrive now.
    arrived = [log(i, 2_000 + i) for i in (20, 5, -3)]
    seen = [r.run_id for r in first.runs]
    token = first.next_page_token
    while token:
        page = search_runs(settings, name, order_by=order, max_results=4, page_token=token)
        seen += [r.run_id for r in page.runs]
        token = page.next_page_token
    assert len(seen) == len(set(seen)), "a run was shown twice"
    final = [r.run_id for r in search_runs(settings, name, order_by=order, max_results=100).runs]
    # Every run that existed at the first request is shown exactly once, in the final order;
    # a newcomer is shown only when it sorts after the page already read.
    assert set(before) <= set(seen)
    assert seen == [run_id for run_id in final if run_id in set(seen)]
    assert set(seen) - set(before) <= set(arrived)


def _forged(fingerprint_source: str, **position: object) -> str:
    import base64
    import json

    body = json.loads(base64.urlsafe_b64decode(fingerprint_source.encode()))
    body.update(position)
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def test_forged_page_tokens_are_a_400_naming_the_token(store) -> None:
    settings, experiment_id = store
    token = search_runs(settings, experiment_id, order_by="metrics.m0 DESC", max_results=5)
    assert token.next_page_token is not None
    for forged in (
        _forged(token.next_page_token, k=["x", "y"]),  # wrong length
        _forged(token.next_page_token, k=[0, "not a number", 0, 0, "id"]),  # wrong type
        _forged(token.next_page_token, k=[0, 1e400, 0, 10**30, "id"]),  # out of range
        _forged(token.next_page_token, k="not a list"),
        _forged(token.next_page_token, m=7),
        "bm90IGpzb24",  # base64 of "not json"
    ):
        with pytest.raises(InvalidInput) as caught:
            search_runs(
                settings,
                experiment_id,
                order_by="metrics.m0 DESC",
                max_results=5,
                page_token=forged,
            )
        assert caught.value.param == "page_token", forged


@pytest.mark.parametrize(
    "kwargs,param,fragment",
    [
        ({"filter_string": "attributes.start_time > 99999999999999999999"}, "filter", "64 bits"),
        ({"order_by": ", ".join(f"params.k{i}" for i in range(70))}, "order_by", "at most 10"),
        ({"order_by": "metrics.`m0"}, "order_by", "Invalid order_by clause"),
        ({"order_by": "params.'p0"}, "order_by", "Invalid order_by clause"),
        ({"filter_string": "metrics.m0 >> 1"}, "filter", "Invalid"),
        ({"max_results": 0}, "max_results", "max_results must be"),
    ],
)
def test_mistakes_are_invalid_input_naming_the_parameter(store, kwargs, param, fragment) -> None:
    settings, experiment_id = store
    with pytest.raises(InvalidInput) as caught:
        search_runs(settings, experiment_id, **kwargs)
    assert caught.value.param == param
    assert fragment in caught.value.message


def test_an_experiment_id_past_64_bits_is_not_found(store) -> None:
    settings, _ = store
    with pytest.raises(NotFound, match="99999999999999999999999"):
        search_runs(settings, "99999999999999999999999")


def test_a_nul_byte_in_a_value_or_experiment_is_a_clear_answer_on_both_dialects(store) -> None:
    settings, experiment_id = store
    with pytest.raises(InvalidInput, match="contains a NUL character") as caught:
        search_runs(settings, experiment_id, "params.p0 = 'x\x00'")
    assert caught.value.param == "filter"
    with pytest.raises(NotFound, match="was not found"):
        search_runs(settings, "generated\x00")


def test_a_nul_byte_in_a_key_finds_nothing_as_mlflow_does(store) -> None:
    settings, experiment_id = store
    assert search_runs(settings, experiment_id, "metrics.`m\x000` > 0").runs == []
    ordered = search_runs(settings, experiment_id, order_by="params.`p\x000`", max_results=100)
    expected = search_runs(settings, experiment_id, max_results=100)
    assert [r.run_id for r in ordered.runs] == [r.run_id for r in expected.runs]


def test_a_unique_run_id_prefix_names_its_run_and_a_shared_one_is_refused(store) -> None:
    from collections import Counter

    from mlops_lab.core.runs.compare import compare_runs
    from mlops_lab.core.runs.search import get_mlflow_run

    settings, experiment_id = store
    ids = [r.run_id for r in search_runs(settings, experiment_id, max_results=100).runs]
    assert get_mlflow_run(settings, ids[0][:8]).info.run_id == ids[0]
    assert [r.run_id for r in compare_runs(settings, [ids[0][:8], ids[1][:8]]).runs] == ids[:2]
    shared = next(c for c, n in Counter(i[0] for i in ids).items() if n > 1)  # 59 runs, 16 digits
    with pytest.raises(InvalidInput, match=f"Run id '{shared}' is the start of several runs") as e:
        get_mlflow_run(settings, shared)
    assert e.value.param == "run_id"
    with pytest.raises(NotFound, match="Run 'zzzz' was not found"):
        get_mlflow_run(settings, "zzzz")
