"""Schedules and executors benchmarks, run by hand (not in CI); they print the figures the
README quotes.

    .venv/bin/python benchmarks/bench_schedules.py fire              # part 1 (~3 minutes)
    .venv/bin/python benchmarks/bench_schedules.py kill              # part 2 (~3 minutes)
    .venv/bin/python benchmarks/bench_schedules.py dask              # part 3 (~1 minute)
    .venv/bin/python benchmarks/bench_schedules.py dask --rounds 3   # alternated, medians

1. ``fire``: two schedulers on one project's store, one inside a ``jupyter server`` (the
   extension's thread) and one ``mlops-lab scheduler``, and an every-second schedule
   (``* * * * * *``) for 120 slots: slots missed and duplicated, executions left RUNNING,
   the fire lag (slot time to the slot's claim) and the start lag (slot time to its
   execution started by the runner), p50 and p99 (:mod:`schedule_firing`).
2. ``kill``: the same while the standalone scheduler is SIGKILLed and restarted every
   20 s.
3. ``dask``: 40 trivial notebooks submitted at once, run by a two-worker Dask
   ``LocalCluster`` (one thread each, on 127.0.0.1, started here) against the local pool at
   ``job-concurrency = 2``, each on a fresh project after a warm-up: wall time from the
   first submit to the last one's end, and each execution's submit to its first cell
   running (p50, p95). The Dask figures are given as ratios to the local pool's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench_jobs import BATCH, _percentiles, _settings, project  # same folder: run as a script
from schedule_firing import run_firing

SLOTS = 120
KILL_EVERY_S = 20.0


@dataclass(frozen=True)
class BatchTimes:
    wall: float
    """First submit to the last execution's end, seconds."""
    to_start: list[float]
    """Each execution's submit to its first cell running, seconds."""


def _batch(root: Path) -> BatchTimes:
    """Submit ``BATCH`` trivial executions at once; wait for all of them."""
    from mlops_lab.core.jobs import api
    from mlops_lab.core.jobs.entities import JobRequest

    settings = _settings(root)
    submitted: dict[str, tuple[float, Path]] = {}
    started = time.perf_counter()
    for index in range(BATCH):
        stamp = root / f"batch-{index}.txt"
        moment = time.time()
        request = JobRequest(notebook="stamp.ipynb", parameters={"stamp": str(stamp)})
        [execution] = api.submit(settings, request).executions
        submitted[execution.id] = (moment, stamp)
    done = api.wait(settings, list(submitted), timeout=900)
    wall = time.perf_counter() - started
    failed = [e for e in done if e.state.value != "SUCCEEDED"]
    assert not failed, failed[0]
    to_start = [float(stamp.read_text()) - moment for moment, stamp in submitted.values()]
    return BatchTimes(wall, to_start)


def _warm_up(root: Path, executions: int = 2) -> None:
    """Start the runner and have each worker run one execution (imports, first kernel)."""
    from mlops_lab.core.jobs import api
    from mlops_lab.core.jobs.entities import JobRequest

    settings = _settings(root)
    ids = [
        api.submit(settings, JobRequest(notebook="stamp.ipynb")).executions[0].id
        for _ in range(executions)
    ]
    api.wait(settings, ids, timeout=300)
    time.sleep(3)  # the kernels the warm-up took are replaced


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[str]:
    """A Dask ``LocalCluster`` on 127.0.0.1 (worker processes, one thread each, no
    dashboard); yields the ``executor`` setting that names its scheduler."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address  # tcp://127.0.0.1:port
        yield "dask://" + address.split("://", 1)[1]


def dask(rounds: int = 1) -> None:
    """Local pool, then Dask, ``rounds`` times in turn (on a busy machine the load moves
    between runs: alternating keeps each pair under about the same); medians printed."""
    print(f"3. {BATCH} trivial notebooks: a two-worker Dask LocalCluster against the local pool")
    local: list[BatchTimes] = []
    on_dask: list[BatchTimes] = []
    with local_cluster(2) as setting:
        for _ in range(rounds):
            with project(2, concurrency=2) as root:
                _warm_up(root)
                local.append(_batch(root))
            with project(2, concurrency=2) as root:
                os.environ["MLOPS_LAB_EXECUTOR"] = setting
                try:
                    _warm_up(root)
                    on_dask.append(_batch(root))
                finally:
                    del os.environ["MLOPS_LAB_EXECUTOR"]
    rows = (("local pool, concurrency 2", local), ("Dask, 2 workers x 1 thread", on_dask))
    for name, runs in rows:
        walls = ", ".join(f"{r.wall:.1f}" for r in runs)
        p50s = ", ".join(f"{statistics.median(r.to_start):.2f}" for r in runs)
        every = _percentiles([t for r in runs for t in r.to_start])
        print(
            f"   {name:27} all {BATCH}: median {statistics.median(r.wall for r in runs):.1f} s"
            f" ({walls}); submit to first cell: {every} (p50 per round: {p50s})"
        )
    wall = statistics.median(d.wall / lo.wall for d, lo in zip(on_dask, local, strict=True))
    p50 = statistics.median(
        statistics.median(d.to_start) / statistics.median(lo.to_start)
        for d, lo in zip(on_dask, local, strict=True)
    )
    print(
        f"   Dask / local, median of the rounds: wall {wall:.2f}x, submit-to-start p50 {p50:.2f}x"
    )


def firing(kill: bool) -> None:
    import tempfile

    title = "while the standalone one is SIGKILLed every 20 s" if kill else "both running"
    print(f"{2 if kill else 1}. two schedulers, an every-second schedule, {SLOTS} slots, {title}")
    with tempfile.TemporaryDirectory(prefix="mlops-bench-schedules-") as folder:
        report = run_firing(
            Path(folder),
            SLOTS,
            KILL_EVERY_S if kill else None,
            progress=lambda line: print(f"   ({line})"),
        )
    for line in report.lines():
        print(f"   {line}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench_schedules.py", description=__doc__.split("\n")[0])
    parts = parser.add_subparsers(dest="part", required=True)
    parts.add_parser("fire", help="two schedulers, an every-second schedule, 120 slots")
    parts.add_parser("kill", help="the same, the standalone scheduler SIGKILLed every 20 s")
    part = parts.add_parser("dask", help="Dask LocalCluster against the local pool, 40 executions")
    part.add_argument("--rounds", type=int, default=1, help="local, then Dask, this many times")
    args = parser.parse_args()
    if args.part == "dask":
        dask(args.rounds)
    else:
        firing(kill=args.part == "kill")


if __name__ == "__main__":
    main()
