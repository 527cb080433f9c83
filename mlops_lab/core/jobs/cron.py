"""Cron expressions in a time zone: checked, described, and turned into slots.

croniter computes every slot, so daylight-saving days behave as croniter makes them: a
local time skipped in spring fires at the first valid time after it, and one that
happens twice in autumn fires twice (two distinct UTC instants). Slots are compared and
stored in UTC; a user reads them in the schedule's zone.

Five fields (minute hour day month weekday) as in crontab, the ``@daily`` style
shorthands, or six with the seconds first (``*/5 * * * * *``, as Quartz writes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from mlops_lab.core.errors import InvalidInput

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
SECONDS_FIELDS = ("second", *FIELDS)
SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
PREVIEW_COUNT = 3
_PROBE = datetime(2026, 1, 1, tzinfo=UTC)
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cron:
    """A checked expression and its zone: the slots after (or up to) a moment."""

    expression: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _iterator(self, start: datetime) -> croniter:
        expanded = SHORTHANDS.get(self.expression, self.expression)
        return croniter(
            expanded,
            start.astimezone(self.zone),
            second_at_beginning=len(expanded.split()) == 6,
        )

    def next_after(self, moment: datetime, count: int = 1) -> list[datetime]:
        """The ``count`` slots strictly after ``moment``, in UTC (as they are stored: a
        database column keeps the wall time, not the offset)."""
        iterator = self._iterator(moment)
        slots: list[datetime] = []
        try:
            for _ in range(count):
                slots.append(iterator.get_next(datetime).astimezone(UTC))
        except CroniterBadDateError:  # `31 2` (February 31st): no slot, ever
            pass
        return slots

    def back_from(self, moment: datetime) -> Iterator[datetime]:
        """The slots at or before ``moment``, newest first, in UTC, as long as one asks."""
        iterator = self._iterator(moment.replace(microsecond=0) + _EPSILON)
        while True:
            try:
                yield iterator.get_prev(datetime).astimezone(UTC)
            except CroniterBadDateError:
                return

    @property
    def description(self) -> str:
        return describe(self.expression)


def parse_cron(expression: str, timezone: str) -> Cron:
    """A :class:`Cron`, or :class:`InvalidInput` naming the field that is wrong."""
    text = " ".join((expression or "").split())
    if not text:
        raise InvalidInput(
            "The cron expression is empty: give five fields (minute hour day month "
            "weekday), e.g. '0 2 * * *' for 02:00 every day.",
            param="cron",
        )
    check_timezone(timezone)
    expanded = SHORTHANDS.get(text.lower(), text)
    if text.lower() in SHORTHANDS:
        text = text.lower()
    fields = expanded.split()
    if len(fields) not in (5, 6):
        raise InvalidInput(
            f"Invalid cron '{text}': it has {len(fields)} field(s); give five (minute hour "
            "day month weekday) or six with the seconds first.",
            param="cron",
        )
    names = FIELDS if len(fields) == 5 else SECONDS_FIELDS
    try:
        _first_slot(expanded)
    except CroniterBadDateError:
        raise InvalidInput(
            f"Invalid cron '{text}': it never fires (no date matches its day and month).",
            param="cron",
        ) from None
    except (CroniterError, ValueError) as exc:
        field = _bad_field(fields, names)
        where = f" the {field[0]} field '{field[1]}' is wrong:" if field else ""
        raise InvalidInput(f"Invalid cron '{text}':{where} {exc}.", param="cron") from None
    return Cron(text, timezone)


def _first_slot(expanded: str) -> datetime:
    seconds = len(expanded.split()) == 6
    iterator = croniter(expanded, _PROBE, second_at_beginning=seconds)
    return iterator.get_next(datetime)


def _bad_field(fields: list[str], names: tuple[str, ...]) -> tuple[str, str] | None:
    """Which field croniter refuses: each one alone, every other one ``*``."""
    for index, (name, value) in enumerate(zip(names, fields, strict=True)):
        alone = ["*"] * len(fields)
        alone[index] = value
        if len(fields) == 6 and index != 0:
            alone[0] = "0"
        try:
            _first_slot(" ".join(alone))
        except CroniterBadDateError:
            continue
        except (CroniterError, ValueError):
            return name, value
    return None


def check_timezone(name: str) -> ZoneInfo:
    """The zone named ``name`` (IANA: ``Europe/Paris``), or a clear :class:`InvalidInput`."""
    if not name or not name.strip():
        raise InvalidInput(
            "The time zone is empty: give an IANA name such as 'Europe/Paris' or 'UTC'.",
            param="timezone",
        )
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone '{name}': give an IANA name such as 'Europe/Paris', "
            "'America/New_York' or 'UTC'.",
            param="timezone",
        ) from None


def local_timezone() -> str:
    """This machine's IANA zone name, the default of a schedule created here."""
    import tzlocal

    try:
        name: str = tzlocal.get_localzone_name()
    except Exception:  # an odd /etc/localtime: UTC is an honest default
        return "UTC"
    return name or "UTC"


def describe(expression: str) -> str:
    """The expression in words (cron-descriptor), e.g. ``At 02:30 AM, only on Monday``."""
    from cron_descriptor import Options, get_description

    expanded = SHORTHANDS.get(expression.lower(), expression)
    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(get_description(expanded, options))
    except Exception:  # a form of cron croniter accepts and the describer does not know
        return expression
