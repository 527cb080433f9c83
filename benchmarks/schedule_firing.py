"""Two schedulers on one store, an every-second schedule: what fired, what was missed or
fired twice, how late, and what was left RUNNING. The figures of ``bench_schedules.py
fire|kill``; ``tests/core/jobs/test_scheduler_processes.py`` runs a short version.

Real processes throughout: a ``jupyter server`` (whose extension runs a scheduler
thread), a ``mlops-lab scheduler``, the job runner they start, and its workers.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat


@dataclass
class FiringReport:
    slots: int
    """Slots between the schedule's start and its pause."""
    fired: int
    skipped: int
    missed: int
    """Slots with no row at all: neither fired nor skipped by the concurrency policy."""
    duplicated: int
    """Executions beyond the first for one slot."""
    orphans: int
    """Executions still RUNNING (or QUEUED) once everything had time to end."""
    failed: int
    fire_lags: list[float] = field(default_factory=list)
    """Slot time to the slot's claim, seconds."""
    start_lags: list[float] = field(default_factory=list)
    """Slot time to its execution starting (claimed by the runner), seconds."""
    by_scheduler: dict[str, int] = field(default_factory=dict)
    kills: int = 0

    def lines(self) -> list[str]:
        return [
            f"slots {self.slots}: fired {self.fired}, skipped {self.skipped} (concurrency), "
            f"missed {self.missed}, duplicated {self.duplicated}, left RUNNING {self.orphans}, "
            f"failed {self.failed}",
            f"fire lag   (slot -> claimed):           {_p(self.fire_lags)}",
            f"start lag  (slot -> execution started): {_p(self.start_lags)}",
            "slots claimed per scheduler: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_scheduler.items())),
        ] + (
            [f"standalone scheduler SIGKILLed and restarted {self.kills} times"]
            if self.kills
            else []
        )


REGISTER_S = 90.0
"""A Jupyter server takes 5-10 s to start here, much longer beside a test suite."""
SETTLE_S = 5.0
"""A just-started Jupyter server is still busy (extensions, kernel specs) for a few
seconds on a 2-core machine: the schedule starts after that, as it would in real life."""


def _p(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[max(0, round(0.99 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):.3f} s, p99 {p99:.3f} s, max {ordered[-1]:.3f} s"


def _notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell("y = x + 1")]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def jupyter_server(root: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    port = _free_port()
    command = [
        _bin("jupyter"), "server", "--no-browser", f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--allow-root",
        f"--IdentityProvider.token={secrets.token_hex(8)}",
    ]  # fmt: skip
    return _start(command, root, env, log)


def standalone_scheduler(root: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return _start([_bin("mlops-lab"), "scheduler", "--root", str(root)], root, env, log)


def _start(
    command: list[str], root: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def project(folder: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh root with its store created, and the environment its processes get."""
    from mlops_lab.core.config import SPECS, resolve_settings
    from mlops_lab.core.store import LabStore

    root = folder / "project"
    root.mkdir()
    _notebook(root / "tick.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in {s.env for s in SPECS}}
    env.update({"MLOPS_LAB_KERNEL_POOL": "2", "MLOPS_LAB_JOB_CONCURRENCY": "2"})
    env.pop("MLOPS_LAB_ROOT", None)
    settings = resolve_settings(root, environ=env)
    LabStore(settings.store_url).ping()  # the server's scheduler starts once a store exists
    yield root, env


def _live_schedulers(
    root: Path, env: dict[str, str], processes: dict[str, subprocess.Popen[bytes]], logs: Path
) -> None:
    """Wait until both processes' schedulers beat in the store; say why one did not."""
    from sqlalchemy import select

    from mlops_lab.core.config import resolve_settings
    from mlops_lab.core.jobs.schedules import schedule_store
    from mlops_lab.core.store.schema import SchedulerRow

    store = schedule_store(resolve_settings(root, environ=env)).store
    deadline = time.monotonic() + REGISTER_S
    while time.monotonic() < deadline:
        with store.transaction() as session:
            alive = set(session.scalars(select(SchedulerRow.pid)))
        if {p.pid for p in processes.values()} <= alive:
            return
        for name, process in processes.items():
            if process.poll() is not None:
                tail = (logs / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(
                    f"the {name} exited with code {process.returncode}:\n" + "\n".join(tail)
                )
        time.sleep(0.2)
    raise RuntimeError(f"the schedulers did not register within {REGISTER_S:.0f} s; see {logs}")


def run_firing(
    folder: Path,
    seconds: int,
    kill_every: float | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> FiringReport:
    """Every-second slots for ``seconds`` with two schedulers; ``kill_every`` SIGKILLs and
    restarts the standalone one that often."""
    from mlops_lab.core.config import resolve_settings
    from mlops_lab.core.jobs import api, schedules
    from mlops_lab.core.jobs.entities import ConcurrencyPolicy, JobRequest, ScheduleRequest
    from mlops_lab.core.jobs.service import stop_started_runners

    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    with project(folder) as (root, env):
        settings = resolve_settings(root, environ=env)
        # The runner warms up first (as WARM_UP does before a slot), started from here so
        # this run can stop it at the end.
        [warm] = api.submit(settings, JobRequest(notebook="tick.ipynb")).executions
        api.wait(settings, [warm.id], timeout=120)
        server = jupyter_server(root, env, logs / "server.log")
        standalone = standalone_scheduler(root, env, logs / "scheduler.log")
        kills = 0
        try:
            _live_schedulers(root, env, {"server": server, "scheduler": standalone}, logs)
            progress(
                f"two schedulers up (server pid {server.pid}, standalone pid {standalone.pid})"
            )
            made = schedules.create_schedule(
                settings,
                ScheduleRequest(
                    notebook="tick.ipynb",
                    cron="* * * * * *",
                    timezone="UTC",
                    concurrency=ConcurrencyPolicy.SKIP,
                    max_active=2,
                ),
            )
            started = time.monotonic()
            next_kill = started + kill_every if kill_every else None
            while time.monotonic() - started < seconds:
                time.sleep(0.2)
                if next_kill is not None and time.monotonic() >= next_kill:
                    standalone.send_signal(signal.SIGKILL)
                    standalone.wait(10)
                    kills += 1
                    standalone = standalone_scheduler(root, env, logs / "scheduler.log")
                    progress(
                        f"killed the standalone scheduler ({kills}); restarted as {standalone.pid}"
                    )
                    next_kill += kill_every
            schedules.pause_schedule(settings, made.id)
            stopped_at = datetime.now(UTC)
            _wait_for_the_end(settings, made.id, timeout=120)
            return _report(settings, made.id, (made.created_at, stopped_at), server.pid, kills)
        finally:
            _stop(standalone)
            _stop(server)
            stop_started_runners()


def _wait_for_the_end(settings, schedule_id: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    from mlops_lab.core.jobs import api

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = api.list_executions(settings, schedule_id=schedule_id, max_results=1000)
        if all(e.state.finished for e in page.executions):
            return
        time.sleep(0.5)


def _report(  # type: ignore[no-untyped-def]
    settings, schedule_id: str, window: tuple[datetime, datetime], server_pid: int, kills: int
) -> FiringReport:
    from sqlalchemy import select

    from mlops_lab.core.jobs import api, schedules
    from mlops_lab.core.jobs.cron import Cron
    from mlops_lab.core.jobs.rows import utc
    from mlops_lab.core.store.schema import SlotRow

    created, stopped = window
    # The last second before the pause may or may not have fired: it is not counted.
    expected = {
        s
        for s in Cron("* * * * * *", "UTC").next_after(created, 100_000)
        if s <= stopped - timedelta(seconds=1)
    }
    with schedules.schedule_store(settings).store.transaction() as session:
        rows = [
            (utc(r.slot_at), r.outcome, r.fired_by, utc(r.fired_at))
            for r in session.scalars(select(SlotRow).where(SlotRow.schedule_id == schedule_id))
        ]
    rows = [r for r in rows if r[0] in expected]
    page = api.list_executions(settings, schedule_id=schedule_id, max_results=1000)
    executions = [e for e in page.executions if e.slot_at in expected]
    per_slot: dict[datetime, int] = {}
    for e in executions:
        assert e.slot_at is not None
        per_slot[e.slot_at] = per_slot.get(e.slot_at, 0) + 1
    by_scheduler: dict[str, int] = {}
    for _, _, who, _ in rows:
        kind = "in jupyter server" if who.split("-")[-2] == str(server_pid) else "standalone"
        by_scheduler[kind] = by_scheduler.get(kind, 0) + 1
    return FiringReport(
        slots=len(expected),
        fired=sum(1 for _, outcome, _, _ in rows if outcome == "fired"),
        skipped=sum(1 for _, outcome, _, _ in rows if outcome == "skipped"),
        missed=len(expected - {slot for slot, *_ in rows}),
        duplicated=sum(n - 1 for n in per_slot.values() if n > 1),
        orphans=sum(1 for e in executions if not e.state.finished),
        failed=sum(1 for e in executions if e.state.value != "SUCCEEDED"),
        fire_lags=[(fired - slot).total_seconds() for slot, _, _, fired in rows],
        start_lags=[
            (e.started_at - e.slot_at).total_seconds()
            for e in executions
            if e.started_at and e.slot_at
        ],
        by_scheduler=by_scheduler,
        kills=kills,
    )
