"""The run queue lives in the database: enqueue due runs, claim queued ones, heartbeat, finish, reap.

Every state change is a conditional UPDATE (`... WHERE status = 'queued'`), so two schedulers never
start the same run. On PostgreSQL candidates are read with `FOR UPDATE SKIP LOCKED` and the job rows are
locked while their concurrency is counted; enqueueing is an `INSERT ... ON CONFLICT DO NOTHING` against
the unique (job, due time, attempt) index, so a due time is queued once however many schedulers see it.
On SQLite one scheduler runs at a time (`scheduler.SchedulerLock`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Insert, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..spec.status import RunStatus
from ..store import Store
from ..store.job_models import Job
from ..store.models import Run, utcnow
from ..store.orm import affected_rows
from .cron import CronSchedule
from .spec import JobSpec

logger = logging.getLogger(__name__)

FINISHED_BAD = (RunStatus.failed, RunStatus.timed_out, RunStatus.crashed)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _insert_ignore(session: Session, values: dict[str, Any]) -> bool:
    """Insert a run unless its (job, due time, attempt) exists; True if inserted."""
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(Run).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(Run).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    # a returned id tells whether the row went in (rowcount is not reliable here)
    return session.execute(statement.returning(Run.id)).scalar() is not None


def run_values(
    job: Job,
    spec: JobSpec,
    parameters: dict[str, Any],
    *,
    scheduled_for: dt.datetime,
    attempt: int = 1,
    not_before: dt.datetime | None = None,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": new_run_id(),
        "kind": job.kind,
        "name": job.name,
        "job_id": job.id,
        "parameters": parameters,
        "status": RunStatus.queued.value,
        "started_at": now,
        "queued_at": now,
        "scheduled_for": scheduled_for,
        "attempt": attempt,
        "not_before": not_before,
        "cancel_requested": False,
        "retried": False,
    }


def enqueue_due(store: Store, now: dt.datetime | None = None, *, grace: float = 60.0) -> list[str]:
    """Queue the runs that are due at `now` for every active scheduled job; returns the new run ids.

    Due times less than `grace` seconds old are run. Older ones were missed (no scheduler was running):
    the job's `catchup` policy skips them, or (`once`) queues one run for the latest of them."""
    now = now or utcnow()
    created: list[str] = []
    with store.session.begin() as session:
        jobs = session.scalars(
            select(Job).where(Job.paused.is_(False)).order_by(Job.id).with_for_update(skip_locked=True)
        ).all()
        for job in jobs:
            spec = JobSpec.model_validate(job.spec)
            if not spec.cron:
                continue
            schedule = CronSchedule(spec.cron, spec.timezone)
            cursor = job.cursor or job.created_at
            if cursor >= now:
                continue
            recent_from = max(cursor, now - dt.timedelta(seconds=grace))
            due = schedule.between(recent_from, now, limit=1000)
            if recent_from > cursor:
                missed = schedule.last_at_or_before(recent_from)
                if missed is not None and missed > cursor:
                    if spec.catchup == "once":
                        due.insert(0, missed)
                        logger.info("job %s: missed runs up to %s, catching up once", job.name, missed)
                    else:
                        logger.info("job %s: skipped missed runs up to %s", job.name, missed)
            for moment in due:
                values = run_values(job, spec, dict(spec.parameters), scheduled_for=moment, now=now)
                if _insert_ignore(session, values):
                    created.append(values["id"])
            job.cursor = now
    if created:
        logger.info("queued %d due run(s)", len(created))
    return created


def enqueue_now(
    store: Store, job_name: str, parameters: dict[str, Any] | None = None, *, claim_by: str | None = None
) -> str:
    """Queue one run of a job now (`aqtra-nb jobs run`), with parameters overlaid on the job's; with
    `claim_by`, the run is inserted already claimed by that worker (no scheduler can take it)."""
    from .catalog import get_job_row

    now = utcnow()
    with store.session.begin() as session:
        job = get_job_row(session, job_name)
        spec = JobSpec.model_validate(job.spec)
        values = run_values(job, spec, {**spec.parameters, **(parameters or {})}, scheduled_for=now, now=now)
        if claim_by is not None:
            values.update(status=RunStatus.running.value, worker=claim_by, heartbeat_at=now)
        session.execute(Run.__table__.insert().values(**values))
    return values["id"]


def claim_runs(
    store: Store, worker: str, limit: int, now: dt.datetime | None = None, only: Iterable[str] | None = None
) -> list[str]:
    """Mark up to `limit` queued runs as running by `worker`, respecting each job's concurrency."""
    if limit <= 0:
        return []
    now = now or utcnow()
    claimed: list[str] = []
    with store.session.begin() as session:
        query = (
            select(Run.id, Run.job_id)
            .where(
                Run.status == RunStatus.queued.value,
                Run.job_id.isnot(None),
                or_(Run.not_before.is_(None), Run.not_before <= now),
            )
            .order_by(Run.queued_at, Run.id)
            .limit(limit * 4)
            .with_for_update(skip_locked=True)
        )
        if only is not None:
            query = query.where(Run.id.in_(list(only)))
        candidates = [(run_id, job_id) for run_id, job_id in session.execute(query) if job_id is not None]
        if not candidates:
            return []
        job_ids = sorted({job_id for _, job_id in candidates})
        jobs = {
            job.id: job
            for job in session.scalars(
                select(Job).where(Job.id.in_(job_ids)).order_by(Job.id).with_for_update()
            )
        }
        running = dict(
            session.execute(
                select(Run.job_id, func.count())
                .where(Run.status == RunStatus.running.value, Run.job_id.in_(job_ids))
                .group_by(Run.job_id)
            ).all()
        )
        for run_id, job_id in candidates:
            job = jobs.get(job_id)
            if job is None:
                continue
            if running.get(job_id, 0) >= int(job.spec.get("concurrency", 1)):
                continue
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.queued.value)
                .values(status=RunStatus.running.value, worker=worker, started_at=now, heartbeat_at=now)
            )
            if affected_rows(result):
                claimed.append(run_id)
                running[job_id] = running.get(job_id, 0) + 1
                if len(claimed) >= limit:
                    break
    return claimed


def heartbeat(store: Store, run_id: str, pid: int | None = None) -> tuple[bool, bool]:
    """Refresh a running run's heartbeat; returns (still running, cancel requested)."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if pid is not None:
        values["pid"] = pid
    with store.session.begin() as session:
        result = session.execute(
            update(Run).where(Run.id == run_id, Run.status == RunStatus.running.value).values(**values)
        )
        if not affected_rows(result):
            return False, False
        return True, bool(session.scalar(select(Run.cancel_requested).where(Run.id == run_id)))


def finish_run(
    store: Store,
    run_id: str,
    status: RunStatus,
    *,
    seconds: float | None,
    error: str | None,
    artifacts: dict[str, Any] | None = None,
) -> bool:
    """Record a run's outcome unless another actor finished it first (a reaper marked it crashed)."""
    from ..store.models import Artifact

    with store.session.begin() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RunStatus.running.value)
            .values(status=status.value, seconds=seconds, error=error, finished_at=utcnow())
        )
        for kind, path in (artifacts or {}).items():
            session.add(Artifact(run_id=run_id, kind=kind, uri=str(path), size_bytes=_size(path)))
    return bool(affected_rows(result))


def add_artifact(store: Store, run_id: str, kind: str, path: Any) -> None:
    from ..store.models import Artifact

    with store.session.begin() as session:
        session.add(Artifact(run_id=run_id, kind=kind, uri=str(path), size_bytes=_size(path)))


def _size(path: Any) -> int | None:
    import os

    try:
        return os.path.getsize(path)
    except OSError:
        return None


def reap_dead(store: Store, now: dt.datetime | None = None, *, timeout: float = 30.0) -> list[str]:
    """Runs whose worker stopped heartbeating for `timeout` seconds are `crashed`.

    Job runs and the API server's runs both heartbeat; a server that died and is not started again on its
    host would otherwise leave its runs `running` for ever. Runs recorded in a notebook or by the CLI
    have no heartbeat (their process records their end itself) and are never reaped here."""
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=timeout)
    with store.session.begin() as session:
        dead = session.scalars(
            select(Run.id)
            .where(Run.status == RunStatus.running.value, Run.heartbeat_at < limit)
            .with_for_update(skip_locked=True)
        ).all()
        reaped = []
        for run_id in dead:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == RunStatus.running.value, Run.heartbeat_at < limit)
                .values(
                    status=RunStatus.crashed.value,
                    finished_at=now,
                    error=f"its worker stopped heartbeating for more than {timeout:g} s (killed or lost)",
                )
            )
            if affected_rows(result):
                reaped.append(run_id)
    for run_id in reaped:
        logger.warning("run %s crashed: no heartbeat for %g s", run_id, timeout)
    return reaped


def settle_finished(store: Store, now: dt.datetime | None = None) -> list[tuple[str, str, str | None]]:
    """For each finished job run not yet settled: queue a retry if it failed and has attempts left.

    Returns (run id, status, retry run id or None) per settled run, for notifications."""
    now = now or utcnow()
    settled: list[tuple[str, str, str | None]] = []
    finished = [s.value for s in RunStatus if s.finished]
    with store.session.begin() as session:
        rows = session.execute(
            select(Run, Job)
            .join(Job, Job.id == Run.job_id)
            .where(Run.status.in_(finished), Run.retried.is_(False))
            .order_by(Run.finished_at)
            .limit(500)
            .with_for_update(of=Run, skip_locked=True)
        ).all()
        for run, job in rows:
            result = session.execute(
                update(Run).where(and_(Run.id == run.id, Run.retried.is_(False))).values(retried=True)
            )
            if not affected_rows(result):
                continue
            spec = JobSpec.model_validate(job.spec)
            retry_id = None
            if run.status in FINISHED_BAD and run.attempt <= spec.retries.count:
                delay = spec.retries.delay(run.attempt)
                assert run.scheduled_for is not None  # as every job run's (run_values)
                values = run_values(
                    job,
                    spec,
                    dict(run.parameters or {}),
                    scheduled_for=run.scheduled_for,
                    attempt=run.attempt + 1,
                    not_before=now + dt.timedelta(seconds=delay),
                    now=now,
                )
                if _insert_ignore(session, values):
                    retry_id = values["id"]
                    logger.info("run %s %s: retry %s in %g s", run.id, run.status, retry_id, delay)
            settled.append((run.id, run.status, retry_id))
    return settled


def request_cancel(store: Store, run_id: str) -> str:
    """Cancel a queued run now, or ask the worker of a running one to stop it; returns the new state."""
    run = store.run(run_id)
    with store.session.begin() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == RunStatus.queued.value)
            .values(
                status=RunStatus.cancelled.value, finished_at=utcnow(), error="cancelled before it started"
            )
        )
        if affected_rows(result):
            return RunStatus.cancelled.value
        result = session.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == RunStatus.running.value)
            .values(cancel_requested=True)
        )
        if affected_rows(result):
            return "cancelling"
    from .spec import JobError

    raise JobError(
        f"run {run.id} has already finished ({run.status}); only queued or running runs can be cancelled"
    )
