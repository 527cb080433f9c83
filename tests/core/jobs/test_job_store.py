"""The jobs tables: queueing, claiming, retrying, cancelling, paging (real SQLite)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs.entities import CellError, ExecutionState, Job, Sweep, SweepGoal
from mlops_lab.core.jobs.store import JobStore, NewExecution, new_id, now
from mlops_lab.core.store import LabStore

State = ExecutionState


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(LabStore(f"sqlite:///{tmp_path / 'lab.db'}"))


def a_job(retries: int = 0, backoff: float = 10.0) -> Job:
    return Job(
        id=new_id(),
        name="train",
        notebook="train.ipynb",
        parameters={"alpha": 0.5, "api_key": "***"},
        kernel_name="python3",
        timeout=60.0,
        retries=retries,
        retry_backoff=backoff,
        experiment="train.ipynb",
        created_at=now(),
        created_by="me",
    )


def one(values: dict[str, object] | None = None) -> list[NewExecution]:
    values = values or {"alpha": 0.5, "api_key": "s3cr3t-value"}
    masked = {k: ("***" if k == "api_key" else v) for k, v in values.items()}
    return [NewExecution(parameters=masked, values=values)]


def test_a_submit_is_queued_and_its_values_in_clear_are_kept_for_the_worker_only(
    store: JobStore,
) -> None:
    submission = store.add(a_job(), one(), None, None)
    [execution] = submission.executions
    assert execution.state is State.QUEUED
    assert execution.parameters == {"alpha": 0.5, "api_key": "***"}
    assert store.values(execution.id) == {"alpha": 0.5, "api_key": "s3cr3t-value"}
    assert store.get(execution.id[:6]) == execution  # a unique prefix finds it


def test_the_same_idempotency_key_queues_once(store: JobStore) -> None:
    first = store.add(a_job(), one(), None, "key-1")
    second = store.add(a_job(), one(), None, "key-1")
    assert second.reused and not first.reused
    assert [e.id for e in second.executions] == [e.id for e in first.executions]
    assert len(store.page().executions) == 1


def test_two_runners_never_claim_the_same_execution(store: JobStore) -> None:
    for _ in range(6):
        store.add(a_job(), one(), None, None)
    claims: dict[str, list[str]] = {}

    def claim(runner: str) -> None:
        claims[runner] = [c.execution.id for c in store.claim(runner, 6)]

    threads = [threading.Thread(target=claim, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for ids in claims.values() for i in ids]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 6
    assert all(store.get(i).state is State.RUNNING for i in claimed)


def test_a_sweep_never_runs_more_than_its_concurrency(store: JobStore) -> None:
    job = a_job()
    sweep = Sweep(
        id=new_id(),
        job_id=job.id,
        run_id=None,
        grid={"alpha": [1, 2, 3, 4]},
        metric="acc",
        goal=SweepGoal.MAX,
        concurrency=2,
        state=State.QUEUED,
        execution_ids=[],
        created_at=now(),
    )
    executions = [NewExecution({"alpha": a}, {"alpha": a}) for a in (1, 2, 3, 4)]
    submission = store.add(job, executions, sweep, "sweep-key")
    assert submission.sweep is not None and len(submission.sweep.execution_ids) == 4
    first = store.claim("r", 10)
    assert len(first) == 2 and store.claim("r", 10) == []
    store.finish_attempt(first[0].execution.id, 1, State.SUCCEEDED, None)
    assert store.finish_sweep_if_done(sweep.id) is None  # three to go
    assert len(store.claim("r", 10)) == 1
    assert store.add(job, executions, sweep, "sweep-key").reused


def test_a_failed_attempt_is_retried_after_its_backoff_then_the_last_failure_stands(
    store: JobStore,
) -> None:
    [execution] = store.add(a_job(retries=1, backoff=0.0), one(), None, None).executions
    [claimed] = store.claim("r", 1)
    store.start_attempt(execution.id, 1, "run-1", "0", "/out/1.ipynb")
    error = CellError(cell_index=2, name="ValueError", message="bad")
    again = store.finish_attempt(execution.id, 1, State.FAILED, error)
    assert (again.state, again.attempt) == (State.QUEUED, 2)
    assert store.values(execution.id) is not None  # still needed by attempt 2
    [claimed] = store.claim("r", 1)
    assert claimed.execution.attempt == 2
    store.start_attempt(execution.id, 2, "run-2", "0", "/out/2.ipynb")
    final = store.finish_attempt(execution.id, 2, State.FAILED, error)
    assert final.state is State.FAILED and final.error == error
    assert [(a.number, a.state, a.run_id) for a in final.attempts] == [
        (1, State.FAILED, "run-1"),
        (2, State.FAILED, "run-2"),
    ]
    assert store.values(execution.id) is None  # the secret is gone with the execution


def test_a_retry_waits_for_its_backoff(store: JobStore) -> None:
    [execution] = store.add(a_job(retries=2, backoff=60.0), one(), None, None).executions
    store.claim("r", 1)
    store.finish_attempt(execution.id, 1, State.TIMED_OUT, None)
    assert store.claim("r", 1) == []  # not before a minute


def test_cancel_ends_a_queued_execution_at_once_and_flags_a_running_one(store: JobStore) -> None:
    [queued] = store.add(a_job(), one(), None, None).executions
    cancelled = store.request_cancel(queued.id)
    assert cancelled.state is State.CANCELLED and store.values(queued.id) is None
    with pytest.raises(InvalidInput, match="already ended"):
        store.request_cancel(queued.id)
    [running] = store.add(a_job(), one(), None, None).executions
    store.claim("r", 1)
    assert store.request_cancel(running.id).state is State.RUNNING
    assert store.cancel_requested(running.id)
    # A cancelled attempt is never retried.
    assert store.finish_attempt(running.id, 1, State.FAILED, None).state is State.FAILED


def test_pages_go_newest_first_and_a_token_continues(store: JobStore) -> None:
    ids = [store.add(a_job(), one(), None, None).executions[0].id for _ in range(5)]
    first = store.page(max_results=2)
    assert [e.id for e in first.executions] == ids[::-1][:2]
    assert first.next_page_token is not None
    rest = store.page(max_results=10, page_token=first.next_page_token)
    assert [e.id for e in rest.executions] == ids[::-1][2:]
    assert rest.next_page_token is None
    assert store.page(state="queued").executions[0].state is State.QUEUED
    with pytest.raises(InvalidInput, match="Unknown execution state 'DONE'"):
        store.page(state="done")
    with pytest.raises(InvalidInput, match="page_token"):
        store.page(page_token="garbage")


def test_an_unknown_id_says_how_to_list_executions(store: JobStore) -> None:
    with pytest.raises(NotFound, match="mlops-lab job list"):
        store.get("nope")


def test_executions_of_a_silent_runner_are_handed_back_for_failing(store: JobStore) -> None:
    [execution] = store.add(a_job(), one(), None, None).executions
    store.beat("dead-runner", "host", 1)
    store.claim("dead-runner", 1)
    assert store.forget_stale_runners(timedelta(hours=1)) == []
    assert store.forget_stale_runners(timedelta(seconds=-1)) == [execution.id]
    failed = store.fail(execution.id, "its runner stopped")
    assert failed.state is State.FAILED and failed.error is not None
    assert failed.error.message == "its runner stopped"
    assert replace(failed, error=None).error is None
