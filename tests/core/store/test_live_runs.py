"""The live-runs table: one row per run a kernel has open, claimed atomically by reapers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, update

from mlops_lab.core.store import LabStore, LiveRun
from mlops_lab.core.store.db import session_scope
from mlops_lab.core.store.schema import LiveRunRow


def live_run(run_id: str = "a" * 32, host: str = "here", **changes: object) -> LiveRun:
    values: dict[str, object] = {
        "run_id": run_id,
        "tracking_uri": "postgresql://u:pw-SECRET@db/mlflow",
        "experiment_id": "1",
        "experiment": "nb.ipynb",
        "notebook": "/root/nb.ipynb",
        "host": host,
        "pid": 4242,
        "process_started": 1_700_000_000.25,
        "kernel_id": "0f3c",
        "started_at": datetime.now(UTC),
        **changes,
    }
    return LiveRun(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> LabStore:
    return LabStore(f"sqlite:///{tmp_path}/lab.db")


def test_migration_creates_the_indexed_table(store: LabStore) -> None:
    store.ping()
    inspector = inspect(store._engine)
    assert "live_runs" in inspector.get_table_names()
    assert [i["name"] for i in inspector.get_indexes("live_runs")] == ["ix_live_runs_host"]


def test_rows_round_trip_by_host_with_the_uri_masked(store: LabStore) -> None:
    store.add_live_run(live_run("a" * 32))
    store.add_live_run(live_run("b" * 32, host="elsewhere"))
    [here] = store.live_runs("here")
    assert here.run_id == "a" * 32 and here.pid == 4242 and here.kernel_id == "0f3c"
    assert here.process_started == 1_700_000_000.25
    assert here.tracking_uri == "postgresql://u:***@db/mlflow"  # no password in our store
    assert len(store.live_runs()) == 2
    assert (here.history_file, here.history_session, here.first_cell) == (None, None, None)
    store.add_live_run(
        live_run("a" * 32, history_file="/h.sqlite", history_session=7, first_cell=3)
    )
    [here] = store.live_runs("here")  # replaced, not duplicated
    assert (here.history_file, here.history_session, here.first_cell) == ("/h.sqlite", 7, 3)


def test_forget_is_idempotent(store: LabStore) -> None:
    store.add_live_run(live_run())
    assert store.forget_live_run("a" * 32) is True
    assert store.forget_live_run("a" * 32) is False
    assert store.live_runs() == []


def test_exactly_one_of_many_concurrent_claims_wins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lab.db"
    LabStore(url).add_live_run(live_run())
    stores = [LabStore(url) for _ in range(6)]  # separate engines, as separate processes
    for s in stores:
        s.ping()
    barrier = threading.Barrier(len(stores))
    results: list[bool] = []

    def claim(s: LabStore) -> None:
        barrier.wait()
        results.append(s.claim_live_run("a" * 32))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_a_stale_claim_can_be_taken_again(store: LabStore) -> None:
    store.add_live_run(live_run())
    assert store.claim_live_run("a" * 32)
    assert not store.claim_live_run("a" * 32)
    with session_scope(store._sessions) as session:  # the claiming reaper died long ago
        session.execute(
            update(LiveRunRow).values(claimed_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert store.claim_live_run("a" * 32)
    assert not store.claim_live_run("unknown")
