"""Cron due times in a time zone across daylight-saving changes, and catch-up after a scheduler outage
(driven by an injected clock: no waiting)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from aqtra_nb.jobs import CronSchedule, JobSpec, ScheduleError
from aqtra_nb.jobs.catalog import add_job
from aqtra_nb.jobs.claims import enqueue_due
from aqtra_nb.store import Store
from aqtra_nb.store.job_models import Job
from aqtra_nb.store.models import Run

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


def local(times: list[dt.datetime]) -> list[str]:
    return [t.astimezone(BERLIN).strftime("%m-%d %H:%M%z") for t in times]


def test_daily_job_in_the_skipped_spring_hour_runs_once_shifted_forward():
    schedule = CronSchedule("30 2 * * *", "Europe/Berlin")
    due = schedule.between(dt.datetime(2024, 3, 29, tzinfo=UTC), dt.datetime(2024, 4, 2, tzinfo=UTC))
    assert local(due) == ["03-29 02:30+0100", "03-30 02:30+0100", "03-31 03:30+0200", "04-01 02:30+0200"]


def test_daily_job_in_the_repeated_autumn_hour_runs_once():
    schedule = CronSchedule("30 2 * * *", "Europe/Berlin")
    due = schedule.between(dt.datetime(2024, 10, 26, tzinfo=UTC), dt.datetime(2024, 10, 29, tzinfo=UTC))
    assert local(due) == ["10-26 02:30+0200", "10-27 02:30+0200", "10-28 02:30+0100"]
    # croniter alone would say 02:30 twice on the 27th
    assert schedule.next_after(dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)) == dt.datetime(
        2024, 10, 28, 1, 30, tzinfo=UTC
    )


def test_hourly_job_follows_elapsed_time_across_both_changes():
    hourly = CronSchedule("0 * * * *", "Europe/Berlin")
    spring = hourly.between(dt.datetime(2024, 3, 30, 23, tzinfo=UTC), dt.datetime(2024, 3, 31, 3, tzinfo=UTC))
    assert local(spring) == ["03-31 01:00+0100", "03-31 03:00+0200", "03-31 04:00+0200", "03-31 05:00+0200"]
    autumn = hourly.between(
        dt.datetime(2024, 10, 26, 22, tzinfo=UTC), dt.datetime(2024, 10, 27, 3, tzinfo=UTC)
    )
    assert local(autumn) == [
        "10-27 01:00+0200",
        "10-27 02:00+0200",
        "10-27 02:00+0100",
        "10-27 03:00+0100",
        "10-27 04:00+0100",
    ]
    assert all(b - a == dt.timedelta(hours=1) for a, b in zip(autumn, autumn[1:], strict=False))


def test_last_due_time_and_seconds_field():
    schedule = CronSchedule("30 2 * * *", "Europe/Berlin")
    assert schedule.last_at_or_before(dt.datetime(2024, 10, 28, 1, tzinfo=UTC)) == dt.datetime(
        2024, 10, 27, 0, 30, tzinfo=UTC
    )
    every_2s = CronSchedule("* * * * * */2")
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert len(every_2s.between(start, start + dt.timedelta(seconds=10))) == 5


@pytest.mark.parametrize(
    ("expression", "zone", "field", "text"),
    [
        ("61 * * * *", "UTC", "cron", "the minute field '61' has 61, out of range: the minute is 0-59"),
        (
            "0 25 * * *",
            "UTC",
            "cron",
            "'0 25 * * *': the hour field '25' has 25, out of range: the hour is 0-23",
        ),
        ("0 6 * * 1-9", "UTC", "cron", "the weekday field '1-9' has 9, out of range: the weekday is 0-7"),
        ("0 6 * 0 *", "UTC", "cron", "the month field '0' has 0, out of range: the month is 1-12 or jan-dec"),
        ("*/0 * * * *", "UTC", "cron", "the minute field '*/0' has the step '0'"),
        ("0 6 * * xyz", "UTC", "cron", "the weekday field 'xyz' is not valid"),
        ("* * * *", "UTC", "cron", "has 4 field(s); expected 5: minute hour day month weekday"),
        ("0 0 30 2 *", "UTC", "cron", "never fires"),
        ("0 6 * * *", "Europe/Berlinn", "timezone", "unknown time zone"),
    ],
)
def test_bad_schedules_name_the_field(expression, zone, field, text):
    with pytest.raises(ScheduleError) as info:
        CronSchedule(expression, zone)
    assert info.value.field == field and text in str(info.value)


# -- catch-up after an outage ----------------------------------------------------------------------------


def minutely_job(store: Store, notebook, name: str, catchup: str, created: dt.datetime) -> int:
    path = notebook(f"{name}.ipynb", "n = 1", "print(n)")
    job = add_job(store, JobSpec(job=name, target=str(path), cron="* * * * *", catchup=catchup))
    with store.session.begin() as session:
        session.execute(update(Job).where(Job.id == job.id).values(cursor=created, created_at=created))
    return job.id


def scheduled(store: Store, job_id: int) -> list[str]:
    with store.session() as session:
        times = session.scalars(
            select(Run.scheduled_for).where(Run.job_id == job_id).order_by(Run.scheduled_for)
        )
        return [t.strftime("%H:%M:%S") for t in times]


@pytest.mark.parametrize(
    ("catchup", "after_outage"),
    [("skip", ["10:01:00", "10:10:00"]), ("once", ["10:01:00", "10:09:00", "10:10:00"])],
)
def test_catch_up_policy_after_a_scheduler_outage(store, notebook, catchup, after_outage):
    t0 = dt.datetime(2030, 1, 1, 10, 0, 30, tzinfo=UTC)
    job_id = minutely_job(store, notebook, f"every-minute-{catchup}", catchup, t0)
    enqueue_due(store, t0 + dt.timedelta(seconds=10))  # nothing due yet
    assert scheduled(store, job_id) == []
    enqueue_due(store, t0 + dt.timedelta(seconds=40))  # 10:01:10: the 10:01 run
    enqueue_due(store, t0 + dt.timedelta(seconds=45))  # a second tick queues nothing new
    assert scheduled(store, job_id) == ["10:01:00"]
    # the scheduler is down from 10:01:10 to 10:10:20; 10:02 .. 10:09 are missed, 10:10 is 20 s late
    enqueue_due(store, dt.datetime(2030, 1, 1, 10, 10, 20, tzinfo=UTC))
    assert scheduled(store, job_id) == after_outage
    enqueue_due(store, dt.datetime(2030, 1, 1, 10, 10, 50, tzinfo=UTC))
    assert scheduled(store, job_id) == after_outage


def test_paused_job_queues_nothing_and_resume_does_not_catch_up(store, notebook):
    from aqtra_nb.jobs.catalog import set_paused

    t0 = dt.datetime(2030, 1, 1, 10, 0, 30, tzinfo=UTC)
    job_id = minutely_job(store, notebook, "paused", "once", t0)
    set_paused(store, "paused", True)
    enqueue_due(store, t0 + dt.timedelta(minutes=5))
    assert scheduled(store, job_id) == []
    set_paused(store, "paused", False, now=t0 + dt.timedelta(minutes=5, seconds=10))  # 10:05:40
    enqueue_due(store, t0 + dt.timedelta(minutes=5, seconds=40))  # 10:06:10
    assert scheduled(store, job_id) == ["10:06:00"]  # the paused minutes are not caught up
