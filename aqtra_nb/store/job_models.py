"""ORM model of scheduled jobs. Their runs are rows of `runs` (kind `notebook` or `flow`, with `job_id`);
migration `0003_jobs` adds the jobs table and the run columns the scheduler needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .orm import Base, utcnow


class Job(Base):
    """A job as added: its validated spec (a JobSpec document), whether it is paused, and how far its
    schedule has been enqueued (`cursor`, the last due time the scheduler has dealt with)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    cursor: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        cron = self.spec.get("cron") if isinstance(self.spec, dict) else None
        schedule = "paused" if self.paused else (f"cron {cron!r}" if cron else "on demand")
        return f"<Job {self.name!r} {self.kind} {self.target}, {schedule}>"


class SchedulerTick(Base):
    """A scheduler process and when it last ticked (migration `0004_scheduler_ticks`): what monitoring
    reads to see a stalled scheduler."""

    __tablename__ = "schedulers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_tick: Mapped[dt.datetime] = mapped_column(default=utcnow)
