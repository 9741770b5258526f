"""Jobs in the store: add (after every check a run will need), list, show, pause, resume, remove."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import did_you_mean
from ..store import Store
from ..store.job_models import Job
from ..store.models import utcnow
from .spec import JobError, JobNotFound, JobSpec, validate_job

logger = logging.getLogger(__name__)


def add_job(store: Store, spec: JobSpec, *, source: str | None = None, replace: bool = False) -> Job:
    """Validate and save a job. Its schedule starts now: due times before this moment are not runs."""
    spec = spec.model_copy(update={"target": str(Path(spec.target).expanduser().resolve())})
    values = validate_job(spec, source=source)
    spec = spec.model_copy(update={"parameters": values})
    document = spec.model_dump(mode="json")
    with store.session.begin() as session:
        job = session.scalar(select(Job).where(Job.name == spec.job))
        if job is not None and not replace:
            raise JobError(
                f"a job named {spec.job!r} exists; remove it first or add with --replace",
                file=source,
                field="job",
            )
        if job is None:
            job = Job(name=spec.job, kind=spec.kind, target=spec.target, spec=document, cursor=utcnow())
            session.add(job)
        else:
            job.kind, job.target, job.spec = spec.kind, spec.target, document
        try:
            session.flush()
        except IntegrityError:
            raise JobError(f"a job named {spec.job!r} was just added by someone else", field="job") from None
    return job


def get_job_row(session: Session, name: str) -> Job:
    job = session.scalar(select(Job).where(Job.name == name))
    if job is None:
        names = session.scalars(select(Job.name)).all()
        raise JobNotFound(
            f"no job named {name!r}.{did_you_mean(name, names)} `aqtra-nb jobs list` shows them"
        )
    return job


def get_job(store: Store, name: str) -> Job:
    with store.session() as session:
        return get_job_row(session, name)


def list_jobs(store: Store) -> list[Job]:
    with store.session() as session:
        return list(session.scalars(select(Job).order_by(Job.name)))


def set_paused(store: Store, name: str, paused: bool, now: dt.datetime | None = None) -> Job:
    """Pause (no new scheduled runs) or resume; resuming starts the schedule afresh from now, so the
    time spent paused is not caught up."""
    with store.session.begin() as session:
        job = get_job_row(session, name)
        job.paused = paused
        if not paused:
            job.cursor = now or utcnow()
        return job


def remove_job(store: Store, name: str) -> None:
    """Remove a job; its runs stay in the history, and its queued runs are cancelled."""
    from sqlalchemy import update

    from ..spec.status import RunStatus
    from ..store.models import Run

    with store.session.begin() as session:
        job = get_job_row(session, name)
        session.execute(
            update(Run)
            .where(Run.job_id == job.id, Run.status == RunStatus.queued.value)
            .values(status=RunStatus.cancelled.value, finished_at=utcnow(), error="its job was removed")
        )
        session.delete(job)
