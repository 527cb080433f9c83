"""Schedules in the core: checked creation, slots claimed once, catch-up, concurrency and
daylight-saving days (a real SQLite store; the scheduler is driven with chosen moments,
and queues without starting a runner so what it queued stays to be read)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs import api, schedules
from mlops_lab.core.jobs.entities import (
    CatchUp,
    ConcurrencyPolicy,
    ExecutionState,
    ScheduleRequest,
    ScheduleState,
    SlotOutcome,
)
from mlops_lab.core.jobs.schedule_store import ScheduleStore
from mlops_lab.core.jobs.scheduler import Scheduler
from mlops_lab.core.store import LabStore
from mlops_lab.core.store.schema import ExecutionRow, JobRow, ScheduleRow, SlotRow
from tests.faces.job_notebooks import adds

NEW_YORK = "America/New_York"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    adds(tmp_path)
    return resolve_settings(tmp_path, environ={})


def create(settings: Settings, cron: str = "0 2 * * *", **options: object) -> str:
    request = ScheduleRequest(notebook="work/adds.ipynb", cron=cron, **options)  # type: ignore[arg-type]
    return schedules.create_schedule(settings, request, actor="ana").id


def scheduler(settings: Settings) -> Scheduler:
    return Scheduler(settings, schedules.schedule_store(settings), runs_jobs=False)


def since(settings: Settings, schedule_id: str, moment: datetime) -> None:
    """Pretend the schedule was created at ``moment`` (to test slots before now)."""
    with schedules.schedule_store(settings).store.transaction() as session:
        row = session.get(ScheduleRow, schedule_id)
        assert row is not None
        row.active_since = moment


def slots(settings: Settings, schedule_id: str) -> list[tuple[datetime, str]]:
    found = schedules.schedule_slots(settings, schedule_id, limit=1000)
    return sorted((s.slot_at, s.outcome.value) for s in found)


def count(settings: Settings, table: type) -> int:
    with schedules.schedule_store(settings).store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# -- creating -------------------------------------------------------------------------------


def test_a_schedule_shows_its_cron_in_words_and_next_three_fire_times(settings: Settings) -> None:
    schedule = schedules.get_schedule(
        settings, create(settings, "30 2 * * 1", timezone="Europe/Paris", name="weekly")
    )
    assert schedule.name == "weekly" and schedule.state is ScheduleState.ACTIVE
    assert schedule.description == "At 02:30, only on Monday"
    assert len(schedule.next_fire_times) == 3
    for moment in schedule.next_fire_times:
        local = moment.astimezone(ZoneInfo("Europe/Paris"))
        assert (local.weekday(), local.hour, local.minute) == (0, 2, 30)
    assert schedule.concurrency is ConcurrencyPolicy.SKIP and schedule.catch_up is CatchUp.LAST
    assert schedule.problem is None and schedule.last_execution is None


@pytest.mark.parametrize(
    ("cron", "timezone", "words"),
    [
        ("61 * * * *", "UTC", "the minute field '61'"),
        ("* 25 * * *", "UTC", "the hour field '25'"),
        ("* * * * MOO", "UTC", "the day of week field 'MOO'"),
        ("* * *", "UTC", "has 3 field(s)"),
        ("0 0 31 2 *", "UTC", "never fires"),
        ("0 2 * * *", "Mars/Olympus", "Unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_schedule_is_refused_whole(
    settings: Settings, cron: str, timezone: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        create(settings, cron, timezone=timezone)
    assert words in str(caught.value)
    assert count(settings, ScheduleRow) == 0 and count(settings, JobRow) == 0


def test_an_end_date_in_the_past_a_missing_notebook_and_a_bad_value_write_nothing(
    settings: Settings,
) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    with pytest.raises(InvalidInput, match="is in the past"):
        create(settings, end_at=past)
    with pytest.raises(NotFound):
        schedules.create_schedule(
            settings, ScheduleRequest(notebook="gone.ipynb", cron="* * * * *")
        )
    with pytest.raises(InvalidInput, match="alpha"):
        create(settings, parameters={"alpha": "not a number"})
    with pytest.raises(InvalidInput, match="max_active"):
        create(settings, max_active=0)
    assert count(settings, ScheduleRow) == 0 and count(settings, JobRow) == 0


def test_a_text_create_reads_values_as_declared_and_refuses_a_sweep(settings: Settings) -> None:
    made = schedules.create_schedule_text(
        settings,
        "work/adds.ipynb",
        {"alpha": "2"},
        cron="@daily",
        timezone="UTC",
        concurrency="queue",
        catch_up="all",
    )
    assert made.parameters == {"alpha": 2.0} and made.description == "At 00:00"
    assert made.concurrency is ConcurrencyPolicy.QUEUE and made.catch_up is CatchUp.ALL
    with pytest.raises(InvalidInput, match="a schedule runs one execution a slot"):
        schedules.create_schedule_text(settings, "work/adds.ipynb", {"alpha": "1,2"}, cron="@daily")
    with pytest.raises(InvalidInput, match="catch_up must be one of 'none', 'last', 'all'"):
        schedules.create_schedule_text(settings, "work/adds.ipynb", {}, cron="@daily", catch_up="x")


# -- firing ---------------------------------------------------------------------------------


def test_a_due_slot_queues_one_execution_tagged_with_its_schedule_and_slot(
    settings: Settings,
) -> None:
    schedule_id = create(settings, "0 2 * * *", timezone="UTC", parameters={"alpha": 3.0})
    since(settings, schedule_id, datetime(2026, 1, 1, 1, 0, tzinfo=UTC))
    slot = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    upcoming = scheduler(settings).fire_due(slot + timedelta(seconds=0.3))
    assert upcoming == datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    [execution] = api.list_executions(settings, schedule_id=schedule_id).executions
    assert execution.state is ExecutionState.QUEUED and execution.slot_at == slot
    assert execution.parameters == {"alpha": 3.0}
    assert slots(settings, schedule_id) == [(slot, "fired")]
    # The same moment again (a second scheduler, a restart): nothing fires twice.
    scheduler(settings).fire_due(slot + timedelta(seconds=0.5))
    assert len(api.list_executions(settings, schedule_id=schedule_id).executions) == 1
    shown = schedules.get_schedule(settings, schedule_id)
    assert shown.last_execution is not None and shown.last_execution.id == execution.id
    assert shown.last_slot is not None and shown.last_slot.outcome is SlotOutcome.FIRED


def test_racing_schedulers_on_two_engines_claim_each_slot_once(settings: Settings) -> None:
    schedule_id = create(
        settings, "* * * * * *", timezone="UTC", max_active=100, concurrency="queue"
    )  # type: ignore[arg-type]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    since(settings, schedule_id, start)
    racers = [
        Scheduler(settings, ScheduleStore(LabStore(settings.store_url)), runs_jobs=False)
        for _ in range(4)
    ]
    barrier = threading.Barrier(len(racers))
    moments = [start + timedelta(seconds=s, milliseconds=200) for s in range(1, 21)]

    def race(each: Scheduler) -> None:
        for moment in moments:
            barrier.wait()
            each.fire_due(moment)

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.fired for r in racers) == 20  # one claim won per slot
    claimed = slots(settings, schedule_id)
    assert [s for s, _ in claimed] == [start + timedelta(seconds=s) for s in range(1, 21)]
    with schedules.schedule_store(settings).store.transaction() as session:
        per_slot = session.execute(
            select(ExecutionRow.slot_at, func.count()).group_by(ExecutionRow.slot_at)
        ).all()
    assert len(per_slot) == 20 and {n for _, n in per_slot} == {1}


@pytest.mark.parametrize(
    ("catch_up", "fired", "missed"),
    [("none", [], [3]), ("last", [3], []), ("all", [1, 2, 3], [])],
)
def test_after_a_downtime_catch_up_decides_which_missed_slots_fire(
    settings: Settings, catch_up: str, fired: list[int], missed: list[int]
) -> None:
    schedule_id = create(
        settings,
        "0 2 * * *",
        timezone="UTC",
        catch_up=CatchUp(catch_up),
        concurrency=ConcurrencyPolicy.QUEUE,
        max_active=10,
    )
    since(settings, schedule_id, datetime(2026, 1, 1, tzinfo=UTC))
    back = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)  # down from before Jan 1st 02:00 until now
    scheduler(settings).fire_due(back)
    day = {d: datetime(2026, 1, d, 2, 0, tzinfo=UTC) for d in (1, 2, 3)}
    expected = sorted([(day[d], "fired") for d in fired] + [(day[d], "missed") for d in missed])
    assert slots(settings, schedule_id) == expected
    # Once caught up, the next slot is the only one due.
    scheduler(settings).fire_due(datetime(2026, 1, 4, 2, 0, 1, tzinfo=UTC))
    assert slots(settings, schedule_id)[-1] == (datetime(2026, 1, 4, 2, 0, tzinfo=UTC), "fired")


def test_catch_up_all_is_bounded_by_the_setting(tmp_path: Path) -> None:
    adds(tmp_path)
    settings = resolve_settings(tmp_path, environ={"MLOPS_LAB_CATCH_UP_LIMIT": "4"})
    schedule_id = create(
        settings, "0 * * * *", timezone="UTC", catch_up=CatchUp.ALL, max_active=100
    )
    since(settings, schedule_id, datetime(2026, 1, 1, tzinfo=UTC))
    scheduler(settings).fire_due(datetime(2026, 1, 2, 0, 30, tzinfo=UTC))  # 24 slots missed
    assert [s.hour for s, _ in slots(settings, schedule_id)] == [21, 22, 23, 0]


def test_a_late_scheduler_fires_every_on_time_slot_whatever_the_catch_up(
    settings: Settings,
) -> None:
    schedule_id = create(
        settings,
        "* * * * * *",
        timezone="UTC",
        catch_up=CatchUp.NONE,
        concurrency=ConcurrencyPolicy.QUEUE,
        max_active=100,
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    since(settings, schedule_id, start)
    scheduler(settings).fire_due(start + timedelta(seconds=5.5))  # 5 s late: on time still
    assert [o for _, o in slots(settings, schedule_id)] == ["fired"] * 5


def test_concurrency_skip_records_the_slot_and_queue_waits_for_room(settings: Settings) -> None:
    skipping = create(settings, "0 * * * *", timezone="UTC", name="skip")
    queueing = create(
        settings, "0 * * * *", timezone="UTC", name="queue", concurrency=ConcurrencyPolicy.QUEUE
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for schedule_id in (skipping, queueing):
        since(settings, schedule_id, start)
    sched = scheduler(settings)
    for hour in (1, 2):
        sched.fire_due(start + timedelta(hours=hour, seconds=1))
    assert [o for _, o in slots(settings, skipping)] == ["fired", "skipped"]
    [reason] = [s.reason for s in schedules.schedule_slots(settings, skipping) if s.reason]
    assert "concurrency 'skip', max_active 1" in reason
    assert [o for _, o in slots(settings, queueing)] == ["fired", "fired"]
    # A runner may start only one of the queueing schedule's two executions at once.
    store = api.job_store(settings)
    claimed = store.claim("test-runner", 10)
    by_schedule = sorted(c.execution.schedule_id or "" for c in claimed)
    assert by_schedule == sorted([skipping, queueing])


def test_a_paused_schedule_does_not_fire_and_resuming_does_not_catch_up_the_pause(
    settings: Settings,
) -> None:
    schedule_id = create(settings, "* * * * *", timezone="UTC")
    paused = schedules.pause_schedule(settings, schedule_id[:6])
    assert paused.state is ScheduleState.PAUSED and paused.next_fire_times == []
    scheduler(settings).fire_due(datetime.now(UTC) + timedelta(minutes=3))
    assert slots(settings, schedule_id) == []
    resumed = schedules.resume_schedule(settings, schedule_id)
    assert resumed.state is ScheduleState.ACTIVE and len(resumed.next_fire_times) == 3
    scheduler(settings).fire_due(datetime.now(UTC))
    assert slots(settings, schedule_id) == []  # the minutes while paused were not wanted


def test_a_deleted_schedule_stops_firing_and_its_executions_stay(settings: Settings) -> None:
    schedule_id = create(settings, "0 * * * *", timezone="UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    since(settings, schedule_id, start)
    scheduler(settings).fire_due(start + timedelta(hours=1, seconds=1))
    schedules.delete_schedule(settings, schedule_id)
    scheduler(settings).fire_due(start + timedelta(hours=2, seconds=1))
    assert schedules.schedule_store(settings).slots(schedule_id) != []
    assert count(settings, SlotRow) == 1
    [execution] = api.list_executions(settings, schedule_id=schedule_id).executions
    assert execution.schedule_id == schedule_id
    with pytest.raises(NotFound, match="No schedule"):
        schedules.get_schedule(settings, schedule_id)
    assert schedules.list_schedules(settings) == []
    with schedules.schedule_store(settings).store.transaction() as session:
        row = session.get(ScheduleRow, schedule_id)
        assert row is not None and row.values is None  # values in clear erased


def test_an_end_date_stops_the_slots_after_it(settings: Settings) -> None:
    end = datetime.now(UTC) + timedelta(hours=2)
    schedule_id = create(settings, "*/30 * * * *", timezone="UTC", end_at=end)
    shown = schedules.get_schedule(settings, schedule_id)
    assert all(t <= end for t in shown.next_fire_times) and len(shown.next_fire_times) == 3
    scheduler(settings).fire_due(end + timedelta(days=1))
    assert [s for s, _ in slots(settings, schedule_id)] == [
        max(s for s in _half_hours(datetime.now(UTC), end))
    ]  # catch-up last: the newest slot before the end date, and nothing after it


def _half_hours(start: datetime, end: datetime) -> list[datetime]:
    moment = start.replace(second=0, microsecond=0, minute=(start.minute // 30) * 30)
    found = []
    while moment <= end:
        if moment > start:
            found.append(moment)
        moment += timedelta(minutes=30)
    return found


def test_a_slot_whose_notebook_is_gone_fails_at_once_and_flags_the_schedule(
    settings: Settings,
) -> None:
    schedule_id = create(settings, "0 * * * *", timezone="UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    since(settings, schedule_id, start)
    (settings.root / "work/adds.ipynb").unlink()
    assert "work/adds.ipynb no longer exists" in (
        schedules.get_schedule(settings, schedule_id).problem or ""
    )
    scheduler(settings).fire_due(start + timedelta(hours=1, seconds=1))
    [execution] = api.list_executions(settings, schedule_id=schedule_id).executions
    assert execution.state is ExecutionState.FAILED and execution.error is not None
    assert execution.error.name == "NotebookNotFound"
    assert "work/adds.ipynb no longer exists" in execution.error.message


# -- daylight saving ------------------------------------------------------------------------


def test_on_the_autumn_dst_day_a_repeated_local_time_fires_twice_once_each(
    settings: Settings,
) -> None:
    """2026-11-01 in New York: 01:30 happens at 05:30 and at 06:30 UTC (croniter fires both)."""
    schedule_id = create(
        settings, "30 1 * * *", timezone=NEW_YORK, concurrency=ConcurrencyPolicy.QUEUE
    )
    since(settings, schedule_id, datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    sched = scheduler(settings)
    for hour in (5, 6, 7):
        for _ in range(2):  # each moment twice: a second look finds nothing new
            sched.fire_due(datetime(2026, 11, 1, hour, 30, 1, tzinfo=UTC))
    assert slots(settings, schedule_id) == [
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "fired"),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "fired"),
    ]


def test_on_the_spring_dst_day_a_skipped_local_time_fires_once_after_the_gap(
    settings: Settings,
) -> None:
    """2026-03-08 in New York: 02:30 does not exist; croniter fires at 03:00 EDT (07:00 UTC)."""
    schedule_id = create(settings, "30 2 * * *", timezone=NEW_YORK)
    since(settings, schedule_id, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    sched = scheduler(settings)
    upcoming = sched.fire_due(datetime(2026, 3, 8, 6, 0, tzinfo=UTC))
    assert upcoming == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    sched.fire_due(datetime(2026, 3, 8, 7, 0, 0, 300000, tzinfo=UTC))
    upcoming = sched.fire_due(datetime(2026, 3, 8, 7, 0, 1, tzinfo=UTC))
    assert slots(settings, schedule_id) == [(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "fired")]
    assert upcoming == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)  # 02:30 EDT the next day


def test_slot_rows_are_unique_per_schedule_and_time_in_the_schema(settings: Settings) -> None:
    schedule_id = create(settings)
    store = schedules.schedule_store(settings)
    moment = datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert store.claim_slot(schedule_id, moment, "a", missed="test") is not None
    assert store.claim_slot(schedule_id, moment, "b", missed="test") is None
    assert count(settings, SlotRow) == 1
