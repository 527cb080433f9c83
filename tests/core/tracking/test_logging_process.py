"""The logging process as a real child of the test: requests in order, errors that travel
back, failures kept once, a bounded flush, and a process that dies or is interrupted."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError
from mlops_lab.core.tracking import run_logging
from mlops_lab.core.tracking.fit_logging import FitRecord, fit_params, pickle_fit
from mlops_lab.core.tracking.fits import FitCall
from mlops_lab.core.tracking.logging_client import (
    LoggingClient,
    LoggingProcessGone,
    Pending,
    RemoteError,
)

KERNEL = run_logging.Kernel(kernel_id=None, history=None, first_cell=0)


@pytest.fixture
def client() -> Iterator[LoggingClient]:
    client = LoggingClient()
    yield client
    client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from mlops_lab.core.mlflow.connection import client_for

    settings = resolve_settings(tmp_path, environ={})
    client_for(settings)  # the schema exists: the child need not build it
    return settings


def answered(client: LoggingClient, what: str, operation: str, **kwargs: Any) -> Any:
    pending = client.submit(what, operation, **kwargs)
    assert pending.wait(60), f"{what}: no answer"
    if pending.error is not None:
        raise pending.error
    return pending.value


def open_run(
    client: LoggingClient,
    settings: Settings,
    run: str,
    experiment: str = "e",
    run_name: str | None = None,
    params: dict[str, str] | None = None,
) -> Pending:
    """Ask the process to open a notebook run keyed ``run`` (the kernel's name for it)."""
    return client.submit(
        "opening",
        "open_run",
        run=run,
        settings=settings,
        experiment=experiment,
        notebook=None,
        run_name=run_name,
        kernel=KERNEL,
        params=params or {},
    )


def logger_pid(client: LoggingClient) -> int:
    pid = answered(client, "ping", "ping")
    assert isinstance(pid, int)
    return pid


def a_fit(count: int = 1) -> tuple[FitRecord, bytes]:
    X, y = load_digits(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    call = FitCall(tree, "fit", X, y, None, "X", started_ms=1, ended_ms=2)
    record = FitRecord.of(call, count, {k: str(v) for k, v in fit_params(call).items()})
    return record, pickle_fit(call)


def test_a_low_priority_one_thread_child_answers_in_order(
    client: LoggingClient, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    pid = logger_pid(client)
    child = psutil.Process(pid)
    assert pid != os.getpid() and child.ppid() == os.getpid()
    assert child.nice() == 19
    assert child.environ()["OPENBLAS_NUM_THREADS"] == "1"
    assert os.getpgid(pid) == pid  # a group of its own: a kernel's group kill spares it

    open_run(client, settings, run="r", run_name="nb-1", params={"a": "1"})
    record, call = a_fit()
    client.submit("the fit", "log_fit", run="r", fit="r/f", record=record, call=call)
    evaluation = client.submit(
        "a score",
        "log_evaluation",
        run="r",
        fit="r/f",
        key="DecisionTreeClassifier_score_X",
        value=0.5,
        step=0,
        timestamp=3,
    )
    closed = client.submit(
        "closing",
        "close_run",
        run="r",
        status="FINISHED",
        files={"environment/python.txt": "3.11\n"},
        late_params={},
    )
    assert client.flush(120) == 0 and closed.error is None and evaluation.error is None
    assert client.take_failures() == []
    # MLflow's warnings (one per saved model) go to a log file, not to the kernel's stderr,
    # which ipykernel would show in the user's cell.
    assert "mlflow" not in capfd.readouterr().err
    log = Path(tempfile.gettempdir()) / f"mlops-lab-logging-{os.getpid()}.log"
    assert "mlflow" in log.read_text()

    store = MlflowClient(settings.tracking_uri)
    parent = store.get_run(closed.value)
    assert parent.info.status == "FINISHED" and parent.data.params == {"a": "1"}
    (fit,) = store.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert fit.info.run_name == "DecisionTreeClassifier-1"
    assert fit.data.metrics["DecisionTreeClassifier_score_X"] == 0.5


def test_errors_come_back_as_themselves_once_and_the_process_goes_on(
    client: LoggingClient, settings: Settings
) -> None:
    missing = client.submit("params of nothing", "log_params", run="nope", params={})
    strange = client.submit("a wrong call", "ping", unexpected=1)
    open_run(client, settings, run="r")
    refused = client.submit("params", "log_params", run="r", params={"a": "1"})
    changed = client.submit("params again", "log_params", run="r", params={"a": "2"})
    assert client.flush(60) == 0
    assert isinstance(missing.error, RemoteError) and missing.error.type_name == "KeyError"
    assert isinstance(strange.error, RemoteError) and "unexpected" in str(strange.error)
    assert refused.error is None
    assert changed.error is not None  # MLflow refuses to change a param
    failures = client.take_failures()
    assert [f.what for f in failures] == ["params of nothing", "a wrong call", "params again"]
    assert client.take_failures() == []
    assert logger_pid(client)  # still answering


def test_our_errors_arrive_as_the_same_class(client: LoggingClient, settings: Settings) -> None:
    store = MlflowClient(settings.tracking_uri)
    store.delete_experiment(store.create_experiment("deleted"))
    empty = open_run(client, settings, run="a", experiment=" ")
    deleted = open_run(client, settings, run="b", experiment="deleted")
    assert client.flush(60) == 0
    assert type(empty.error) is InvalidInput and "Experiment name is empty" in str(empty.error)
    assert type(deleted.error) is MlopsError and deleted.error.code is ErrorCode.CONFLICT
    assert "Experiment 'deleted' is deleted" in deleted.error.message


def test_a_run_that_never_opened_is_reported_once(client: LoggingClient, tmp_path: Path) -> None:
    (tmp_path / ".mlops").write_text("a file where the store's folder should be")
    settings = resolve_settings(tmp_path, environ={})
    opening = open_run(client, settings, run="r")
    later = client.submit("params", "log_params", run="r", params={"a": "1"})
    assert client.flush(60) == 0
    assert opening.error is not None and later.error is not None
    assert [f.what for f in client.take_failures()] == ["opening"]  # not every request


def test_a_killed_process_fails_what_it_held_and_the_next_request_starts_anew(
    client: LoggingClient, settings: Settings
) -> None:
    pid = logger_pid(client)
    slow = open_run(client, settings, run="r")
    os.kill(pid, signal.SIGKILL)
    assert slow.wait(30)
    if slow.error is not None:  # killed before it answered (usual): it says so
        assert isinstance(slow.error, LoggingProcessGone)
        assert [f.what for f in client.take_failures()] == ["opening"]
    assert logger_pid(client) != pid


def test_an_interrupt_is_for_the_cell_not_for_the_logging(
    client: LoggingClient, settings: Settings
) -> None:
    pid = logger_pid(client)
    os.kill(pid, signal.SIGINT)
    time.sleep(0.2)
    assert logger_pid(client) == pid


def test_closing_the_pipe_lets_the_process_finish_then_exit(settings: Settings) -> None:
    client = LoggingClient()
    pid = logger_pid(client)
    open_run(
        client, settings, run="r", experiment="gone", run_name="after-close", params={"a": "1"}
    )
    client.submit("closing", "close_run", run="r", status="FINISHED", files={}, late_params={})
    client.close()  # as a kernel that exits right after sending
    psutil.Process(pid).wait(timeout=60)
    store = MlflowClient(settings.tracking_uri)
    experiment = store.get_experiment_by_name("gone")
    assert experiment is not None
    (run,) = store.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.data.params == {"a": "1"}


def test_flush_is_bounded_and_tells_once(client: LoggingClient, settings: Settings) -> None:
    told: list[tuple[int, str | None]] = []
    logger_pid(client)
    record, call = a_fit()
    open_run(client, settings, run="r")
    for n in range(1, 4):
        client.submit(f"fit {n}", "log_fit", run="r", fit=f"r/{n}", record=record, call=call)
    left = client.flush(0.3, on_wait=lambda pending, current: told.append((pending, current)))
    assert left > 0 and len(told) == 1 and told[0][1] is not None
    assert client.flush(120) == 0
    assert client.pending == 0 and client.current is None
