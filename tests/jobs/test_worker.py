"""Job runs on real kernels and processes: failures with the failing cell kept, retries after a worker is
SIGKILLed, a hung cell killed at the timeout, cancel, flow jobs with per-step records."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
from job_helpers import wait_for
from sqlalchemy import select

from aqtra_nb import jobs
from aqtra_nb.jobs import Scheduler
from aqtra_nb.store import Store
from aqtra_nb.store.models import Run, StepRun

pytestmark = pytest.mark.slow


def job_runs(store: Store, name: str) -> list[Run]:
    with store.session() as session:
        return list(session.scalars(select(Run).where(Run.name == name).order_by(Run.attempt, Run.queued_at)))


def artifacts(store: Store, run_id: str) -> dict[str, Path]:
    return {a.kind: Path(a.uri) for a in store.run(run_id).artifacts}


def test_failing_notebook_keeps_output_with_the_failing_cell_and_is_retried(store, notebook):
    path = notebook(
        "fails.ipynb", "n = 1", "print('before', n)", "raise RuntimeError(f'boom {n}')", "print('never')"
    )
    jobs.schedule(path, name="fails", retries={"count": 1, "backoff": 0}, parameters={"n": 7}, store=store)
    first = jobs.run("fails", wait=True, store=store)
    assert first.status == "failed" and first.error == "RuntimeError: boom 7"
    files = artifacts(store, first.id)
    assert set(files) == {"notebook", "html", "log"}
    cells = json.loads(files["notebook"].read_text())["cells"]
    failed = [c for c in cells if c.get("metadata", {}).get("papermill", {}).get("exception")]
    assert len(failed) == 1 and "raise RuntimeError" in "".join(failed[0]["source"])
    assert "before 7" in jobs.log(first.id, store) and "never" not in jobs.log(first.id, store)
    wait_for(files["html"].exists, 120, "the HTML copy")  # made by the run process after it reported
    assert "boom 7" in files["html"].read_text()

    with Scheduler(store, workers=1, heartbeat_interval=0.2) as scheduler:
        tick = scheduler.once()  # settles the failed run: one retry queued (backoff 0) ...
        assert len(tick.retries) == 1
        scheduler.once()  # ... which this tick runs; it fails again and has no attempts left
        assert scheduler.once().retries == []
    runs = job_runs(store, "fails")
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "failed")]
    assert runs[1].parameters == {"n": 7} and runs[1].scheduled_for == runs[0].scheduled_for


HANG = "import os, time\nopen('kernel.pid', 'w').write(str(os.getpid()))\nprint('sleeping', flush=True)\ntime.sleep(600)"


def test_hung_cell_is_killed_at_the_timeout_and_the_scheduler_goes_on(store, notebook, tmp_path):
    hang = notebook("hang.ipynb", None, HANG)
    quick = notebook("quick.ipynb", "x = 1", "print('quick', x)")
    jobs.schedule(hang, name="hang", timeout=12, store=store)
    jobs.schedule(quick, name="quick", store=store)
    jobs.run("hang", store=store)
    jobs.run("quick", store=store)
    with Scheduler(store, workers=2, heartbeat_interval=0.2) as scheduler:
        started = time.monotonic()
        scheduler.once()
        assert time.monotonic() - started < 40
    (hung,) = job_runs(store, "hang")
    (ok,) = job_runs(store, "quick")
    assert ok.status == "succeeded", f"{ok.error}\n{jobs.log(ok.id, store)}"
    assert hung.status == "timed_out" and "time limit of 12 s" in hung.error
    kernel = int((tmp_path / "kernel.pid").read_text())
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE
    log = jobs.log(hung.id, store)
    assert "sleeping" in log and "timed_out" in log
    cells = json.loads(artifacts(store, hung.id)["notebook"].read_text())["cells"]
    assert any(o.get("ename") == "TimeoutError" for c in cells for o in c.get("outputs", []))


RETRY_AFTER_KILL = """\
import os, time
from pathlib import Path
marker = Path('attempted')
if not marker.exists():
    marker.write_text('1')
    Path('kernel.pid').write_text(str(os.getpid()))
    print('first attempt: hanging', flush=True)
    time.sleep(600)
print('second attempt: done', flush=True)
"""


def test_run_of_a_sigkilled_scheduler_is_crashed_and_retried(store, notebook, tmp_path):
    path = notebook("flaky.ipynb", None, RETRY_AFTER_KILL)
    jobs.schedule(path, name="flaky", retries={"count": 2, "backoff": 0}, store=store)
    jobs.run("flaky", store=store)
    env = dict(os.environ, AQTRA_DATABASE_URL=store.url, AQTRA_LOG_LEVEL="INFO")
    service = subprocess.Popen(
        [sys.executable, "-m", "aqtra_nb.cli", "scheduler", "--interval", "0.2", "--heartbeat", "0.3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "scheduler.log", "w"),  # noqa: SIM115
    )
    try:
        wait_for(
            lambda: (tmp_path / "kernel.pid").exists(),
            message=f"the first attempt to start: {(tmp_path / 'scheduler.log').read_text()}",
        )
        running = job_runs(store, "flaky")[0]
        assert running.status == "running" and running.pid
        service.send_signal(signal.SIGKILL)  # the scheduler and its worker threads die at once
        service.wait(10)
    finally:
        service.kill()
    kernel = int((tmp_path / "kernel.pid").read_text())
    # the run process and its kernel do not outlive the scheduler
    wait_for(lambda: not psutil.pid_exists(running.pid), 20, "the run process to die")
    wait_for(lambda: not psutil.pid_exists(kernel), 20, "the kernel to die")

    with Scheduler(store, workers=1, heartbeat_interval=0.2, heartbeat_timeout=1.0) as scheduler:
        time.sleep(1.2)
        tick = scheduler.tick()
        assert tick.crashed == [running.id]  # no heartbeat for 1 s: crashed ...
        scheduler.once()  # ... settled: retry queued (backoff 0) ...
        scheduler.once()  # ... and run
    runs = job_runs(store, "flaky")
    assert [(r.attempt, r.status) for r in runs] == [(1, "crashed"), (2, "succeeded")]
    assert "heartbeat" in runs[0].error
    assert "second attempt: done" in jobs.log(runs[1].id, store)


def test_cancel_a_running_run(store, notebook):
    path = notebook("long.ipynb", None, "import time\nprint('working', flush=True)\ntime.sleep(600)")
    jobs.schedule(path, name="long", store=store)
    run = jobs.run("long", store=store)
    scheduler = Scheduler(store, workers=1, heartbeat_interval=0.2, interval=0.2)
    service = threading.Thread(target=scheduler.serve, daemon=True)
    service.start()
    try:
        wait_for(lambda: store.run(run.id).status == "running" and "working" in jobs.log(run.id, store))
        assert jobs.cancel(run.id, store) == "cancelling"
        wait_for(lambda: store.run(run.id).status == "cancelled", 30, "the run to be cancelled")
    finally:
        scheduler.stop()
        service.join(30)
        scheduler.close()
    queued = jobs.run("long", store=store)
    assert jobs.cancel(queued.id, store) == "cancelled"
    with pytest.raises(jobs.JobError, match=r"already finished \(cancelled\)"):
        jobs.cancel(queued.id, store)


FLOW = """\
flow: tiny
parameters:
  factor: {type: integer, default: 2}
steps:
  - {id: numbers, component: read_csv, with: {path: numbers.csv}}
  - {id: scaled, component: derive, input: numbers, with: {columns: {y: "x * @factor"}}}
  - {id: save, component: write_csv, input: scaled, with: {path: out.csv}}
"""


def test_flow_job_keeps_per_step_records(store, tmp_path):
    (tmp_path / "numbers.csv").write_text("x\n1\n2\n3\n")
    (tmp_path / "tiny.flow.yaml").write_text(FLOW)
    (tmp_path / "broken.flow.yaml").write_text(FLOW.replace("x * @factor", "x * z").replace("tiny", "broken"))
    jobs.schedule(tmp_path / "tiny.flow.yaml", name="tiny", parameters={"factor": "5"}, store=store)
    jobs.schedule(tmp_path / "broken.flow.yaml", name="broken", store=store)
    ok = jobs.run("tiny", wait=True, store=store)
    assert ok.status == "succeeded" and ok.parameters == {"factor": 5}
    assert (tmp_path / "out.csv").read_text().replace('"', "").split() == ["x,y", "1,5", "2,10", "3,15"]
    with store.session() as session:
        steps = {s.step_id: s for s in session.scalars(select(StepRun).where(StepRun.run_id == ok.id))}
    assert set(steps) == {"numbers", "scaled", "save"} and steps["scaled"].rows == 3
    assert store.run(ok.id).flow.name == "tiny"
    bad = jobs.run("broken", wait=True, store=store)
    assert bad.status == "failed" and "'z'" in bad.error and "scaled" in bad.error
    assert "error:" in jobs.log(bad.id, store)


def test_notifications_by_email_and_webhook_when_a_run_ends_for_good(store, tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from http_server import ApiServer
    from smtp_server import SmtpServer

    (tmp_path / "numbers.csv").write_text("x\n1\n")
    (tmp_path / "good.flow.yaml").write_text(FLOW.replace("tiny", "good"))
    (tmp_path / "bad.flow.yaml").write_text(FLOW.replace("x * @factor", "x * z").replace("tiny", "bad"))
    with SmtpServer() as smtp, ApiServer() as api:
        monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}?from=jobs@example.com")
        notify = {"email": ["ops@example.com"], "webhook": f"{api.url}/sink/jobs", "on": ["failure"]}
        jobs.schedule(
            tmp_path / "bad.flow.yaml",
            name="bad",
            retries={"count": 1, "backoff": 0},
            notify=notify,
            store=store,
        )
        jobs.schedule(
            tmp_path / "good.flow.yaml", name="good", notify={**notify, "on": ["success"]}, store=store
        )
        jobs.run("bad", store=store)
        jobs.run("good", store=store)
        with Scheduler(store, workers=2, heartbeat_interval=0.2) as scheduler:
            scheduler.once()  # both run; the failure has a retry left: no failure message yet
            assert [m[2]["Subject"] for m in smtp.messages] == [
                next(m[2]["Subject"] for m in smtp.messages if "good" in m[2]["Subject"])
            ]
            scheduler.once()  # the retry fails too: now it is reported
        subjects = sorted(m[2]["Subject"] for m in smtp.messages)
        assert len(subjects) == 2
        assert "job bad" in subjects[0] and "failed" in subjects[0]
        assert "job good" in subjects[1] and "succeeded" in subjects[1]
        assert {m[1][0] for m in smtp.messages} == {"ops@example.com"}
        posted = sorted(api.posted, key=lambda p: p["job"])
        assert [(p["job"], p["status"], p["attempt"]) for p in posted] == [
            ("bad", "failed", 2),
            ("good", "succeeded", 1),
        ]
        assert "'z'" in posted[0]["error"]


def test_kernels_started_together_never_share_ipc_sockets(tmp_path, monkeypatch):
    """Without a connection file yet, jupyter_client names ipc sockets "kernel-ipc-N" in the working
    folder: two runs starting at once in one folder took each other's sockets ("Invalid Signature")."""
    from aqtra_nb.jobs.child import KernelWatch, kernel_transport

    runtime = tempfile.mkdtemp(prefix="rt-")  # short: a socket path has at most 107 bytes
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", runtime)
    monkeypatch.chdir(tmp_path)
    if kernel_transport() != "ipc":
        pytest.skip("this machine's runtime folder is too long for Unix sockets: tcp is used")
    managers = [KernelWatch().manager_class()(kernel_name="python3") for _ in range(2)]
    prefixes = [m.ip for m in managers]
    assert prefixes[0] != prefixes[1]
    assert all(p.startswith(runtime) and len(p) + 6 < 107 for p in prefixes)
    shutil.rmtree(runtime)


def test_a_serving_scheduler_starts_a_queued_run_before_its_next_tick(store, notebook):
    """A run queued while the scheduler idles is claimed when the store changes, not at the next tick
    (an hour away here)."""
    path = notebook("quick.ipynb", "n = 1", "print('quick', n)")
    jobs.schedule(path, name="quick", store=store)
    scheduler = Scheduler(store, workers=1, interval=3600)
    service = threading.Thread(target=scheduler.serve, daemon=True)
    service.start()
    try:
        wait_for(lambda: scheduler._change_token is not None, 60, "the scheduler to idle")
        run = jobs.run("quick", {"n": 5}, store=store)
        wait_for(lambda: store.run(run.id).status == "succeeded", 120, "the queued run to succeed")
        assert "quick 5" in jobs.log(run.id, store)
    finally:
        scheduler.stop()
        service.join(60)
        scheduler.close()
