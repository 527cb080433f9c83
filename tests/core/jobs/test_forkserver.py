"""Kernels forked from the warm template: a fresh kernel process each, as a normal start gives.

Every test runs real kernels forked by a real template and ends with no kernel left
(``no_kernel_left``, which counts the template's children).
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from mlops_lab.core.jobs import forkserver
from mlops_lab.core.jobs.engine import AttemptLimits, AttemptRequest, run_attempt
from mlops_lab.core.jobs.entities import ExecutionState
from mlops_lab.core.jobs.kernels import ReadyKernel, signal_kernel, start_kernel, wait_until_ready

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_kernel_left")]

WriteNotebook = Callable[..., Path]  # the ``write_notebook`` fixture (conftest.py)

FAST = AttemptLimits(heartbeat_grace=2.0, interrupt_grace=1.0, finish_grace=1.0, abandon_grace=5.0)


@pytest.fixture
def kernels(tmp_path: Path) -> Iterator[Callable[..., ReadyKernel]]:
    """Start kernels the way the engine does; each one is killed at the test's end."""
    started: list[ReadyKernel] = []

    def start(env: dict[str, str] | None = None, cwd: Path | None = None) -> ReadyKernel:
        kernel = start_kernel(
            "python3", env=env if env is not None else dict(os.environ), cwd=cwd or tmp_path
        )
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        kernel.kill()


@pytest.fixture
def own_server() -> Iterator[None]:
    """A template of this test's own (started on first use, stopped at the end)."""
    forkserver.stop_fork_server()
    yield
    forkserver.stop_fork_server()


def execute(kernel: ReadyKernel, code: str, expression: str = "None", timeout: float = 20) -> Any:
    """Run ``code`` in ``kernel``; the reply's content, with ``expression``'s text/plain value."""

    async def ask() -> Any:
        client = kernel.manager.client()
        client.start_channels()
        try:
            await wait_until_ready(client, timeout=10)
            reply = await client.execute_interactive(
                code, user_expressions={"value": expression}, timeout=timeout
            )
            return reply["content"]
        finally:
            client.stop_channels()

    return asyncio.run(ask())


def value(kernel: ReadyKernel, expression: str) -> Any:
    """The Python value of ``expression`` in ``kernel`` (sent back as JSON)."""
    content = execute(kernel, "", f"__import__('json').dumps({expression})")
    return json.loads(ast.literal_eval(content["user_expressions"]["value"]["data"]["text/plain"]))


def is_forked(kernel: ReadyKernel) -> bool:
    server = forkserver.fork_server()
    return (
        isinstance(kernel.manager.provisioner, forkserver.ForkProvisioner)
        and server is not None
        and psutil.Process(kernel.pid).ppid() == server.pid
    )


def test_a_forked_kernel_has_exactly_the_given_environment_folder_and_its_own_session(
    kernels: Callable[..., ReadyKernel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_WORKER_ONLY", "not for kernels")
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_WORKER_ONLY"}
    env["MLOPS_GIVEN"] = "given"
    folder = tmp_path / "folder"
    folder.mkdir()

    probe = (
        "[dict(__import__('os').environ), __import__('os').getcwd(),"
        " __import__('os').getpgid(0), __import__('os').getsid(0), __import__('os').getpid()]"
    )

    kernel = kernels(env=env, cwd=folder)

    assert is_forked(kernel)
    environ, cwd, pgid, sid, pid = value(kernel, probe)
    assert environ.pop("JPY_PARENT_PID") == str(forkserver.fork_server().pid)  # type: ignore[union-attr]
    assert "MLOPS_WORKER_ONLY" not in environ and environ["MLOPS_GIVEN"] == "given"
    # beyond the given environment, only what ipykernel sets in any kernel it starts
    monkeypatch.setattr(forkserver, "forkable", lambda spec: False)
    fresh = value(kernels(env=env, cwd=folder), probe)[0]
    fresh.pop("JPY_PARENT_PID")
    assert environ == fresh
    assert cwd == str(folder)
    assert pgid == sid == pid == kernel.pid != os.getpgid(0)


def test_a_forked_kernel_looks_like_a_fresh_one_to_the_notebook(
    kernels: Callable[..., ReadyKernel], monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = kernels()
    probe = (
        "[__import__('sys').path, __import__('sys').argv, __name__,"
        " sorted(m for m in __import__('sys').modules"
        " if m.split('.')[0] in ('numpy', 'mlops_lab', 'pandas'))]"
    )
    seen_forked = value(forked, probe)
    monkeypatch.setattr(forkserver, "forkable", lambda spec: False)
    fresh = kernels()

    seen_fresh = value(fresh, probe)

    assert is_forked(forked) and not is_forked(fresh)
    for seen in (seen_forked, seen_fresh):  # the connection files differ, of course
        assert seen[1][1] == "-f"
        del seen[1][2]
    assert seen_forked == seen_fresh
    assert seen_forked[3] == []  # the template imported no numpy, and nothing of ours


def test_two_forked_kernels_draw_different_random_numbers(
    kernels: Callable[..., ReadyKernel],
) -> None:
    first, second = kernels(), kernels()

    draws = [value(k, "__import__('random').random()") for k in (first, second)]

    assert is_forked(first) and is_forked(second)
    assert draws[0] != draws[1]


def test_a_variable_set_in_one_forked_kernel_is_absent_from_the_next(
    kernels: Callable[..., ReadyKernel],
) -> None:
    first = kernels()
    execute(first, "secret_value = 42")
    assert value(first, "secret_value") == 42

    second = kernels()

    assert value(second, "'secret_value' in globals()") is False


def test_sigint_interrupts_a_running_cell_of_a_forked_kernel(
    kernels: Callable[..., ReadyKernel],
) -> None:
    kernel = kernels()
    threading.Timer(1.0, signal_kernel, (kernel, signal.SIGINT)).start()

    began = time.monotonic()
    content = execute(kernel, "import time\ntime.sleep(30)")

    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - began < 10
    assert kernel.is_alive()


def test_a_forked_kernel_killed_from_outside_is_seen_dead_and_its_exit_reported(
    kernels: Callable[..., ReadyKernel],
) -> None:
    kernel = kernels()
    assert kernel.is_alive()

    os.kill(kernel.pid, signal.SIGKILL)

    deadline = time.monotonic() + 5
    while kernel.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not kernel.is_alive()
    assert kernel.manager.provisioner.process.poll() == -signal.SIGKILL  # type: ignore[union-attr]


def never() -> bool:
    return False


def engine_request(notebook: Path, timeout: float | None = None) -> AttemptRequest:
    out = notebook.parent.parent / "outputs"
    return AttemptRequest(
        execution_id="e1",
        attempt=1,
        notebook=notebook,
        parameters={},
        secrets=(),
        kernel_name="python3",
        cwd=notebook.parent,
        output_path=out / f"{notebook.stem}-attempt1.ipynb",
        log_path=out / "log.txt",
        env={"MLFLOW_RUN_ID": "run-forked"},
        timeout=timeout,
    )


def test_the_engine_sees_a_forked_kernel_killed_from_outside_as_death_of_the_busy_cell(
    write_notebook: WriteNotebook, tmp_path: Path
) -> None:
    pids = tmp_path / "kernel.json"
    notebook = write_notebook(
        "killed.ipynb",
        [
            "x = 1",
            "import json, os, time\n"
            f"open({str(pids)!r}, 'w').write(json.dumps([os.getpid(), os.getppid()]))\n"
            "time.sleep(60)",
        ],
    )
    seen: list[int] = []

    def kill_when_busy() -> None:
        for _ in range(200):
            if pids.exists() and pids.read_text():
                seen.extend(json.loads(pids.read_text()))
                os.kill(seen[0], signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    outcome = run_attempt(engine_request(notebook), on_progress=print, cancelled=never, limits=FAST)
    killer.join()

    server = forkserver.fork_server()
    assert server is not None and seen[1] == server.pid  # the kernel was a fork
    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (outcome.error.cell_index, outcome.error.name) == (1, "DeadKernelError")
    assert outcome.error.message == "the kernel died while running cell 2/2"


def test_the_engine_kills_a_forked_kernel_that_stops_answering_its_heartbeat(
    write_notebook: WriteNotebook,
) -> None:
    notebook = write_notebook(
        "frozen.ipynb",
        [
            "import os\nparent = os.getppid()",
            "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
        ],
    )

    outcome = run_attempt(engine_request(notebook), on_progress=print, cancelled=never, limits=FAST)

    assert outcome.state == ExecutionState.FAILED
    assert outcome.error is not None
    assert (outcome.error.cell_index, outcome.error.name) == (1, "KernelUnresponsive")
    assert outcome.duration_s < FAST.heartbeat_grace + 6


def test_the_engine_times_out_a_busy_cell_of_a_forked_kernel(write_notebook: WriteNotebook) -> None:
    notebook = write_notebook("slow.ipynb", ["import time\ntime.sleep(60)"])

    outcome = run_attempt(
        engine_request(notebook, timeout=3), on_progress=print, cancelled=never, limits=FAST
    )

    assert outcome.state == ExecutionState.TIMED_OUT
    assert outcome.error is not None and outcome.error.cell_index == 0


def test_other_kernels_and_other_interpreters_start_the_normal_way() -> None:
    standard = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]

    def spec(argv: list[str], **metadata: Any) -> KernelSpec:
        return KernelSpec(argv=argv, display_name="k", language="python", metadata=metadata)

    assert forkserver.forkable(spec(standard))
    assert forkserver.forkable(spec([sys.executable, *standard[1:]]))
    assert not forkserver.forkable(spec(["/usr/bin/python2.7", *standard[1:]]))
    assert not forkserver.forkable(spec([*standard, "--matplotlib=inline"]))
    assert not forkserver.forkable(spec(["R", "--slave", "-f", "{connection_file}"]))
    assert not forkserver.forkable(spec(standard, kernel_provisioner={"provisioner_name": "other"}))


def test_a_kernel_asking_for_another_pythonpath_starts_the_normal_way(
    kernels: Callable[..., ReadyKernel], tmp_path: Path
) -> None:
    kernel = kernels(env={**os.environ, "PYTHONPATH": str(tmp_path)})

    assert not is_forked(kernel)
    assert str(tmp_path) in value(kernel, "__import__('sys').path")


@pytest.mark.usefixtures("own_server")
def test_a_template_that_cannot_start_warns_once_and_kernels_start_the_normal_way(
    kernels: Callable[..., ReadyKernel],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = tmp_path / "template.py"
    broken.write_text("raise SystemExit(3)\n")
    monkeypatch.setattr(forkserver, "TEMPLATE", broken)

    with caplog.at_level(logging.WARNING, logger=forkserver.__name__):
        first, second = kernels(), kernels()

    assert type(first.manager.provisioner) is LocalProvisioner
    assert type(second.manager.provisioner) is LocalProvisioner
    assert value(second, "1 + 1") == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "kernels start the normal way" in warnings[0]


@pytest.mark.usefixtures("own_server")
def test_a_template_that_died_is_started_again(kernels: Callable[..., ReadyKernel]) -> None:
    server = forkserver.fork_server()
    assert server is not None and server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server.alive and time.monotonic() < deadline:
        time.sleep(0.05)

    kernel = kernels()

    assert is_forked(kernel)
    assert forkserver.fork_server() is not server


WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from mlops_lab.core.jobs import forkserver
    from mlops_lab.core.jobs.kernels import start_kernel

    kernel = start_kernel("python3", env=dict(os.environ), cwd=sys.argv[1])
    print(json.dumps([forkserver.fork_server().pid, kernel.pid]), flush=True)
    time.sleep(60)
    """
)


def test_the_template_and_its_kernels_exit_when_their_worker_is_killed(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        template_pid, kernel_pid = json.loads(worker.stdout.readline())
        template = psutil.Process(template_pid)
        kernel = psutil.Process(kernel_pid)
        assert kernel.ppid() == template_pid and template.ppid() == worker.pid
    finally:
        worker.kill()
        worker.wait()

    _gone, alive = psutil.wait_procs([template, kernel], timeout=10)

    assert not alive, f"still running after their worker was killed: {alive}"
