"""`c.AqtraNb.run_scheduler = True` runs the jobs scheduler in the server; beside an `aqtra-nb scheduler`
process on the same PostgreSQL store, no run is started twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from server_root import make_root, start_server
from sqlalchemy import func, select

from aqtra_nb import jobs
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run, StepRun

pytestmark = pytest.mark.slow

FLOW = """\
flow: tick_{n}
steps:
  - {{id: numbers, component: read_csv, with: {{path: numbers.csv}}}}
  - {{id: doubled, component: derive, input: numbers, with: {{columns: {{y: "x * 2"}}}}}}
"""


def finished(store: Store) -> list[Run]:
    with store.session() as session:
        query = select(Run).where(Run.job_id.isnot(None), Run.status.notin_(["queued", "running"]))
        return list(session.scalars(query))


def test_the_server_scheduler_and_a_scheduler_process_never_double_a_run(tmp_path, postgres_database):
    root = make_root(tmp_path)
    store = Store(postgres_database)
    (root / "numbers.csv").write_text("x\n1\n2\n")
    for n in range(3):
        path = root / f"tick_{n}.flow.yaml"
        path.write_text(FLOW.format(n=n))
        jobs.schedule(path, name=f"every-second-{n}", cron="* * * * * *", store=store)
    server = start_server(
        root, postgres_database, extra=["--AqtraNb.run_scheduler=True", "--AqtraNb.scheduler_interval=0.1"]
    )
    env = dict(os.environ, AQTRA_DATABASE_URL=postgres_database, AQTRA_HOME=str(root / "home"))
    command = [sys.executable, "-m", "aqtra_nb.cli", "scheduler", "--interval", "0.1", "--heartbeat", "0.5"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(finished(store)) < 10:
            time.sleep(0.5)
        metrics = requests.get(f"{server.api}/metrics", headers=server.headers, timeout=30).text
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
        server.stop()
    runs = finished(store)
    assert len(runs) >= 10
    assert len({r.worker for r in runs}) == 2, "both the server and the process should have run some"
    assert {r.status for r in runs} == {"succeeded"}, [(r.status, r.error) for r in runs if r.error]
    with store.session() as session:
        everything = session.scalars(select(Run).where(Run.job_id.isnot(None))).all()
        steps = dict(session.execute(select(StepRun.run_id, func.count()).group_by(StepRun.run_id)).all())
    per_due_time = collections.Counter((r.job_id, r.scheduled_for, r.attempt) for r in everything)
    assert max(per_due_time.values()) == 1
    assert all(steps[r.id] == 2 for r in runs)  # each run executed (and its steps recorded) once
    assert "aqtra_scheduler_last_tick_timestamp_seconds" in metrics
    store.close()
