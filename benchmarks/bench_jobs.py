"""Job benchmarks, run by hand (not in CI); they print the figures the README quotes.

    .venv/bin/python benchmarks/bench_jobs.py              # every part (about 6 minutes)
    .venv/bin/python benchmarks/bench_jobs.py latency      # part 1
    .venv/bin/python benchmarks/bench_jobs.py throughput   # parts 2 and 3
    .venv/bin/python benchmarks/bench_jobs.py overhead     # part 4

Each figure is measured against its baseline in the same run, on a fresh project in a
temp folder:

1. ``latency``: submit to first cell running (the first cell writes ``time.time()`` to a
   file), p50 and p95 of 20, with the runner's warm kernels (``kernel-pool = 2``), with
   none (``kernel-pool = 0``: each kernel started on demand, in a warm worker), and
   ``papermill.execute_notebook`` launched in a fresh ``python`` process.
2. ``throughput``: 40 trivial notebooks submitted at once at ``job-concurrency = 2``,
   submit to the last one's end, against 40 ``papermill.execute_notebook`` calls one after
   the other in this (warm) process.
3. Kernel shutdown stalls over those 40 executions: an execution whose end came more
   than 2 s after its last cell (the 3.4 s stall of jupyter_client's default shutdown).
4. ``overhead``: a notebook computing for about 10 s as a job, against the same
   computation timed inside the kernel: job wall time (submit to SUCCEEDED) over it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import nbformat

SAMPLES = 20
BATCH = 40


def _notebook(path: Path, body: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('stamp = ""\nwork = 0.0')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(body)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


STAMP_CELL = "import time\nif stamp:\n    open(stamp, 'w').write(repr(time.time()))"
WORK_CELL = (
    "import time\nstarted = time.perf_counter()\nwhile time.perf_counter() - started < work:\n"
    "    sum(i * i for i in range(1000))\nprint(time.perf_counter() - started)"
)


@contextmanager
def project(pool: int, concurrency: int = 2) -> Iterator[Path]:
    """A fresh root whose runner keeps ``pool`` kernels; the runner stops at the end."""
    from mlops_lab.core.config import SPECS

    for spec in SPECS:
        os.environ.pop(spec.env, None)
    with tempfile.TemporaryDirectory(prefix="mlops-bench-jobs-") as folder:
        root = Path(folder)
        os.environ["MLOPS_LAB_KERNEL_POOL"] = str(pool)
        os.environ["MLOPS_LAB_JOB_CONCURRENCY"] = str(concurrency)
        os.environ["MLOPS_LAB_ROOT"] = str(root)
        _notebook(root / "stamp.ipynb", STAMP_CELL)
        _notebook(root / "work.ipynb", WORK_CELL)
        try:
            yield root
        finally:
            from mlops_lab.core.jobs.service import stop_started_runners

            stop_started_runners()


def _settings(root: Path):  # type: ignore[no-untyped-def]
    from mlops_lab.core.config import resolve_settings

    return resolve_settings(root)


def _submit_and_stamp(root: Path, index: int) -> float:
    from mlops_lab.core.jobs import api
    from mlops_lab.core.jobs.entities import JobRequest

    stamp = root / f"stamp-{index}.txt"
    started = time.time()
    [execution] = api.submit(
        _settings(root), JobRequest(notebook="stamp.ipynb", parameters={"stamp": str(stamp)})
    ).executions
    [done] = api.wait(_settings(root), [execution.id], timeout=120)
    assert done.state.value == "SUCCEEDED", (done.state, done.error)
    return float(stamp.read_text()) - started


def _warm_up(root: Path) -> None:
    """The runner starts, spawns its workers and their kernels: not part of a submit."""
    _submit_and_stamp(root, -1)
    time.sleep(3)  # the kernels taken by the warm-up are replaced


def _papermill_fresh(root: Path, index: int) -> float:
    stamp = root / f"pm-{index}.txt"
    code = (
        "import papermill\n"
        f"papermill.execute_notebook({str(root / 'stamp.ipynb')!r}, "
        f"{str(root / f'pm-{index}.ipynb')!r}, parameters={{'stamp': {str(stamp)!r}}}, "
        "progress_bar=False)"
    )
    started = time.time()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return float(stamp.read_text()) - started


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):.3f} s, p95 {p95:.3f} s"


def latency() -> None:
    print(f"1. submit to first cell, {SAMPLES} each")
    results: dict[str, list[float]] = {}
    for name, pool in (("warm pool", 2), ("cold (no pool)", 0)):
        with project(pool) as root:
            _warm_up(root)
            results[name] = []
            for i in range(SAMPLES):
                results[name].append(_submit_and_stamp(root, i))
                time.sleep(1.0)  # the pool refills between submits, as between clicks
    with project(0) as root:
        results["papermill, fresh process"] = [_papermill_fresh(root, i) for i in range(SAMPLES)]
    baseline = statistics.median(results["papermill, fresh process"])
    for name, samples in results.items():
        ratio = statistics.median(samples) / baseline
        print(f"   {name:26} {_percentiles(samples)}  ({ratio:.2f}x papermill's p50)")


def throughput() -> None:
    from mlops_lab.core.jobs import api
    from mlops_lab.core.jobs.entities import JobRequest

    print(f"2. {BATCH} trivial notebooks")
    with project(2, concurrency=2) as root:
        _warm_up(root)
        settings = _settings(root)
        started = time.perf_counter()
        ids = [
            api.submit(settings, JobRequest(notebook="stamp.ipynb")).executions[0].id
            for _ in range(BATCH)
        ]
        done = api.wait(settings, ids, timeout=600)
        ours = time.perf_counter() - started
        failed = [e for e in done if e.state.value != "SUCCEEDED"]
        assert not failed, failed[0]
        stalls = _stalls(done)
    import papermill

    with project(0) as root:
        started = time.perf_counter()
        for i in range(BATCH):
            papermill.execute_notebook(
                str(root / "stamp.ipynb"), str(root / f"out-{i}.ipynb"), progress_bar=False
            )
        theirs = time.perf_counter() - started
    print(
        f"   jobs, concurrency 2: {ours:.1f} s; papermill one after the other: {theirs:.1f} s;"
        f" {theirs / ours:.1f}x"
    )
    print(f"3. kernel shutdown stalls over {BATCH} executions: {stalls}")


def _stalls(executions: list) -> int:  # type: ignore[type-arg]
    """Executions whose end came > 2 s after their last cell finished (from the output)."""
    count = 0
    for execution in executions:
        notebook = json.loads(Path(execution.output_path).read_text())
        ends = [c["metadata"].get("papermill", {}).get("end_time") for c in notebook["cells"]]
        last = max((e for e in ends if e), default=None)
        if last is None or execution.finished_at is None:
            continue
        ended = datetime.fromisoformat(last)
        if ended.tzinfo is None:  # papermill writes UTC without saying so
            ended = ended.replace(tzinfo=UTC)
        gap = (execution.finished_at - ended).total_seconds()
        count += gap > 2.0
    return count


def overhead() -> None:
    from mlops_lab.core.jobs import api
    from mlops_lab.core.jobs.entities import JobRequest

    print("4. a notebook computing for about 10 s, median of 3")
    ratios = []
    with project(2) as root:
        _warm_up(root)
        settings = _settings(root)
        for _ in range(3):
            started = time.perf_counter()
            [execution] = api.submit(
                settings, JobRequest(notebook="work.ipynb", parameters={"work": 10.0})
            ).executions
            [done] = api.wait(settings, [execution.id], timeout=120, poll=0.02)
            wall = time.perf_counter() - started
            notebook = json.loads(Path(done.output_path or "").read_text())
            computed = float("".join(notebook["cells"][-1]["outputs"][0]["text"]).strip())
            ratios.append(wall / computed)
            print(f"   computation {computed:.2f} s, job wall time {wall:.2f} s")
            time.sleep(2)
    print(f"   median: {(statistics.median(ratios) - 1) * 100:.1f}% over the computation")


PARTS = {"latency": latency, "throughput": throughput, "overhead": overhead}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(PARTS)
    for part in chosen:
        PARTS[part]()
