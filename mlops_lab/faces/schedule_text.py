"""How the text faces (``%mlops`` and ``mlops-lab``) tell a schedule, its slots and its table.

A schedule's times are shown in the schedule's own zone, with the zone's abbreviation,
because that is the zone its cron expression is read in: ``0 3 * * *`` in
``Europe/Paris`` reads "03:00 CET", whatever the zone of the machine that prints it.
The magic and the CLI print the same lines; they do not import one another, so the
wording lives here, beside :mod:`mlops_lab.faces.execution_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from mlops_lab.core.jobs.entities import Execution, Schedule, SchedulingStatus, Slot, SlotOutcome
from mlops_lab.faces.execution_text import (
    duration_text,
    executions_table,
    json_ready,
    local_time,
    parameters_text,
    short_id,
)

if TYPE_CHECKING:
    import pandas as pd

FRAME_COLUMNS = (
    "id",
    "name",
    "notebook",
    "cron",
    "when",
    "zone",
    "state",
    "next_run",
    "last_result",
    "problem",
)

FIRES_WHEN = (
    "it fires while a scheduler runs for this project: JupyterLab with mlops-lab, "
    "or `mlops-lab scheduler`"
)
"""Said once a schedule is created: a schedule nobody runs a scheduler for never fires."""


def zoned_time(moment: datetime, timezone: str, now: datetime | None = None) -> str:
    """``Tue 2026-11-24 03:00 CET``, seconds only when the slot has some; with ``now``,
    how far ahead it is (``(in 8 h 12 min)``)."""
    local = moment.astimezone(ZoneInfo(timezone))
    clock = "%H:%M:%S" if local.second else "%H:%M"
    text = local.strftime(f"%a %Y-%m-%d {clock} %Z")
    if now is not None and moment > now:
        text += f" (in {ahead_text((moment - now).total_seconds())})"
    return text


def ahead_text(seconds: float) -> str:
    """``40 s``, ``12 min``, ``8 h 12 min``, ``6 days 6 h``: how long until a slot, as
    exact as is useful at that distance."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def when_text(schedule: Schedule) -> str:
    """``At 03:00, only on Monday (0 3 * * 1), Europe/Paris``: the words, the expression
    they were made from, and the zone they are read in."""
    words = schedule.description
    shown = words if words == schedule.cron else f"{words} ({schedule.cron})"
    return f"{shown}, {schedule.timezone}"


def last_result(schedule: Schedule) -> str:
    """What happened at its newest slot: the fired execution's state, or why the slot
    did not fire (skipped, missed); ``-`` before its first slot."""
    slot, execution = schedule.last_slot, schedule.last_execution
    if slot is not None and slot.outcome is not SlotOutcome.FIRED:
        return f"{slot.outcome.value} {zoned_time(slot.slot_at, schedule.timezone)}"
    if execution is not None:
        at = execution.slot_at or execution.created_at
        return f"{execution.state.value} {zoned_time(at, schedule.timezone)}"
    if slot is not None:
        return f"fired {zoned_time(slot.slot_at, schedule.timezone)}"
    return "-"


def schedule_lines(schedule: Schedule, now: datetime | None = None) -> list[str]:
    """What a create, ``show``, ``pause`` and ``resume`` print: what runs, when, how."""
    s = schedule
    moment = now or datetime.now(UTC)
    lines = [
        f"schedule   {s.id}" + (f" ({s.name})" if s.name else ""),
        f"notebook   {s.notebook}",
        f"parameters {parameters_text(s.parameters) or '-'}",
        f"runs       {when_text(s)}",
        f"state      {s.state.value}",
    ]
    upcoming = [zoned_time(t, s.timezone, moment) for t in s.next_fire_times]
    lines.append(f"next       {upcoming[0] if upcoming else '-'}")
    lines += [f"           {text}" for text in upcoming[1:]]
    lines += [
        f"policy     concurrency {s.concurrency.value}, at most {s.max_active} active, "
        f"catch-up {s.catch_up.value}",
        f"job        kernel {s.kernel_name}, timeout "
        f"{duration_text(s.timeout) if s.timeout else 'none'}, retries {s.retries}, "
        f"experiment {s.experiment}",
    ]
    if s.end_at is not None:
        lines.append(f"ends       {zoned_time(s.end_at, s.timezone)}")
    lines += [
        f"created    {local_time(s.created_at)} by {s.created_by}",
        f"last       {last_result(s)}",
    ]
    if s.problem:
        lines.append(f"problem    {s.problem}")
    return lines


def slot_line(slot: Slot, timezone: str) -> str:
    """``Tue 2026-11-24 03:00 CET  fired    execution 1a2b3c4d``, or the reason it did not."""
    what = f"execution {short_id(slot.execution_id)}" if slot.execution_id else ""
    if slot.reason:
        what = f"{what}: {slot.reason}" if what else slot.reason
    return f"{zoned_time(slot.slot_at, timezone)}  {slot.outcome.value:<7}  {what}".rstrip()


def show_lines(
    schedule: Schedule, slots: Sequence[Slot], executions: Sequence[Execution]
) -> list[str]:
    """``show``: the schedule, then its newest slots, then its newest executions."""
    lines = schedule_lines(schedule)
    lines.append("")
    if slots:
        lines.append(f"recent slots (newest first, {schedule.timezone}):")
        lines += [f"  {slot_line(slot, schedule.timezone)}" for slot in slots]
    else:
        lines.append("recent slots: none yet")
    lines.append("")
    if executions:
        lines.append("recent executions:")
        lines += [f"  {row}" for row in executions_table(executions).splitlines()]
    else:
        lines.append("recent executions: none yet")
    return lines


def paused_line(schedule: Schedule) -> str:
    """What ``pause`` and ``resume`` print: the new state and what it means next."""
    if schedule.next_fire_times:
        first = zoned_time(schedule.next_fire_times[0], schedule.timezone, datetime.now(UTC))
        nxt = f"next run {first}"
    elif schedule.state.value == "PAUSED":
        nxt = "no slot fires until it is resumed"
    else:
        nxt = "no slot left to fire"
    return f"schedule {schedule.id} {schedule.state.value}: {nxt}"


def schedule_record(schedule: Schedule) -> dict[str, Any]:
    """The schedule as JSON-ready data, field for field as REST returns it."""
    return json_ready(asdict(schedule))


def slot_record(slot: Slot) -> dict[str, Any]:
    return json_ready(asdict(slot))


def schedules_frame(schedules: Sequence[Schedule]) -> pd.DataFrame:
    """Every schedule as a table, newest first; ``problem`` is empty unless the next
    slot would fail (a notebook gone)."""
    import pandas as pd

    now = datetime.now(UTC)
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "notebook": s.notebook,
            "cron": s.cron,
            "when": s.description,
            "zone": s.timezone,
            "state": s.state.value,
            "next_run": zoned_time(s.next_fire_times[0], s.timezone, now)
            if s.next_fire_times
            else "-",
            "last_result": last_result(s),
            "problem": s.problem or "",
        }
        for s in schedules
    ]
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def scheduling_line(status: SchedulingStatus) -> str:
    """``info``'s line on schedules; it says so when they cannot fire (no scheduler runs)."""
    counts = f"schedules: {status.active} active, {status.paused} paused; "
    running = f"schedulers running: {status.schedulers}"
    if status.active and not status.schedulers:
        return (
            counts + running + " - no slot fires until one runs: open JupyterLab here, or "
            "run `mlops-lab scheduler`"
        )
    return counts + running
