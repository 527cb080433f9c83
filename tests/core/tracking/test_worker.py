"""The logging worker: order kept, failures kept (once each), a flush that gives up in time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from mlops_lab.core.errors import NotFound
from mlops_lab.core.tracking.worker import LoggingWorker


@pytest.fixture
def worker() -> Iterator[LoggingWorker]:
    worker = LoggingWorker(name="test-logging")
    yield worker
    worker.stop()


def appender(done: list[str], name: str) -> Callable[[], None]:
    def run() -> None:
        time.sleep(0.002)  # long enough for a second thread, if there were one, to overtake
        done.append(name)

    return run


def test_tasks_run_one_after_another_in_the_order_submitted(worker: LoggingWorker) -> None:
    done: list[str] = []
    events = [worker.submit(f"task {i}", appender(done, f"task {i}")) for i in range(20)]
    assert worker.flush(10).complete
    assert done == [f"task {i}" for i in range(20)]
    assert all(event.is_set() for event in events)
    assert worker.pending == 0 and worker.current is None
    assert worker.take_failures() == []


def test_a_failing_task_is_kept_as_one_failure_and_later_tasks_still_run(
    worker: LoggingWorker,
) -> None:
    done: list[str] = []

    def broken() -> None:
        raise ValueError("the store refused the batch\nsecond line of detail")

    worker.submit("before", appender(done, "before"))
    failed = worker.submit("logging RandomForestClassifier-1", broken)
    worker.submit("after", appender(done, "after"))
    assert worker.flush(10).complete
    assert failed.is_set(), "a failed task's event is set too, or a waiter would hang"
    assert done == ["before", "after"]

    (failure,) = worker.take_failures()
    assert failure.what == "logging RandomForestClassifier-1"
    assert failure.error == "ValueError: the store refused the batch"
    assert failure.line() == (
        "logging RandomForestClassifier-1: ValueError: the store refused the batch"
    )
    assert "Traceback" in failure.detail and "in broken" in failure.detail
    assert worker.take_failures() == [], "each failure is reported once"


def test_our_own_errors_keep_their_message_and_an_empty_one_its_type(
    worker: LoggingWorker,
) -> None:
    def not_found() -> None:
        raise NotFound("Run abc123 not found in sqlite:///x.db.")

    def silent() -> None:
        raise KeyError

    worker.submit("params", not_found)
    worker.submit("tags", silent)
    worker.flush(10)
    failures = worker.take_failures()
    assert [(f.what, f.error) for f in failures] == [
        ("params", "NotFound: Run abc123 not found in sqlite:///x.db."),
        ("tags", "KeyError"),
    ]


def test_failures_a_task_records_itself_come_out_with_the_others(worker: LoggingWorker) -> None:
    def partly() -> None:
        worker.record_failure("plot of SVC-1", RuntimeError("no display"))

    worker.submit("logging SVC-1", partly)
    worker.flush(10)
    assert [f.line() for f in worker.take_failures()] == ["plot of SVC-1: RuntimeError: no display"]


def test_flush_gives_up_after_its_timeout_and_says_what_it_waits_for_once(
    worker: LoggingWorker,
) -> None:
    release = threading.Event()
    done: list[str] = []
    worker.submit("logging model of SVC-1", lambda: release.wait(30) and None)
    worker.submit("after", appender(done, "after"))
    told: list[tuple[int, str | None]] = []

    started = time.monotonic()
    result = worker.flush(0.6, on_wait=lambda pending, what: told.append((pending, what)))
    waited = time.monotonic() - started

    assert 0.55 <= waited < 5
    assert not result.complete
    assert (result.pending, result.waiting_on) == (2, "logging model of SVC-1")
    assert told == [(2, "logging model of SVC-1")], "on_wait is called once, not per poll"
    assert done == []

    release.set()
    assert worker.flush(10).complete
    assert done == ["after"]


def test_a_quick_flush_says_nothing(worker: LoggingWorker) -> None:
    told: list[tuple[int, str | None]] = []
    worker.submit("quick", lambda: None)
    result = worker.flush(5, on_wait=lambda pending, what: told.append((pending, what)))
    assert result.complete and result.waiting_on is None
    assert told == []


def test_stop_ends_the_thread_after_the_queued_tasks() -> None:
    worker = LoggingWorker(name="test-stop")
    done: list[str] = []
    worker.submit("one", appender(done, "one"))
    (thread,) = [t for t in threading.enumerate() if t.name == "test-stop"]
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert done == ["one"]
