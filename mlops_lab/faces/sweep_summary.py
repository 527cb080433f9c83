"""A sweep's best execution, as the text faces tell it once ``--wait`` has seen the end.

The last execution of a sweep ends first; its worker then reads the metric of every
execution from MLflow and records the sweep's end with its best one, a moment later (the
sweep shows RUNNING until then). A face that waited for the executions waits this little
longer for the sweep, bounded.
"""

from __future__ import annotations

import time

from mlops_lab.core.config import Settings
from mlops_lab.core.jobs.entities import Sweep

SUMMARY_WAIT_S = 30.0
"""Reading every execution's metric from MLflow takes well under this; past it, the
summary failed (the runner's log says why) and the face says there is none."""


def summarised_sweep(settings: Settings, sweep_id: str, wait: float = SUMMARY_WAIT_S) -> Sweep:
    """The sweep once it ended with its summary (or ``wait`` seconds passed)."""
    from mlops_lab.core.jobs import api

    deadline = time.monotonic() + wait
    while True:
        sweep = api.get_sweep(settings, sweep_id)
        if sweep.state.finished or time.monotonic() >= deadline:
            return sweep
        time.sleep(0.2)


def best_line(settings: Settings, sweep: Sweep) -> str | None:
    """``best of the sweep by max score: <id> (score=0.93)``; None without a metric."""
    from mlops_lab.core.jobs.service import runner_log

    if sweep.metric is None:
        return None
    if sweep.best_execution_id is None:
        return (
            f"no execution of the sweep logged the metric '{sweep.metric}' (or summing it up "
            f"failed: see {runner_log(settings)})"
        )
    return (
        f"best of the sweep by {sweep.goal.value} {sweep.metric}: "
        f"{sweep.best_execution_id} ({sweep.metric}={sweep.best_value})"
    )
