"""The run queue in the store, on SQLite and PostgreSQL: idempotent enqueueing, claims that respect
concurrency and pauses, reaping silent runs, retries with backoff. No processes: an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from aqtra_nb.jobs import JobSpec
from aqtra_nb.jobs.catalog import add_job, remove_job, set_paused
from aqtra_nb.jobs.claims import (
    claim_runs,
    enqueue_due,
    enqueue_now,
    finish_run,
    heartbeat,
    reap_dead,
    request_cancel,
    settle_finished,
)
from aqtra_nb.spec.status import RunStatus
from aqtra_nb.store import Store
from aqtra_nb.store.job_models import Job
from aqtra_nb.store.models import Run

T0 = dt.datetime(2030, 6, 1, 12, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


@pytest.fixture
def job(store, notebook):
    path = notebook("q.ipynb", "n = 1", "print(n)")
    spec = JobSpec(
        job="q", target=str(path), cron="* * * * *", concurrency=1, retries={"count": 2, "backoff": 30}
    )
    job = add_job(store, spec)
    with store.session.begin() as session:
        session.execute(update(Job).where(Job.id == job.id).values(cursor=T0, created_at=T0))
    return job


def statuses(store: Store) -> list[tuple[int, str]]:
    with store.session() as session:
        return [(r.attempt, r.status) for r in session.scalars(select(Run).order_by(Run.attempt))]


def test_enqueue_is_idempotent_and_claims_respect_concurrency(store, job):
    first = enqueue_due(store, T0 + dt.timedelta(minutes=2), grace=300)  # 12:01 and 12:02
    assert len(first) == 2
    with store.session.begin() as session:  # another scheduler with an older cursor sees the same times
        session.execute(update(Job).where(Job.id == job.id).values(cursor=T0))
    assert enqueue_due(store, T0 + dt.timedelta(minutes=2), grace=300) == []
    claimed = claim_runs(store, "w1", 5, T0 + dt.timedelta(minutes=2))
    assert len(claimed) == 1  # concurrency 1
    assert claim_runs(store, "w2", 5, T0 + dt.timedelta(minutes=2)) == []
    assert heartbeat(store, claimed[0]) == (True, False)
    assert finish_run(store, claimed[0], RunStatus.succeeded, seconds=1.0, error=None)
    assert not finish_run(store, claimed[0], RunStatus.failed, seconds=1.0, error="late")  # first one wins
    assert len(claim_runs(store, "w2", 5, T0 + dt.timedelta(minutes=2))) == 1


def test_paused_jobs_and_removed_jobs(store, job):
    set_paused(store, "q", True)
    assert enqueue_due(store, T0 + dt.timedelta(minutes=2)) == []
    run_id = enqueue_now(store, "q")  # asked for explicitly: runs even when paused
    assert claim_runs(store, "w", 1) == [run_id]
    queued = enqueue_now(store, "q")
    remove_job(store, "q")
    assert store.run(queued).status == "cancelled" and store.run(run_id).status == "running"


def test_silent_runs_are_crashed_then_retried_with_backoff(store, job):
    (run_id,) = enqueue_due(store, T0 + dt.timedelta(minutes=1))
    assert claim_runs(store, "w", 1, T0 + dt.timedelta(minutes=1)) == [run_id]
    with store.session.begin() as session:
        session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=T0))
    assert reap_dead(store, T0 + dt.timedelta(seconds=20), timeout=30) == []
    now = T0 + dt.timedelta(seconds=31)
    assert reap_dead(store, now, timeout=30) == [run_id]
    assert heartbeat(store, run_id) == (False, False)  # its worker learns it lost the run
    settled = settle_finished(store, now)
    assert [(r, s) for r, s, _ in settled] == [(run_id, "crashed")]
    retry = settled[0][2]
    assert settle_finished(store, now) == []  # settled once
    assert claim_runs(store, "w", 1, now + dt.timedelta(seconds=29)) == []  # backoff: 30 s
    assert claim_runs(store, "w", 1, now + dt.timedelta(seconds=30)) == [retry]
    finish_run(store, retry, RunStatus.failed, seconds=1.0, error="again")
    ((_, _, second_retry),) = settle_finished(store, now + dt.timedelta(seconds=40))
    assert second_retry is not None
    with store.session() as session:
        not_before = session.get(Run, second_retry).not_before
    assert not_before == now + dt.timedelta(seconds=40 + 60)  # backoff doubles
    assert statuses(store) == [(1, "crashed"), (2, "failed"), (3, "queued")]


def test_cancel_queued_and_running(store, job):
    queued = enqueue_now(store, "q")
    assert request_cancel(store, queued) == "cancelled"
    running = enqueue_now(store, "q")
    claim_runs(store, "w", 1)
    assert request_cancel(store, running) == "cancelling"
    assert heartbeat(store, running) == (True, True)


def test_silent_server_runs_are_crashed_and_unsupervised_runs_are_left(store):
    """An API server's run (no job) heartbeats like a job run: when its server dies for good, a scheduler
    reaps it; a run recorded in a notebook has no heartbeat and is never reaped."""
    with store.session.begin() as session:
        session.add(Run(id="srv1", name="f", status="running", worker="server:h:1", heartbeat_at=T0))
        session.add(Run(id="nb1", name="f", status="running", started_at=T0))
    assert reap_dead(store, T0 + dt.timedelta(seconds=20), timeout=30) == []
    assert reap_dead(store, T0 + dt.timedelta(hours=1), timeout=30) == ["srv1"]
    assert store.run("srv1").status == "crashed" and "heartbeat" in store.run("srv1").error
    assert store.run("nb1").status == "running"
    assert settle_finished(store, T0 + dt.timedelta(hours=1)) == []  # no job: nothing to retry
