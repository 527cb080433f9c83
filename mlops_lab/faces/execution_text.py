"""How the text faces (``%mlops job`` and ``mlops-lab job``) tell a job execution.

The magic and the CLI show the same executions in the same words: the line a submit
prints, the final state line, the detail of ``show``, the progress meter of ``--wait``
and the table of ``list``. The faces do not import one another, so the wording lives
here, beside the argument parsing they also share.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mlops_lab.core.jobs.entities import CellError, Execution, ExecutionState

if TYPE_CHECKING:
    import pandas as pd

SHORT_ID = 8
"""Characters of an id shown in tables and lines; any unique prefix is accepted back."""

NOTEBOOK_WIDTH = 32
"""A longer notebook path in a table keeps its end: the file name tells rows apart."""
ERROR_WIDTH = 60
"""A longer error in a table keeps its start: the cell and the error's name."""

FRAME_COLUMNS = (
    "id",
    "notebook",
    "state",
    "cells",
    "started",
    "duration",
    "run_id",
    "error",
)


def short_id(identifier: str | None) -> str:
    return (identifier or "-")[:SHORT_ID]


def parameters_text(parameters: Mapping[str, Any]) -> str:
    """``alpha=0.5 name=a b``: strings as they are, other values as JSON (as typed)."""
    return " ".join(
        f"{name}={value if isinstance(value, str) else _json_text(value)}"
        for name, value in parameters.items()
    )


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def keep_end(text: str, width: int) -> str:
    """``text`` at most ``width`` long, by its end: for paths, whose file name matters."""
    return text if len(text) <= width else "…" + text[1 - width :]


def keep_start(text: str, width: int) -> str:
    """``text`` at most ``width`` long, by its start: for messages and descriptions."""
    return text if len(text) <= width else text[: width - 1] + "…"


def cell_label(index: int) -> str:
    """A cell as the user counts them: the first cell of the notebook is cell 1."""
    return f"cell {index + 1}"


def error_text(error: CellError) -> str:
    """``cell 4: ValueError: alpha must be positive`` (the cell only when it is known)."""
    return error.line(first_line_only=True)


def cells_text(execution: Execution) -> str:
    """``3/12`` cells done, or ``-`` before the notebook's cells are counted."""
    if not execution.cells_total:
        return "-"
    return f"{execution.cells_done}/{execution.cells_total}"


def _aware(moment: datetime) -> datetime:
    """Store times without a zone are UTC (what the store writes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def duration_seconds(execution: Execution, now: datetime | None = None) -> float | None:
    """How long it ran (or has been running); None before it started."""
    if execution.started_at is None:
        return None
    end = execution.finished_at or now or datetime.now(UTC)
    return max(0.0, (_aware(end) - _aware(execution.started_at)).total_seconds())


def duration_text(seconds: float | None) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``: precise while short, readable when long."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def local_time(moment: datetime | None) -> str:
    """A store time in this machine's zone, to the second (``2026-11-23 16:42:05``)."""
    if moment is None:
        return "-"
    return f"{_aware(moment).astimezone():%Y-%m-%d %H:%M:%S}"


def queued_line(execution: Execution) -> str:
    """What a submit prints for each execution it queued."""
    parameters = parameters_text(execution.parameters)
    return f"queued {execution.id}  {execution.notebook}{f'  {parameters}' if parameters else ''}"


def final_line(execution: Execution) -> str:
    """One line once an execution ended: state, time, cells, where it failed, its run."""
    seconds = duration_seconds(execution)
    took = f" in {duration_text(seconds)}" if seconds is not None else ""
    counts = [f"{cells_text(execution)} cells"] if execution.cells_total else []
    if execution.attempt > 1:
        counts.append(f"{execution.attempt} attempts")
    detail = f" ({', '.join(counts)})" if counts else ""
    failed = f" at {error_text(execution.error)}" if execution.error is not None else ""
    run = f"; MLflow run {execution.run_id}" if execution.run_id else ""
    return (
        f"{short_id(execution.id)} {execution.notebook}: {execution.state.value}"
        f"{took}{detail}{failed}{run}"
    )


def progress_line(executions: Sequence[Execution], elapsed: float) -> str:
    """The ``--wait`` meter: cells done of total (summed over a sweep) and elapsed time."""
    done = sum(e.cells_done for e in executions)
    total = sum(e.cells_total for e in executions)
    cells = f"{done}/{total} cells" if total else "starting"
    if len(executions) == 1:
        state = executions[0].state.value
        attempt = executions[0]
        retry = (
            f" (attempt {attempt.attempt} of {attempt.max_attempts})" if attempt.attempt > 1 else ""
        )
        return f"{state}{retry}: {cells}, {duration_text(elapsed)}"
    finished = sum(e.state.finished for e in executions)
    return f"{finished} of {len(executions)} executions finished: {cells}, {duration_text(elapsed)}"


def detail_lines(execution: Execution) -> list[str]:
    """What ``show`` prints: state, progress, attempts, error, where the results are."""
    e = execution
    state = e.state.value + (
        " (cancel requested)" if e.cancel_requested and not e.state.finished else ""
    )
    lines = [
        f"execution  {e.id}",
        f"notebook   {e.notebook}",
        f"job        {e.job_name} ({e.job_id})",
        f"state      {state}",
        f"cells      {cells_text(e)}"
        + (
            f" (running {cell_label(e.current_cell)})"
            if e.current_cell is not None and e.state is ExecutionState.RUNNING
            else ""
        ),
        f"parameters {parameters_text(e.parameters) or '-'}",
        f"kernel     {e.kernel_name}",
        f"created    {local_time(e.created_at)} by {e.created_by}",
        f"started    {local_time(e.started_at)}",
        f"duration   {duration_text(duration_seconds(e))}",
        f"attempt    {e.attempt} of {e.max_attempts}",
    ]
    for attempt in e.attempts if len(e.attempts) > 1 else ():
        error = f" at {error_text(attempt.error)}" if attempt.error else ""
        lines.append(
            f"  #{attempt.number} {attempt.state.value} {local_time(attempt.started_at)}"
            f"{error}; run {attempt.run_id or '-'}"
        )
    if e.error is not None:
        lines.append(f"error      {error_text(e.error)}")
    lines += [
        f"output     {e.output_path or '-'}",
        f"run        {e.run_id or '-'}"
        + (f" (experiment {e.experiment_id})" if e.experiment_id else ""),
    ]
    if e.sweep_id:
        lines.append(f"sweep      {e.sweep_id}")
    return lines


def execution_record(execution: Execution) -> dict[str, Any]:
    """The execution as JSON-ready data, field for field as REST returns it."""
    return json_ready(asdict(execution))


def json_ready(data: dict[str, Any]) -> dict[str, Any]:
    """An entity's ``asdict`` as plain JSON values: times as ISO text, enums as values."""
    ready: dict[str, Any] = json.loads(json.dumps(data, default=_json_default))
    return ready


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def executions_frame(executions: Sequence[Execution]) -> pd.DataFrame:
    """Recent executions as a table: the columns a person scans first, newest first."""
    import pandas as pd

    rows = [
        {
            "id": e.id,
            "notebook": e.notebook,
            "state": e.state.value,
            "cells": cells_text(e),
            "started": local_time(e.started_at) if e.started_at else "",
            "duration": duration_text(duration_seconds(e)) if e.started_at else "",
            "run_id": e.run_id or "",
            "error": error_text(e.error) if e.error else "",
        }
        for e in executions
    ]
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def executions_table(executions: Sequence[Execution]) -> str:
    """:func:`executions_frame` as text for a terminal: short ids, a long notebook path
    kept by its end (the file name tells rows apart), a long error by its start."""
    frame = executions_frame(executions)
    frame["id"] = frame["id"].str[:SHORT_ID]
    frame["run_id"] = frame["run_id"].str[:SHORT_ID]
    frame["notebook"] = frame["notebook"].map(lambda text: keep_end(text, NOTEBOOK_WIDTH))
    frame["error"] = frame["error"].map(lambda text: keep_start(text, ERROR_WIDTH))
    text: str = frame.to_string(index=False)
    return text
