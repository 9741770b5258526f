"""The shipped Grafana dashboard and Prometheus alerts use only metrics the server exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from aqtra_nb.server.metrics import Metrics
from aqtra_nb.store import Store

EXTENSIONS = Path(__file__).parents[2] / "extensions"
METRIC = re.compile(r"\baqtra_[a-z_]+\b")


def exported(tmp_path) -> set[str]:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    metrics = Metrics(store)
    metrics.observe_request("/aqtra/api/runs", "GET", 200, 0.01)
    _seed(store)
    text, kind = metrics.render()
    assert kind.startswith("text/plain")
    return {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }


def _seed(store: Store) -> None:
    from aqtra_nb.store.job_models import SchedulerTick
    from aqtra_nb.store.models import Run, StepRun, utcnow

    with store.session.begin() as session:
        now = utcnow()
        session.add(Run(id="r1", kind="flow", name="f", status="succeeded", seconds=2.0, finished_at=now))
        session.add(Run(id="r2", kind="flow", name="f", status="queued", queued_at=now))
        session.add(Run(id="r3", kind="flow", name="f", status="running", worker="w", heartbeat_at=now))
        session.add(StepRun(run_id="r1", step_id="s", status="succeeded", seconds=1.0))
        session.add(SchedulerTick(name="host:42", started_at=now, last_tick=now))


def used(text: str) -> set[str]:
    return set(METRIC.findall(text))


def test_dashboard_and_alerts_use_exported_metrics(tmp_path):
    names = exported(tmp_path)
    dashboard = json.loads((EXTENSIONS / "grafana" / "aqtra-nb.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    alerts = yaml.safe_load((EXTENSIONS / "prometheus" / "alerts.yml").read_text())
    rules = [r["expr"] for g in alerts["groups"] for r in g["rules"]]
    wanted = used("\n".join(expressions + rules))
    assert wanted, "no metric found in the dashboard or alerts"
    assert wanted <= names, sorted(wanted - names)
    assert {"AqtraSchedulerStalled", "AqtraRunFailureRate", "AqtraQueueStuck"} <= {
        r["alert"] for g in alerts["groups"] for r in g["rules"]
    }


def test_metrics_count_what_the_store_holds(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    _seed(store)
    text, _ = Metrics(store).render()
    assert 'aqtra_runs_finished_total{kind="flow",status="succeeded"} 1.0' in text
    assert 'aqtra_runs_started_total{kind="flow"} 2.0' in text  # the succeeded and the running one
    assert "aqtra_queue_depth 1.0" in text
    assert 'aqtra_run_duration_seconds_bucket{kind="flow",le="2.5"} 1.0' in text
    assert 'aqtra_run_duration_seconds_bucket{kind="flow",le="1"} 0.0' in text
    assert 'aqtra_worker_heartbeat_timestamp_seconds{worker="w"}' in text
    assert 'aqtra_scheduler_last_tick_timestamp_seconds{scheduler="host:42"}' in text


def test_a_scheduler_process_records_its_ticks(tmp_path):
    from aqtra_nb.jobs import Scheduler

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    with Scheduler(store, workers=1) as scheduler:
        scheduler.once()
        name = scheduler.name
    text, _ = Metrics(store).render()
    assert f'aqtra_scheduler_last_tick_timestamp_seconds{{scheduler="{name}"}}' in text
