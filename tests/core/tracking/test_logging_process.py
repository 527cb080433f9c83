"""The logging process, a real child: answers, errors that travel back, and dying mid-way."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError, NotFound
from mlops_lab.core.tracking import run_logging
from mlops_lab.core.tracking.fit_logging import (
    FitLogged,
    FitOptions,
    FitRecord,
    fit_params,
    pickle_fit,
)
from mlops_lab.core.tracking.fits import FitCall
from mlops_lab.core.tracking.logging_process import (
    LoggingProcess,
    LoggingProcessGone,
    RemoteError,
    pickled,
)

MISSING_RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def process() -> Iterator[LoggingProcess]:
    """A process of its own, for a test that kills it."""
    process = LoggingProcess()
    yield process
    process.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[LoggingProcess]:
    """One process for the tests that leave it alive (each start imports MLflow, ~2 s)."""
    process = LoggingProcess()
    yield process
    process.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store whose schema exists already, so each child does not build it again."""
    from mlops_lab.core.mlflow.connection import client_for

    settings = resolve_settings(tmp_path_factory.mktemp("store"), environ={})
    client_for(settings)
    return settings


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def wait_until_dead(pid: int) -> None:
    """Until our child ``pid`` has exited, all its threads included (a killed process's
    zombie leader can show in /proc before its other threads are gone; until then the
    kernel does not report it exited). ``WNOWAIT``: the process is left to be reaped."""

    def exited() -> bool:
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, pid, flags) is not None
        except ChildProcessError:  # reaped already
            return True

    wait_until(exited)


class Calls:
    """Unpickles as ``function(*args)``: lets a request make the child do something while
    it reads the request (here: say it has it, then hold it)."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.function, self.args)


def a_fit(X_train: np.ndarray, y_train: np.ndarray) -> tuple[FitRecord, bytes]:
    """A fit as the kernel ships it: named, params taken, pickled."""
    model = DecisionTreeClassifier(max_depth=4, random_state=0)
    started = int(time.time() * 1000)
    model.fit(X_train, y_train)
    call = FitCall(model, "fit", X_train, y_train, None, "X_train", started, started + 1)
    record = FitRecord.of(model, 1, {k: str(v) for k, v in fit_params(model).items()})
    return record, pickle_fit(call)


# --- answers and errors ------------------------------------------------------------------


def test_ping_is_answered_by_another_process_that_yields_the_cpu(
    shared: LoggingProcess,
) -> None:
    pid = shared.call("ping")

    assert isinstance(pid, int) and pid != os.getpid()
    assert shared.call("ping") == pid, "one process answers every request"
    assert os.getpriority(os.PRIO_PROCESS, pid) == 19
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"OMP_NUM_THREADS=1" in environ and b"OPENBLAS_NUM_THREADS=1" in environ


def test_our_errors_arrive_as_themselves(shared: LoggingProcess, settings: Settings) -> None:
    with pytest.raises(NotFound) as here:
        run_logging.log_params(settings, MISSING_RUN, {"alpha": "0.1"})

    with pytest.raises(NotFound) as there:
        shared.call("log_params", settings=settings, run_id=MISSING_RUN, params={"alpha": "0.1"})

    assert type(there.value) is NotFound
    assert there.value.code is ErrorCode.NOT_FOUND
    assert there.value.message == here.value.message
    assert MISSING_RUN in there.value.message

    kernel = run_logging.Kernel(pid=os.getpid(), kernel_id=None, history=None, first_cell=1)
    with pytest.raises(InvalidInput) as invalid:
        shared.call(
            "open_run",
            settings=settings,
            experiment=" ",
            notebook=None,
            run_name=None,
            kernel=kernel,
            params={},
        )
    assert type(invalid.value) is InvalidInput and invalid.value.param is None
    assert str(invalid.value) == "Experiment name is empty: give --experiment NAME."
    assert isinstance(invalid.value, MlopsError)


def test_other_errors_arrive_as_text_and_the_process_goes_on(shared: LoggingProcess) -> None:
    pid = shared.call("ping")

    with pytest.raises(RemoteError) as unknown:
        shared.call("no_such_operation", value=1)
    with pytest.raises(RemoteError) as wrong:
        shared.call("ping", unexpected=1)

    assert unknown.value.type_name == "KeyError"
    assert str(unknown.value) == "'no_such_operation'"
    assert "Traceback" in unknown.value.detail and "KeyError" in unknown.value.detail
    assert wrong.value.type_name == "TypeError" and "unexpected" in str(wrong.value)
    assert shared.call("ping") == pid


# --- the process dies ----------------------------------------------------------------------


def test_a_process_killed_during_a_request_fails_that_request_and_the_next_one_starts_anew(
    process: LoggingProcess, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a kernel whose logging process the OOM killer took while it logged a model:
    that fit is lost and said so; the next one lands, in a new process, in the right
    store, though the new process never opened the notebook's run."""
    monkeypatch.chdir(tmp_path)  # where MLflow's default store would appear
    X, y = load_digits(return_X_y=True)
    X_train, y_train = X[:600], y[:600]
    kernel = run_logging.Kernel(pid=os.getpid(), kernel_id=None, history=None, first_cell=1)
    opened: run_logging.OpenedRun = process.call(
        "open_run",
        settings=settings,
        experiment="killed",
        notebook=None,
        run_name="killed",
        kernel=kernel,
        params={},
    )
    first_pid = process.call("ping")

    received = tmp_path / "received"
    holding = cloudpickle.dumps(
        ("ping", {"received": Calls(os.mkdir, str(received)), "hold": Calls(time.sleep, 60)})
    )
    outcome: list[BaseException | object] = []

    def send() -> None:
        try:
            outcome.append(process.call_pickled(holding))
        except BaseException as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    wait_until(received.exists)
    os.kill(first_pid, signal.SIGKILL)
    sender.join(30)

    (gone,) = outcome
    assert isinstance(gone, LoggingProcessGone)
    assert "the next request starts a new one" in str(gone)

    record, payload = a_fit(X_train, y_train)
    no_model = FitOptions(log_models=False, requirements=opened.options.requirements)
    logged: FitLogged = process.call_pickled(
        pickled(
            "log_fit",
            settings=settings,
            parent=opened.parent,
            record=record,
            call=payload,
            options=no_model,  # the dataset is logged the same way; a model costs seconds
        )
    )
    assert process.call("ping") not in (first_pid, os.getpid())
    assert logged.failures == []
    run = MlflowClient(settings.tracking_uri).get_run(logged.run_id)
    assert run.info.run_name == "DecisionTreeClassifier-1"
    assert run.data.tags["mlflow.parentRunId"] == opened.run_id
    assert run.data.metrics["training_accuracy_score"] > 0.5
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["X_train"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["received"]

    process.call(
        "close_run",
        settings=settings,
        run_id=opened.run_id,
        status="FINISHED",
        folder=tmp_path,
        artifacts=[],
        late_params={},
    )


def test_interrupting_the_users_cell_does_not_interrupt_the_logging(
    shared: LoggingProcess, tmp_path: Path
) -> None:
    """Jupyter interrupts a kernel by signalling its whole process group, which holds
    the logging process too: SIGINT is for the user's cell, not for a model being logged."""
    pid = shared.call("ping")
    os.kill(pid, signal.SIGINT)  # while it waits for a request
    time.sleep(0.3)
    assert shared.call("ping") == pid

    received = tmp_path / "received"
    busy = cloudpickle.dumps(
        ("ping", {"received": Calls(os.mkdir, str(received)), "work": Calls(time.sleep, 0.5)})
    )
    outcome: list[BaseException | object] = []
    sender = threading.Thread(target=lambda: outcome.append(answer_or_error(shared, busy)))
    sender.start()
    wait_until(received.exists)
    os.kill(pid, signal.SIGINT)  # while it works on one
    sender.join(30)

    (error,) = outcome
    assert isinstance(error, RemoteError)
    assert error.type_name == "TypeError", "the request ran to its end (ping takes no kwargs)"
    assert shared.call("ping") == pid


def answer_or_error(process: LoggingProcess, payload: bytes) -> BaseException | object:
    try:
        return process.call_pickled(payload)
    except BaseException as exc:
        return exc


def test_a_process_that_died_between_requests_is_replaced_and_closing_ends_it(
    process: LoggingProcess,
) -> None:
    first_pid = process.call("ping")
    os.kill(first_pid, signal.SIGKILL)
    wait_until_dead(first_pid)

    second_pid = process.call("ping")

    assert second_pid not in (first_pid, os.getpid())
    assert process.call("ping") == second_pid
    process.close()
    wait_until_dead(second_pid)
