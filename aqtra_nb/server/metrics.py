"""Prometheus metrics: what the store knows (runs of every process: the scheduler's, the server's, the
CLI's), read at scrape time, and what this server measures itself (API latency by route template).
Schedulers record their ticks in the store (`schedulers`), so a stalled one shows wherever it runs.

Counting from the store keeps the numbers right across processes and restarts, at the cost of a few
aggregate queries per scrape (indexed; milliseconds at 10,000 runs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import case, func, select

from ..spec.status import RunStatus
from ..store.models import Run, StepRun, utcnow
from .heap import GcPauses

#: seconds; runs and steps take from a fraction of a second to hours
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30)


class StoreCollector:
    """Run counts, durations, the queue and worker heartbeats, from the store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        with self.store.session() as session:
            yield from self._runs(session)
            yield self._histogram(
                session,
                "aqtra_run_duration_seconds",
                "Seconds of finished runs.",
                Run.seconds,
                Run.kind,
                Run.__table__,
                Run.finished_at.isnot(None),
            )
            yield self._histogram(
                session,
                "aqtra_step_duration_seconds",
                "Seconds of finished steps.",
                StepRun.seconds,
                StepRun.status,
                StepRun.__table__,
                StepRun.seconds.isnot(None),
                label="status",
            )
            yield from self._queue(session)
            yield self._heartbeats(session)
            yield self._schedulers(session)

    def _runs(self, session: Any) -> Iterator[Metric]:
        started = CounterMetricFamily(
            "aqtra_runs_started", "Runs started (recorded), by kind.", labels=["kind"]
        )
        finished = CounterMetricFamily(
            "aqtra_runs_finished", "Runs finished, by kind and status.", labels=["kind", "status"]
        )
        rows = session.execute(
            select(Run.kind, Run.status, func.count()).group_by(Run.kind, Run.status)
        ).all()
        by_kind: dict[str, int] = {}
        for kind, status, count in rows:
            if status != RunStatus.queued.value:
                by_kind[kind] = by_kind.get(kind, 0) + count
            if RunStatus(status).finished:
                finished.add_metric([kind, status], count)
        for kind, count in by_kind.items():
            started.add_metric([kind], count)
        yield started
        yield finished

    @staticmethod
    def _histogram(session, name, documentation, seconds, group, table, condition, label="kind") -> Metric:
        family = HistogramMetricFamily(name, documentation, labels=[label])
        columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in DURATION_BUCKETS]
        query = select(group, *columns, func.count(), func.sum(seconds)).select_from(table)
        for row in session.execute(query.where(condition, seconds.isnot(None)).group_by(group)).all():
            buckets = [(str(b), int(c or 0)) for b, c in zip(DURATION_BUCKETS, row[1:-2], strict=True)]
            buckets.append(("+Inf", int(row[-2])))
            family.add_metric([str(row[0])], buckets, float(row[-1] or 0.0))
        return family

    def _queue(self, session: Any) -> Iterator[Metric]:
        depth, oldest = session.execute(
            select(func.count(), func.min(Run.queued_at)).where(Run.status == RunStatus.queued.value)
        ).one()
        yield GaugeMetricFamily("aqtra_queue_depth", "Runs waiting to start.", value=depth or 0)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("aqtra_queue_oldest_age_seconds", "Age of the oldest queued run.", value=age)

    def _schedulers(self, session: Any) -> Metric:
        from ..store.job_models import SchedulerTick

        family = GaugeMetricFamily(
            "aqtra_scheduler_last_tick_timestamp_seconds",
            "When each scheduler last ticked (Unix time); schedulers silent for a day are left out.",
            labels=["scheduler"],
        )
        since = utcnow() - dt.timedelta(days=1)
        for name, tick in session.execute(
            select(SchedulerTick.name, SchedulerTick.last_tick).where(SchedulerTick.last_tick >= since)
        ).all():
            family.add_metric([name], tick.timestamp())
        return family

    def _heartbeats(self, session: Any) -> Metric:
        family = GaugeMetricFamily(
            "aqtra_worker_heartbeat_timestamp_seconds",
            "Last heartbeat of each worker with running runs (Unix time).",
            labels=["worker"],
        )
        rows = session.execute(
            select(Run.worker, func.max(Run.heartbeat_at))
            .where(Run.status == RunStatus.running.value, Run.worker.isnot(None))
            .group_by(Run.worker)
        ).all()
        for worker, beat in rows:
            if beat is not None:
                family.add_metric([worker], beat.timestamp())
        return family


class Metrics:
    """The server's metrics registry (its own, not prometheus_client's global one)."""

    def __init__(self, store: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(StoreCollector(store))
        self.gc = GcPauses()  # counting once the extension starts (`install`)
        self.registry.register(self.gc)
        self.requests = Histogram(
            "aqtra_api_request_duration_seconds",
            "API request latency by route template, method and status code.",
            ["route", "method", "code"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, code: int, seconds: float) -> None:
        self.requests.labels(route, method, str(code)).observe(seconds)

    def render(self) -> tuple[str, str]:
        return generate_latest(self.registry).decode("utf-8"), CONTENT_TYPE_LATEST
