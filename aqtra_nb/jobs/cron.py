"""Cron schedules in a time zone, with due times that are right across daylight-saving changes.

croniter alone, iterating in an aware time zone, fires a daily `30 2 * * *` twice on the night the
clocks go back. Here cron fields are matched against local wall-clock time and then placed on the time
line the way people expect (and Vixie cron does):

- a wall time that does not exist (the hour skipped in spring) runs shifted forward by the gap
  (02:30 becomes 03:30 CEST), once;
- a wall time that occurs twice (the hour repeated in autumn) runs once, at its first occurrence, unless
  the hour field is a wildcard (`*`, `*/2`): such a schedule is an interval and runs in both hours.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from ..errors import AqtraError

UTC = dt.UTC
_SETTLE = dt.timedelta(hours=3)  # more than any DST shift: instants are final this far behind


class ScheduleError(AqtraError):
    """A cron expression or time zone is not valid."""


class CronSchedule:
    """A cron expression (5 fields, or 6 with seconds last) evaluated in `timezone`."""

    def __init__(self, expression: str, timezone: str = "UTC") -> None:
        self.expression = " ".join(str(expression).split())
        fields = self.expression.split(" ")
        if len(fields) not in (5, 6):
            raise ScheduleError(
                f"not a valid cron expression: {expression!r} has {len(fields)} field(s); expected 5: "
                "minute hour day month weekday, e.g. '0 6 * * 1-5' (a 6th field is seconds)",
                field="cron",
            )
        if not croniter.is_valid(self.expression):
            raise ScheduleError(
                f"not a valid cron expression: {expression!r}: {_field_problem(fields)}", field="cron"
            )
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"unknown time zone {timezone!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')",
                field="timezone",
            ) from None
        self.timezone = timezone
        self._interval_hours = "*" in fields[1]
        try:  # an expression that can never fire (`0 0 30 2 *`) is an error now, not a hang later
            croniter(self.expression, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
        except (CroniterBadDateError, CroniterBadCronError, CroniterError) as exc:
            raise ScheduleError(f"cron expression {expression!r} never fires: {exc}", field="cron") from None

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r}, {self.timezone!r})"

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first due time strictly after `moment` (UTC)."""
        return next(self.iter_after(moment))

    def between(self, after: dt.datetime, until: dt.datetime, limit: int | None = None) -> list[dt.datetime]:
        """Due times in (after, until], ascending, in UTC; at most the last `limit` of them."""
        found: list[dt.datetime] = []
        for instant in self.iter_after(after):
            if instant > until:
                break
            found.append(instant)
            if limit is not None and len(found) > limit:
                found.pop(0)
        return found

    def last_at_or_before(self, moment: dt.datetime) -> dt.datetime | None:
        """The latest due time at or before `moment` (UTC); None if there is none within a year."""
        moment = _aware(moment)
        wall = moment.astimezone(self.tz).replace(tzinfo=None) + _SETTLE
        cursor = croniter(self.expression, wall)
        best: dt.datetime | None = None
        floor = wall - dt.timedelta(days=366)
        while wall > floor:
            wall = cursor.get_prev(dt.datetime)
            for instant in self._instants(wall):
                if instant <= moment and (best is None or instant > best):
                    best = instant
            if best is not None and wall < best.astimezone(self.tz).replace(tzinfo=None) - 2 * _SETTLE:
                break
        return best

    def iter_after(self, moment: dt.datetime) -> Iterator[dt.datetime]:
        """Due times strictly after `moment`, ascending, in UTC."""
        moment = _aware(moment)
        start = moment.astimezone(self.tz).replace(tzinfo=None)
        cursor = croniter(self.expression, start - self._settle(start))
        pending: list[dt.datetime] = []
        last: dt.datetime | None = None
        while True:
            wall = cursor.get_next(dt.datetime)
            for instant in self._instants(wall):
                if instant > moment:
                    heapq.heappush(pending, instant)
            settle = self._settle(wall)
            while pending and pending[0].astimezone(self.tz).replace(tzinfo=None) < wall - settle:
                instant = heapq.heappop(pending)
                if instant != last:
                    last = instant
                    yield instant

    def _settle(self, wall: dt.datetime) -> dt.timedelta:
        """How far behind the cron iteration an instant is final: a few hours near a change of UTC
        offset (where wall-clock order and time order differ), nothing elsewhere."""
        before = (wall - 2 * _SETTLE).replace(tzinfo=self.tz).utcoffset()
        after = (wall + 2 * _SETTLE).replace(tzinfo=self.tz).utcoffset()
        return _SETTLE if before != after else dt.timedelta(0)

    def _instants(self, wall: dt.datetime) -> list[dt.datetime]:
        first = wall.replace(tzinfo=self.tz, fold=0)
        second = wall.replace(tzinfo=self.tz, fold=1)
        if first.utcoffset() == second.utcoffset():
            return [first.astimezone(UTC)]
        if _exists(first):  # the repeated hour: both folds are real
            if self._interval_hours:
                return [first.astimezone(UTC), second.astimezone(UTC)]
            return [first.astimezone(UTC)]
        # the skipped hour: fold=0 takes the offset before the change, i.e. shifted forward by the gap
        return [first.astimezone(UTC)]


# name, smallest, largest, what the field may also hold (names)
_FIELDS = [
    ("minute", 0, 59, ""),
    ("hour", 0, 23, ""),
    ("day of the month", 1, 31, ""),
    ("month", 1, 12, " or jan-dec"),
    ("weekday", 0, 7, " or sun-sat (0 and 7 are Sunday)"),
    ("second", 0, 59, ""),
]
_NUMBER = re.compile(r"\d+")


def _field_problem(fields: list[str]) -> str:
    """Which field of a cron expression is wrong and what it allows (croniter only says 'invalid')."""
    for index, (text, (name, low, high, names)) in enumerate(zip(fields, _FIELDS, strict=False)):
        allowed = f"the {name} is {low}-{high}{names}; or '*', a list (1,15), a range (1-5), a step (*/10)"
        for part in text.split(","):
            spread, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"the {name} field {text!r} has the step {step!r}; a step is a whole number from 1"
            for number in _NUMBER.findall(spread):
                if not low <= int(number) <= high:
                    return f"the {name} field {text!r} has {number}, out of range: {allowed}"
        alone = ["*"] * max(5, index + 1)
        alone[index] = text
        if not croniter.is_valid(" ".join(alone)):
            return f"the {name} field {text!r} is not valid: {allowed}"
    return "expected 5 fields: minute hour day month weekday, e.g. '0 6 * * 1-5' (a 6th field is seconds)"


def _exists(local: dt.datetime) -> bool:
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upcoming(
    cron: str, timezone: str = "UTC", count: int = 1, after: dt.datetime | None = None
) -> list[dt.datetime]:
    """The next `count` due times of a schedule after `after` (default: now), in the schedule's zone."""
    schedule = CronSchedule(cron, timezone)
    moments, moment = [], after or dt.datetime.now(dt.UTC)
    for _ in range(count):
        moment = schedule.next_after(moment)
        moments.append(moment.astimezone(schedule.tz))
    return moments


def next_due(job) -> dt.datetime | None:  # noqa: ANN001 - a stored Job (store/job_models.py)
    """When a stored job is next due, in its schedule's zone; None when paused or run only by hand."""
    if not job.spec.get("cron") or job.paused:
        return None
    return upcoming(job.spec["cron"], job.spec.get("timezone", "UTC"))[0]
