"""The words the magic and the CLI share for a schedule: times in the schedule's zone
(daylight saving included), how far ahead, the last result, slots, and the table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from mlops_lab.core.jobs.entities import (
    CatchUp,
    ConcurrencyPolicy,
    Execution,
    ExecutionState,
    Schedule,
    ScheduleState,
    Slot,
    SlotOutcome,
)
from mlops_lab.faces.schedule_text import (
    ahead_text,
    last_result,
    paused_line,
    schedule_lines,
    schedules_frame,
    show_lines,
    slot_line,
    when_text,
    zoned_time,
)

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


def schedule(**changes: object) -> Schedule:
    base = Schedule(
        id="a1b2c3d4e5f6",
        name="nightly",
        job_id="j1",
        notebook="work/train.ipynb",
        parameters={"alpha": 0.5},
        kernel_name="python3",
        experiment="work/train.ipynb",
        timeout=600.0,
        retries=1,
        cron="0 3 * * *",
        timezone=PARIS,
        description="At 03:00",
        state=ScheduleState.ACTIVE,
        concurrency=ConcurrencyPolicy.SKIP,
        max_active=1,
        catch_up=CatchUp.LAST,
        created_at=NOW,
        created_by="ana",
        next_fire_times=[
            datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
        ],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def execution(state: ExecutionState, slot_at: datetime) -> Execution:
    return Execution(
        id="e1e2e3e4e5e6",
        job_id="j1",
        job_name="nightly",
        notebook="work/train.ipynb",
        parameters={},
        kernel_name="python3",
        state=state,
        created_at=slot_at,
        created_by="ana",
        schedule_id="a1b2c3d4e5f6",
        slot_at=slot_at,
    )


def test_times_read_in_the_schedules_zone_with_its_abbreviation_across_daylight_saving() -> None:
    winter = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert zoned_time(winter, PARIS) == "Tue 2026-11-24 03:00 CET"
    assert zoned_time(summer, PARIS) == "Wed 2026-07-01 03:00 CEST"
    assert zoned_time(winter, "America/New_York") == "Mon 2026-11-23 21:00 EST"
    assert zoned_time(winter.replace(second=5), "UTC") == "Tue 2026-11-24 02:00:05 UTC"
    assert zoned_time(winter, PARIS, NOW) == "Tue 2026-11-24 03:00 CET (in 8 h 00 min)"
    assert zoned_time(NOW, PARIS, NOW) == "Mon 2026-11-23 19:00 CET"  # not ahead: no "in"


def test_how_far_ahead_is_as_exact_as_useful() -> None:
    assert [ahead_text(s) for s in (9, 150, 3600 * 8 + 60 * 12, 3600 * 24 * 6 + 3600 * 6)] == [
        "9 s",
        "2 min",
        "8 h 12 min",
        "6 days 6 h",
    ]


def test_when_gives_the_words_the_expression_and_the_zone() -> None:
    assert when_text(schedule()) == "At 03:00 (0 3 * * *), Europe/Paris"
    # an expression the describer could not word is shown once, not twice
    assert when_text(schedule(description="0 3 * * *")) == "0 3 * * *, Europe/Paris"


def test_last_result_says_what_the_newest_slot_did() -> None:
    slot_at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert last_result(schedule()) == "-"
    fired = Slot(slot_at, SlotOutcome.FIRED, slot_at, execution_id="e1e2e3e4e5e6")
    done = execution(ExecutionState.FAILED, slot_at)
    assert (
        last_result(schedule(last_slot=fired, last_execution=done))
        == "FAILED Mon 2026-11-23 03:00 CET"
    )
    skipped = Slot(slot_at, SlotOutcome.SKIPPED, slot_at, reason="1 earlier execution")
    # a skipped slot after the last execution is newer news than that execution
    assert (
        last_result(schedule(last_slot=skipped, last_execution=done))
        == "skipped Mon 2026-11-23 03:00 CET"
    )


def test_a_slot_line_names_its_execution_or_why_it_did_not_fire() -> None:
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    fired = Slot(at, SlotOutcome.FIRED, at, execution_id="e1e2e3e4e5e6")
    missed = Slot(at, SlotOutcome.MISSED, at, reason="no scheduler ran at its time")
    assert slot_line(fired, PARIS) == "Mon 2026-11-23 03:00 CET  fired    execution e1e2e3e4"
    assert (
        slot_line(missed, PARIS)
        == "Mon 2026-11-23 03:00 CET  missed   no scheduler ran at its time"
    )


def test_schedule_lines_tell_what_runs_when_and_how() -> None:
    lines = schedule_lines(
        schedule(end_at=datetime(2027, 1, 1, tzinfo=UTC), problem="its notebook is gone"), NOW
    )
    assert lines[:5] == [
        "schedule   a1b2c3d4e5f6 (nightly)",
        "notebook   work/train.ipynb",
        "parameters alpha=0.5",
        "runs       At 03:00 (0 3 * * *), Europe/Paris",
        "state      ACTIVE",
    ]
    assert lines[5:8] == [
        "next       Tue 2026-11-24 03:00 CET (in 8 h 00 min)",
        "           Wed 2026-11-25 03:00 CET (in 32 h 00 min)",
        "           Thu 2026-11-26 03:00 CET (in 2 days 8 h)",
    ]
    assert "policy     concurrency skip, at most 1 active, catch-up last" in lines
    assert (
        "job        kernel python3, timeout 10 min 00 s, retries 1, experiment "
        "work/train.ipynb" in lines
    )
    assert "ends       Fri 2027-01-01 01:00 CET" in lines
    assert lines[-1] == "problem    its notebook is gone"
    paused = schedule_lines(schedule(state=ScheduleState.PAUSED, next_fire_times=[]), NOW)
    assert "next       -" in paused and not any(line.startswith("problem") for line in paused)


def test_pause_and_resume_lines_say_what_comes_next() -> None:
    paused = schedule(state=ScheduleState.PAUSED, next_fire_times=[])
    assert paused_line(paused) == "schedule a1b2c3d4e5f6 PAUSED: no slot fires until it is resumed"
    ended = schedule(state=ScheduleState.ENDED, next_fire_times=[])
    assert paused_line(ended).endswith("ENDED: no slot left to fire")
    assert paused_line(schedule()).startswith("schedule a1b2c3d4e5f6 ACTIVE: next run ")


def test_show_lists_slots_then_executions_or_says_there_are_none() -> None:
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    empty = show_lines(schedule(), [], [])
    assert empty[-3:] == ["recent slots: none yet", "", "recent executions: none yet"]
    slot = Slot(at, SlotOutcome.FIRED, at, execution_id="e1e2e3e4e5e6")
    full = show_lines(schedule(), [slot], [execution(ExecutionState.SUCCEEDED, at)])
    start = full.index("recent slots (newest first, Europe/Paris):")
    assert full[start + 1] == f"  {slot_line(slot, PARIS)}"
    assert full[start + 3] == "recent executions:"
    assert full[start + 5].split()[:3] == ["e1e2e3e4", "work/train.ipynb", "SUCCEEDED"]


def test_the_table_has_a_row_a_schedule_and_the_problem_text_as_its_flag() -> None:
    frame = schedules_frame([schedule(), schedule(id="f" * 12, problem="gone", next_fire_times=[])])
    assert list(frame.columns) == [
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
    ]
    first, second = frame.to_dict("records")
    assert (first["when"], first["zone"], first["problem"]) == ("At 03:00", PARIS, "")
    assert first["next_run"].startswith("Tue 2026-11-24 03:00 CET")
    assert (second["next_run"], second["problem"]) == ("-", "gone")
