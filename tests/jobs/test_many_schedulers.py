"""Two scheduler processes on one PostgreSQL never queue or start a run twice; runs on a real Dask
LocalCluster."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from aqtra_nb import jobs
from aqtra_nb.jobs import Scheduler
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run, StepRun

pytestmark = pytest.mark.slow

FLOW = """\
flow: tick_{n}
steps:
  - {{id: numbers, component: read_csv, with: {{path: numbers.csv}}}}
  - {{id: doubled, component: derive, input: numbers, with: {{columns: {{y: "x * 2"}}}}}}
"""


def finished_runs(store: Store) -> int:
    with store.session() as session:
        query = select(func.count()).where(Run.job_id.isnot(None), Run.status.notin_(["queued", "running"]))
        return session.scalar(query.select_from(Run))


def test_two_schedulers_on_postgresql_never_start_a_run_twice(postgres_database, tmp_path):
    store = Store(postgres_database)
    (tmp_path / "numbers.csv").write_text("x\n1\n2\n")
    for n in range(3):
        path = tmp_path / f"tick_{n}.flow.yaml"
        path.write_text(FLOW.format(n=n))
        jobs.schedule(path, name=f"every-second-{n}", cron="* * * * * *", store=store)
    env = dict(os.environ, AQTRA_DATABASE_URL=postgres_database, AQTRA_LOG_LEVEL="INFO")
    command = [sys.executable, "-m", "aqtra_nb.cli", "scheduler", "--interval", "0.1", "--heartbeat", "0.5"]
    services = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:  # many ticks of both, until eight runs have finished
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and finished_runs(store) < 8:
            time.sleep(0.5)
    finally:
        for service in services:
            service.send_signal(signal.SIGTERM)  # a clean stop: the runs in flight end first
    logs = [service.communicate(timeout=120)[1] for service in services]
    assert [service.returncode for service in services] == [0, 0], logs

    claims = [re.findall(r"claimed run (\w+)", log) for log in logs]
    everything = claims[0] + claims[1]
    assert len(everything) >= 6, logs
    assert [run for run, n in collections.Counter(everything).items() if n > 1] == []
    assert claims[0] and claims[1], "both schedulers should have taken part"

    with store.session() as session:
        runs = session.scalars(select(Run).where(Run.job_id.isnot(None))).all()
        per_due_time = collections.Counter((r.job_id, r.scheduled_for, r.attempt) for r in runs)
        steps = session.execute(select(StepRun.run_id, func.count()).group_by(StepRun.run_id)).all()
    assert max(per_due_time.values()) == 1
    finished = [r for r in runs if r.status != "queued"]
    assert sorted(r.id for r in finished) == sorted(everything)
    assert {r.status for r in finished} == {"succeeded"}, [(r.status, r.error) for r in finished if r.error]
    assert all(count == 2 for _, count in steps)  # each run's steps recorded once
    # every due second between the first and the last queued one is there, per job
    for job_id in {r.job_id for r in runs}:
        times = sorted(r.scheduled_for for r in runs if r.job_id == job_id)
        assert len(times) == round((times[-1] - times[0]).total_seconds()) + 1
    store.close()


def test_runs_on_a_dask_local_cluster(tmp_path, notebook):
    from distributed import LocalCluster

    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    path = notebook(
        "hello.ipynb", "who = 'nobody'", "import os\nprint(f'hello {who} from', os.getpid(), flush=True)"
    )
    (tmp_path / "tick.flow.yaml").write_text(FLOW.format(n=0))
    (tmp_path / "numbers.csv").write_text("x\n1\n2\n")
    jobs.schedule(path, name="hello", parameters={"who": "dask"}, store=store)
    jobs.schedule(tmp_path / "tick.flow.yaml", name="tick", store=store)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0") as cluster:
        worker_pid = next(iter(cluster.scheduler_info["workers"].values())).get("pid")
        first, second = jobs.run("hello", store=store), jobs.run("tick", store=store)
        with Scheduler(store, dask=cluster.scheduler_address, heartbeat_interval=0.5) as scheduler:
            assert scheduler.capacity == 2
            started = time.monotonic()
            scheduler.once()
            assert time.monotonic() - started < 120
    hello, tick = store.run(first.id), store.run(second.id)
    assert (hello.status, tick.status) == ("succeeded", "succeeded"), (hello.error, tick.error)
    assert hello.worker.startswith("dask:") and tick.worker.startswith("dask:")
    log = jobs.log(hello.id, store)
    assert "hello dask from" in log
    assert str(os.getpid()) not in log.split("hello dask from")[1].split()[0]
    if worker_pid:
        assert log.split("hello dask from")[1].split()[0] != str(
            worker_pid
        )  # a fresh process, not the worker
    assert {a.kind for a in hello.artifacts} == {"notebook", "html", "log"}
    store.close()
