"""What crosses a boundary in jobs: plain, typed, frozen data classes.

They leave the store (never ORM rows), travel between the runner and its worker
processes (pickled), and are the REST response bodies as they are (pydantic reads
dataclasses), so a job has one definition from the SQL row to the TypeScript type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExecutionState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self not in (ExecutionState.QUEUED, ExecutionState.RUNNING)


class SweepGoal(StrEnum):
    MAX = "max"
    MIN = "min"


@dataclass(frozen=True)
class ParameterInfo:
    """One variable of the notebook's cell tagged ``parameters``, as papermill reads it.

    ``type`` is papermill's inferred type name, narrowed to the kinds a value can be
    checked against (``int``, ``float``, ``bool``, ``str``, ``list``, ``dict``,
    ``None``); anything else is ``any`` and accepts every value.
    """

    name: str
    type: str
    default: Any = None
    """The default as a JSON value, or None when its text is not a literal."""
    default_text: str = ""
    """The default exactly as written in the cell."""
    help: str = ""


@dataclass(frozen=True)
class NotebookParameters:
    """What a form needs to submit a notebook as a job."""

    notebook: str
    """Path relative to the root, with ``/`` separators."""
    has_parameters_cell: bool
    parameters: list[ParameterInfo]
    kernel_name: str
    """The notebook's own kernel (its ``kernelspec``), the default for a job."""
    kernels: list[str]
    """The kernel names installed here."""


@dataclass(frozen=True)
class JobRequest:
    """A submit, as every face sends it: run ``notebook`` now, once or as a sweep.

    ``parameters`` holds single values; ``sweep`` holds, per name, the list of values
    whose grid (every combination) becomes one execution each.
    """

    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, list[Any]] = field(default_factory=dict)
    kernel_name: str | None = None
    timeout: float | None = None
    """Seconds the whole execution may take; None for no limit."""
    retries: int = 0
    retry_backoff: float = 10.0
    """Seconds before the first retry, doubled for each next one."""
    experiment: str | None = None
    """Default: the notebook's path, as tracking names a notebook's experiment."""
    name: str | None = None
    sweep_metric: str | None = None
    sweep_goal: SweepGoal = SweepGoal.MAX
    concurrency: int | None = None
    """At most this many executions of a sweep at once (default: the number of cores)."""
    idempotency_key: str | None = None
    """A second submit with the same key returns the first one's executions."""


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    notebook: str
    parameters: dict[str, Any]
    """Masked: a credential-looking name's value is ``***``."""
    kernel_name: str
    timeout: float | None
    retries: int
    retry_backoff: float
    experiment: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class CellError:
    """Where and how an attempt failed, as papermill's ``PapermillExecutionError`` says."""

    cell_index: int | None
    """The index in the notebook as submitted (papermill's injected cell not counted)."""
    name: str
    message: str

    def line(self, first_line_only: bool = False) -> str:
        """``cell 4: ValueError: alpha must be positive``, cells counted from 1 as a user
        counts them (the cell only when it is known)."""
        where = f"cell {self.cell_index + 1}: " if self.cell_index is not None else ""
        message = self.message.strip().splitlines()[:1] if first_line_only else [self.message]
        return f"{where}{self.name}: {message[0]}" if message else f"{where}{self.name}"


@dataclass(frozen=True)
class Attempt:
    number: int
    state: ExecutionState
    run_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    error: CellError | None = None


@dataclass(frozen=True)
class Execution:
    """One run of a job: its state, progress and where its results are."""

    id: str
    job_id: str
    job_name: str
    notebook: str
    parameters: dict[str, Any]
    """The values this execution runs with, masked."""
    kernel_name: str
    state: ExecutionState
    created_at: datetime
    created_by: str
    experiment_id: str | None = None
    run_id: str | None = None
    """The MLflow run of the current (or last) attempt."""
    sweep_id: str | None = None
    schedule_id: str | None = None
    slot_at: datetime | None = None
    """The slot of ``schedule_id`` this execution fired for."""
    attempt: int = 1
    max_attempts: int = 1
    cells_done: int = 0
    cells_total: int = 0
    current_cell: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: CellError | None = None
    output_path: str | None = None
    """The masked output notebook, relative to the root (under ``.mlops/outputs/``)."""
    cancel_requested: bool = False
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class Sweep:
    id: str
    job_id: str
    run_id: str | None
    """The parent MLflow run of the sweep's executions."""
    grid: dict[str, list[Any]]
    metric: str | None
    goal: SweepGoal
    concurrency: int
    state: ExecutionState
    execution_ids: list[str]
    created_at: datetime
    finished_at: datetime | None = None
    best_execution_id: str | None = None
    best_value: float | None = None


@dataclass(frozen=True)
class Submission:
    """What a submit returns: the executions it queued, and their sweep when it is one."""

    executions: list[Execution]
    sweep: Sweep | None = None
    reused: bool = False
    """True when the idempotency key matched an earlier submit (nothing new was queued)."""


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Execution]
    next_page_token: str | None = None


@dataclass(frozen=True)
class ExecutionLog:
    """A slice of an execution's output log, for ``tail -f`` style reading."""

    execution_id: str
    text: str
    offset: int
    next_offset: int
    complete: bool
    """True once the execution finished: nothing more will be appended."""


class ConcurrencyPolicy(StrEnum):
    """What a slot does while the schedule's earlier executions still run."""

    SKIP = "skip"
    """The slot is recorded as skipped when ``max_active`` executions are queued or running."""
    QUEUE = "queue"
    """The slot's execution is queued and starts once fewer than ``max_active`` run."""


class CatchUp(StrEnum):
    """Which slots fire after a downtime (no scheduler was running at their time)."""

    NONE = "none"
    LAST = "last"
    ALL = "all"
    """Every missed slot, the most recent ``catch-up-limit`` of them."""


class ScheduleState(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"
    """Its end date passed: no slot will fire again."""


class SlotOutcome(StrEnum):
    FIRED = "fired"
    SKIPPED = "skipped"
    """The concurrency policy said so: earlier executions still ran."""
    MISSED = "missed"
    """No scheduler ran at its time, and the catch-up policy did not fire it."""


@dataclass(frozen=True)
class ScheduleRequest:
    """Create a schedule: run ``notebook`` with ``parameters`` at every ``cron`` slot."""

    notebook: str
    cron: str
    timezone: str | None = None
    """An IANA name (``Europe/Paris``); default: this machine's time zone."""
    parameters: dict[str, Any] = field(default_factory=dict)
    kernel_name: str | None = None
    timeout: float | None = None
    retries: int = 0
    retry_backoff: float = 10.0
    experiment: str | None = None
    name: str | None = None
    concurrency: ConcurrencyPolicy = ConcurrencyPolicy.SKIP
    max_active: int = 1
    """At most this many executions of the schedule queued or running (skip) or running
    (queue) at once."""
    catch_up: CatchUp = CatchUp.LAST
    end_at: datetime | None = None
    """No slot after this moment fires; a naive value is read in ``timezone``."""


@dataclass(frozen=True)
class CronPreview:
    """What a cron expression means, for a form that checks it as the user types."""

    cron: str
    timezone: str
    description: str
    """In words: ``At 02:30 AM, only on Monday``."""
    next_fire_times: list[datetime]
    """The next three slots (UTC: a face shows them in its reader's zone)."""


@dataclass(frozen=True)
class Slot:
    """One claimed slot of a schedule: what happened at its time."""

    slot_at: datetime
    outcome: SlotOutcome
    fired_at: datetime
    execution_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    job_id: str
    notebook: str
    parameters: dict[str, Any]
    """Masked, as a job's are."""
    kernel_name: str
    experiment: str
    timeout: float | None
    retries: int
    cron: str
    timezone: str
    description: str
    state: ScheduleState
    concurrency: ConcurrencyPolicy
    max_active: int
    catch_up: CatchUp
    created_at: datetime
    created_by: str
    end_at: datetime | None = None
    next_fire_times: list[datetime] = field(default_factory=list)
    """The next three slots (UTC); empty when paused or ended."""
    last_slot: Slot | None = None
    last_execution: Execution | None = None
    problem: str | None = None
    """Why the next slot would fail (its notebook no longer exists), for a flag."""


@dataclass(frozen=True)
class SchedulingStatus:
    """Whether a project's schedules will fire: for ``info``, which warns when none would."""

    active: int
    paused: int
    schedulers: int
    """Schedulers that beat within ``heartbeat-timeout`` (in Jupyter servers or standalone)."""
