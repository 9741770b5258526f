"""The scheduler loop. Each tick: mark runs whose worker died `crashed`, queue retries (and send
notifications) for finished runs, queue due runs, then claim as many queued runs as there are free
workers and start them, in the local pool or on a Dask cluster.

It needs no Jupyter server: `aqtra-nb scheduler` is a service of its own, `--once` one tick for cron and
tests. Several schedulers may share a PostgreSQL store; on SQLite one holds a lock and others refuse.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import fcntl
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ..errors import AqtraError
from ..resources import Resources, store_or_current
from ..store import Store
from ..store.changes import ChangeToken
from ..store.models import utcnow
from .claims import claim_runs, enqueue_due, reap_dead, settle_finished
from .worker import Supervision, fork_server, supervise, worker_name

logger = logging.getLogger(__name__)

QUEUE_POLL = 0.05  # seconds between looks at the store's change token while idle (SQLite: no I/O)


class SchedulerBusy(AqtraError):
    """Another scheduler holds this SQLite store."""


class SchedulerLock:
    """On SQLite one scheduler at a time: an exclusive `flock` beside the database file, released when
    the process ends however it ends. PostgreSQL needs none (claims are row-locked there)."""

    def __init__(self, store: Store | None) -> None:
        self.path: Path | None = None
        self._fd: int | None = None
        database = make_url(store.url).database if store is not None and store.dialect == "sqlite" else None
        if database and database != ":memory:":
            self.path = Path(database + ".scheduler.lock")

    def acquire(self) -> None:
        if self.path is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 100, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SchedulerBusy(
                f"another scheduler (pid {holder}) is running on this SQLite store; one scheduler per "
                "SQLite file (use PostgreSQL, AQTRA_DATABASE_URL, to run several)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@dataclass
class Tick:
    """What one tick did (for logs, `--once` output and tests)."""

    crashed: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


class Scheduler:
    """Ticks over a store (default: the current resources'); runs go to `workers` local run slots, or to
    the Dask cluster at `dask`."""

    def __init__(
        self,
        store: Store | Resources | None = None,
        *,
        workers: int = 2,
        dask: str | Any | None = None,
        interval: float = 5.0,
        heartbeat_interval: float = 5.0,
        heartbeat_timeout: float = 30.0,
        grace: float = 60.0,
        lock: bool = True,
    ) -> None:
        if workers < 0 or (workers == 0 and dask is None):
            raise AqtraError(
                f"--workers {workers}: give 1 or more (0 only with --dask: one per Dask worker thread)",
                field="workers",
            )
        self.store = store = store_or_current(store)
        self.interval, self.grace = interval, grace
        self.heartbeat_timeout = heartbeat_timeout
        self.name = worker_name()
        self.inflight: dict[str, Any] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()  # set when a run ends (a worker is free) or on stop
        self._change_token: ChangeToken | None = None  # made when `serve` first idles
        self._lock = SchedulerLock(store if lock else None)
        self._lock.acquire()
        self._client = None
        self._own_client = isinstance(dask, str)
        if dask is not None:
            try:
                self._client = _dask_client(dask)
            except BaseException:
                self._lock.release()  # a scheduler that could not start holds nothing
                raise
            self.capacity = workers or sum(self._client.nthreads().values())
            self.name = f"dask:{self.name}"
            self.supervision = Supervision(heartbeat_interval=heartbeat_interval, launcher="spawn")
            self._pool = None
        else:
            self.capacity = workers
            self.supervision = Supervision(heartbeat_interval=heartbeat_interval, launcher="fork")
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aqtra-run")
            fork_server().start()
        self._store_url = store.url

    # -- one tick --------------------------------------------------------------------------------------
    def tick(self, now: dt.datetime | None = None) -> Tick:
        now = now or utcnow()
        tick = Tick()
        tick.crashed = reap_dead(self.store, now, timeout=self.heartbeat_timeout)
        tick.retries = self.settle(now)
        tick.queued = enqueue_due(self.store, now, grace=self.grace)
        tick.started = self.start_runs(now)
        self.record_tick(now)
        return tick

    def record_tick(self, now: dt.datetime) -> None:
        """Say in the store that this scheduler ticked (monitoring alerts when none has for a while)."""
        from ..store.job_models import SchedulerTick

        with self.store.session.begin() as session:
            row = session.get(SchedulerTick, self.name)
            if row is None:
                session.add(SchedulerTick(name=self.name, started_at=now, last_tick=now))
            else:
                row.last_tick = now

    def settle(self, now: dt.datetime | None = None) -> list[str]:
        """Queue retries of finished runs and send their notifications."""
        from .notifications import notify_run

        retries = []
        for run_id, status, retry_id in settle_finished(self.store, now):
            if retry_id:
                retries.append(retry_id)
            notify_run(self.store, run_id, status, retrying=retry_id is not None)
        return retries

    def start_runs(self, now: dt.datetime | None = None) -> list[str]:
        self._forget_done()
        free = self.capacity - len(self.inflight)
        started = claim_runs(self.store, self.name, free, now)
        for run_id in started:
            logger.info("%s claimed run %s", self.name, run_id)
            future = self.submit(run_id)
            future.add_done_callback(lambda _: self._wake.set())
            self.inflight[run_id] = future
        return started

    def submit(self, run_id: str) -> Any:
        if self._client is not None:
            # a URL with a password does not travel in task arguments: such workers read their own
            # AQTRA_DATABASE_URL (the same store, configured on each machine)
            url = None if make_url(self._store_url).password else self._store_url
            return self._client.submit(
                supervise, run_id, url, self.supervision, pure=False, key=f"aqtra-run-{run_id}"
            )
        # run threads see the resources current here (the edge's), as the scheduler's own thread does
        context = contextvars.copy_context()
        assert self._pool is not None  # made when there is no cluster client
        return self._pool.submit(context.run, supervise, run_id, self._store_url, self.supervision)

    def _forget_done(self) -> None:
        for run_id, future in list(self.inflight.items()):
            if future.done():
                del self.inflight[run_id]
                try:
                    future.result()
                except Exception:  # supervise never raises; a lost Dask worker does
                    logger.exception("run %s: its worker failed", run_id)

    # -- loops -----------------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the runs started so far have ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.inflight:
            self._forget_done()
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def once(self, now: dt.datetime | None = None) -> Tick:
        """One tick, then wait for the runs it started and settle them (retries are queued for the next
        tick; notifications go out now)."""
        tick = self.tick(now)
        self.wait()
        tick.retries += self.settle()
        return tick

    def serve(self, ticks: int | None = None) -> None:
        """Tick every `interval` seconds until stopped (SIGTERM/SIGINT) or `ticks` ticks."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
        count = 0
        logger.info("scheduler %s: %d worker(s), tick every %g s", self.name, self.capacity, self.interval)
        while not self._stop.is_set():
            started = time.monotonic()
            self._wake.clear()
            try:
                self.tick()
            except AqtraError:
                raise
            except Exception:  # a database hiccup must not stop the service
                logger.exception("tick failed; trying again next tick")
            count += 1
            if ticks is not None and count >= ticks:
                break
            # the next tick comes after `interval`, or as soon as a run ends and frees a worker
            self._idle(max(0.0, self.interval - (time.monotonic() - started)))
        self.wait()
        self.settle()

    def _idle(self, seconds: float) -> None:
        """Wait `seconds` for the next tick, or less if a run ends; meanwhile claim runs as soon as they
        are queued (`jobs run`, the API, a notebook), not at the next tick: whenever the store's change
        token moves (another connection committed) and a worker is free."""
        deadline = time.monotonic() + seconds
        changes = self._changes()
        seen = changes.token()
        poll = QUEUE_POLL if changes.cheap else max(QUEUE_POLL, 1.0)  # PostgreSQL: a round trip each
        while not self._wake.wait(min(poll, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return
            token = changes.token()
            if token == seen or token is None:
                continue
            seen = token
            self._forget_done()
            if len(self.inflight) < self.capacity:
                try:
                    self.start_runs()
                except Exception:  # a database hiccup: the next tick tries again
                    logger.exception("claiming queued runs failed")

    def _changes(self) -> ChangeToken:
        if self._change_token is None:
            self._change_token = ChangeToken(self.store.engine)
        return self._change_token

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        if self._change_token is not None:
            self._change_token.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._client is not None and self._own_client:
            self._client.close()
        self._lock.release()

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dask_client(address: str | Any) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise AqtraError(
            'running jobs on Dask needs distributed: pip install "aqtra-nb[distributed]"'
        ) from None
    if not isinstance(address, str):
        return address if hasattr(address, "submit") else Client(address)
    from ..engine.cluster import connect

    return connect(address, field="dask")
