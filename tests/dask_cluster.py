"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on
127.0.0.1, on free ports, without dashboards, started and stopped by the test.

Workers run without a nanny, so the process a test kills is the one running the task
(a nanny would start a new worker in its place).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

DASK = str(Path(sys.executable).with_name("dask"))
START_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DaskCluster:
    port: int
    folder: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def setting(self) -> str:
        """The ``executor`` setting naming this cluster's scheduler."""
        return f"dask://127.0.0.1:{self.port}"

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn(
            "scheduler",
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
        )

    def add_worker(self, name: str, threads: int = 1) -> None:
        self.workers[name] = self._spawn(
            name,
            [
                DASK,
                "worker",
                self.address,
                "--name",
                name,
                "--host",
                "127.0.0.1",
                "--nthreads",
                str(threads),
                "--no-nanny",
                "--no-dashboard",
                "--local-directory",
                str(self.folder / name),
            ],
        )

    def wait_for_workers(self, count: int, timeout: float = START_S) -> None:
        """Until the scheduler lists ``count`` workers (each worker imports Dask first)."""
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=timeout)

    def kill_worker(self, name: str) -> list[psutil.Process]:
        """SIGKILL a worker mid-task; return what it had started (kernels), to clean up."""
        process = self.workers.pop(name)
        started = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        return started

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.workers.clear()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(Path.cwd())}  # workers import this tree
        with (self.folder / f"{name}.log").open("ab") as out:
            return subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=self.folder
            )


@contextmanager
def dask_cluster(folder: Path, workers: int = 2, port: int | None = None) -> Iterator[DaskCluster]:
    """A scheduler and ``workers`` one-thread workers named w1, w2, ...; stopped on exit."""
    cluster = DaskCluster(port or free_port(), folder)
    try:
        cluster.start_scheduler()
        for index in range(workers):
            cluster.add_worker(f"w{index + 1}")
        if workers:
            cluster.wait_for_workers(workers)
        yield cluster
    finally:
        cluster.stop()


def kill_all(processes: list[psutil.Process]) -> None:
    """Kill what a killed worker left behind (its kernels and their template)."""
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.kill()
    deadline = time.monotonic() + 10
    for process in processes:
        with suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
