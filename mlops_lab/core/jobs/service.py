"""The job runner: one background process per store and machine that claims queued
executions and hands them to its executor's warm workers.

Every face only queues (``api.submit``) and calls :func:`ensure_runner`, which starts a
runner when none holds this machine's runner lock. The runner outlives whoever started
it (a JupyterLab restart does not kill a job), and leaves on its own after
``IDLE_EXIT_S`` without work, taking its workers and their kernels with it.

Run it by hand with ``python -m mlops_lab.core.jobs.service`` (``--root``).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from filelock import FileLock, Timeout

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import MlopsError, Unavailable
from mlops_lab.core.jobs.executors import Executor, executor_for, require_executor
from mlops_lab.core.jobs.store import JobStore

log = logging.getLogger("mlops_lab.jobs")

POLL_S = 0.1
"""How often an idle runner looks for queued executions: a submit waits at most this."""
HEARTBEAT_S = 2.0
REAP_EVERY_S = 10.0
IDLE_EXIT_ENV = "MLOPS_LAB_RUNNER_IDLE_S"
IDLE_EXIT_S = 1800.0
RUNNER_START_S = 20.0
"""A runner takes about a second to start (imports); much longer on a machine under load."""


def lock_path(settings: Settings) -> Path:
    return settings.home / "runner.lock"


def runner_log(settings: Settings) -> Path:
    return settings.home / "runner.log"


def pid_path(settings: Settings) -> Path:
    return settings.home / "runner.pid"


def runner_running(settings: Settings) -> bool:
    """True when a runner holds this machine's lock for the store."""
    path = lock_path(settings)
    if not path.exists():
        return False
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def ensure_runner(settings: Settings) -> None:
    """Start a runner in the background unless one is running (cheap when one is)."""
    if runner_running(settings):
        return
    require_executor(settings)  # a missing extra is said now, not after RUNNER_START_S
    settings.home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **settings.store_environment(),
        "MLOPS_LAB_JOB_CONCURRENCY": str(settings.job_concurrency),
        "MLOPS_LAB_KERNEL_POOL": str(settings.kernel_pool),
        "MLOPS_LAB_EXECUTOR": settings.executor,
    }
    with runner_log(settings).open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlops_lab.core.jobs.service", "--root", str(settings.root)],
            cwd=settings.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # not killed with the terminal or server that started it
        )
    _started.append(process)
    _wait_for_lock(settings, timeout=RUNNER_START_S)
    if not runner_running(settings):
        raise Unavailable(
            f"The job runner did not start within {RUNNER_START_S:.0f} s"
            f"{_exit_of(process)}: {_last_line(runner_log(settings))}. Nothing was queued; "
            f"see {runner_log(settings)}."
        )


def _exit_of(process: subprocess.Popen[bytes]) -> str:
    code = process.poll()
    return "" if code is None else f" (it exited with code {code})"


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "its log is empty"


_started: list[subprocess.Popen[bytes]] = []


def stop_started_runners(timeout: float = 30.0) -> None:
    """Stop the runners this process started (tests; a CLI that must not leave one)."""
    for process in _started:
        if process.poll() is None:
            process.terminate()
    for process in _started:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    _started.clear()


def _wait_for_lock(settings: Settings, timeout: float) -> None:
    """A second ``ensure_runner`` right after this one must not start another runner."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not runner_running(settings):
        time.sleep(0.02)


class JobRunner:
    """Claims executions while its executor has room; fails those its workers lost."""

    def __init__(self, settings: Settings, store: JobStore, executor: Executor) -> None:
        self.settings = settings
        self.store = store
        self.executor = executor
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.stop = threading.Event()

    def run(self, idle_exit: float) -> None:
        last_beat = last_reap = 0.0
        last_work = time.monotonic()
        while not self.stop.is_set():
            moment = time.monotonic()
            if moment - last_beat >= HEARTBEAT_S:
                self.store.beat(self.id, socket.gethostname(), os.getpid())
                last_beat = moment
            if moment - last_reap >= REAP_EVERY_S:
                self._fail_orphans()
                last_reap = moment
            for claimed in self.store.claim(self.id, self.executor.free()):
                self.executor.start(claimed)
            for finished in self.executor.poll(POLL_S):
                if finished.died is not None:
                    self._lost(finished.execution_id, finished.died)
            if self.executor.busy() or not self.executor.ready():
                last_work = time.monotonic()  # starting workers is not idling
            elif time.monotonic() - last_work > idle_exit:
                if self.store.has_queued():  # a retry waiting for its back-off
                    last_work = time.monotonic()
                    continue
                log.info("mlops-lab: no job for %.0f s; the runner leaves", idle_exit)
                return

    def _lost(self, execution_id: str, why: str) -> None:
        lost(self.settings, self.store, execution_id, why)

    def _fail_orphans(self) -> None:
        fail_orphans(self.settings, self.store)

    def close(self) -> None:
        self.executor.shutdown()
        self.store.forget_runner(self.id)


def lost(settings: Settings, store: JobStore, execution_id: str, why: str) -> None:
    """Fail (or retry, as its job says) an execution whose worker or runner died."""
    from mlops_lab.core.jobs.worker import finish_sweep

    execution = store.fail(execution_id, why, name="WorkerDied")
    if execution.sweep_id and execution.state.finished:
        finish_sweep(settings, store, execution.sweep_id)


def fail_orphans(settings: Settings, store: JobStore) -> None:
    """Executions claimed by runners silent for ``heartbeat-timeout`` are failed (or
    retried), never left RUNNING: every runner and scheduler calls this now and then."""
    stale = timedelta(seconds=settings.heartbeat_timeout)
    for execution_id in store.forget_stale_runners(stale):
        log.warning("mlops-lab: execution %s lost its runner", execution_id)
        lost(
            settings,
            store,
            execution_id,
            "its runner stopped (it was killed or its machine went down)",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_lab.core.jobs.service")
    parser.add_argument("--root", default=None, help="the Jupyter root (default: cwd)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = resolve_settings(args.root)
    try:
        require_executor(settings)
    except MlopsError as exc:
        log.error("mlops-lab: the job runner cannot start: %s", exc)
        return 1
    settings.home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(settings)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return 0  # another runner serves this store on this machine
    try:
        pid_path(settings).write_text(str(os.getpid()))
        from mlops_lab.core.jobs.api import job_store

        store = job_store(settings)
        runner = JobRunner(settings, store, executor_for(settings, store))
        signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())
        signal.signal(signal.SIGINT, lambda *_: runner.stop.set())
        log.info("mlops-lab: job runner %s for %s", runner.id, settings.root)
        try:
            runner.run(float(os.environ.get(IDLE_EXIT_ENV, IDLE_EXIT_S)))
        finally:
            runner.close()
    finally:
        pid_path(settings).unlink(missing_ok=True)
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
