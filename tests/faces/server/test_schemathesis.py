"""Schemathesis against the live server: no 5xx, and every response as the document says.

The server is pytest-jupyter's, in this process, over a real MLflow store with the runs
of :func:`tests.runs_data.make_runs`. Schemathesis' requests are blocking, so they run in
a worker thread while the server keeps answering on the test's event loop.

Each operation is tried with valid data (``POSITIVE``) and data the document says is
wrong (``NEGATIVE``). In most examples a path's ``run_id`` and the ``experiment`` query
are the store's real ones, and ``filter``/``order_by`` are drawn from MLflow's syntax
(keys the runs have and odd ones, every comparator, huge numbers, many sort keys),
so the run detail, the snapshot and the search code run too, not only their 404s and
parse errors. ``EXAMPLES`` bounds the work; the draws are derandomized, so a failure
shows again on the next run.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mlops_lab.core.config import resolve_settings
from mlops_lab.faces.server.openapi import DOCUMENT
from tests.runs_data import Runs, make_runs

EXAMPLES = 60
"""Examples per operation and mode (fewer where there are fewer distinct requests)."""

EXCLUDED_CHECKS = [positive_data_acceptance]
"""A filter or order_by that the document allows as a string may still be wrong MLflow
syntax (a 400 with a message); the document cannot state MLflow's grammar."""

WILD_KEY = st.text(min_size=1, max_size=6)
NUMBER = st.one_of(
    st.integers(-(10**6), 10**6),
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**20]),
    st.sampled_from(["0.5", "-1.5", "1e3", "NaN", "Infinity"]),
)
QUOTED = st.one_of(st.sampled_from(["0.1", "0.2", "2", "alpha", "%a%"]), st.text(max_size=6)).map(
    lambda s: "'" + s.replace("'", "") + "'"
)


def quoted_key(key: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", "`", '"']), key).map(lambda qk: qk[0] + qk[1] + qk[0])


def clause(entity: str, keys: list[str], comparators: list[str], value: Any) -> Any:
    known = st.sampled_from(keys)
    key = quoted_key(st.one_of(known, known, known, WILD_KEY))
    return st.tuples(key, st.sampled_from(comparators), value).map(
        lambda kcv: f"{entity}.{kcv[0]} {kcv[1]} {kcv[2]}"
    )


NUMERIC = ["=", "!=", ">", ">=", "<", "<="]
STRING = ["=", "!=", "LIKE", "ILIKE"]
IN_LIST = st.lists(QUOTED, min_size=1, max_size=3).map(lambda v: f"({', '.join(v)})")

FILTER_CLAUSES = st.one_of(
    clause("metrics", ["acc", "loss"], NUMERIC, NUMBER),
    clause("params", ["lr", "epochs"], [*STRING, "IN"], st.one_of(QUOTED, IN_LIST)),
    clause("tags", ["mlflow.source.name", "mlops.git.dirty"], STRING, QUOTED),
    clause("attributes", ["start_time", "end_time"], NUMERIC, NUMBER),
    clause("attributes", ["run_name", "status", "run_id"], [*STRING, "IN"], QUOTED),
)
FILTERS = st.lists(FILTER_CLAUSES, min_size=1, max_size=3).map(" AND ".join)
"""Filters in MLflow's syntax over the keys the runs have (and odd ones, and numbers past
64 bits), so most reach the query instead of the parser."""

ORDER_CLAUSE = st.tuples(
    st.sampled_from(["metrics", "params", "tags", "attributes"]),
    quoted_key(
        st.one_of(*[st.sampled_from(["acc", "lr", "start_time", "run_name"])] * 3, WILD_KEY)
    ),
    st.sampled_from(["", " ASC", " DESC"]),
).map(lambda ekd: f"{ekd[0]}.{ekd[1]}{ekd[2]}")
ORDER_BY = st.one_of(
    st.lists(ORDER_CLAUSE, min_size=1, max_size=3),
    st.sampled_from([63, 64, 70]).flatmap(lambda n: st.lists(ORDER_CLAUSE, min_size=n, max_size=n)),
).map(",".join)


def fuzz(base_url: str, headers: dict[str, str], runs: Runs) -> list[str]:
    """Run every operation in both modes; return one report per failing operation."""
    schema = schemathesis.openapi.from_path(str(DOCUMENT))
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                check_operation(operation, mode, base_url, headers, runs)
            except Unsatisfiable:  # nothing in this operation can be made invalid
                continue
            except (Exception, FailureGroup) as exc:  # one report per operation and mode
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


def check_operation(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str], runs: Runs
) -> None:
    valid = mode is GenerationMode.POSITIVE

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        run_id=st.sampled_from([None, runs.alpha, runs.beta, runs.bare]),
        experiment=st.sampled_from(["exp", runs.experiment_id]),
        filter_=st.one_of(st.none(), FILTERS),
        order_by=st.one_of(st.none(), ORDER_BY),
    )
    def check(
        case: Any,
        run_id: str | None,
        experiment: str | None,
        filter_: str | None,
        order_by: str | None,
    ) -> None:
        if run_id and "run_id" in (case.path_parameters or {}):
            case.path_parameters["run_id"] = run_id
        if valid and case.query is not None and "experiment" in case.query:
            # A real experiment and MLflow syntax only where the case is meant to be
            # valid: a negative case keeps what makes it invalid. A made-up page token
            # would be refused before the search runs.
            case.query.pop("page_token", None)
            case.query["experiment"] = experiment
            for name, value in (("filter", filter_), ("order_by", order_by)):
                if value is None:
                    case.query.pop(name, None)
                else:
                    case.query[name] = value
        case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=EXCLUDED_CHECKS)

    check()


@pytest.fixture
def runs(jp_root_dir: Path, tmp_path: Path) -> Runs:
    return make_runs(resolve_settings(jp_root_dir, environ={}), tmp_path)


async def test_api_conforms_to_its_document(
    jp_fetch, jp_http_port: int, jp_base_url: str, jp_auth_header: dict, runs: Runs
) -> None:
    await jp_fetch("mlops-lab", "api", "health")  # the server is up before the thread starts
    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    started = time.monotonic()
    failures = await asyncio.to_thread(fuzz, base_url, dict(jp_auth_header), runs)
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert elapsed < 90, f"schemathesis took {elapsed:.0f} s: lower EXAMPLES"
