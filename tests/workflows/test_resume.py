"""State is written after every step: a workflow whose process is SIGKILLed mid-step resumes at that step,
and no step that had finished runs again. Reset to draft starts over on the same record."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update
from workflow_helpers import EXAMPLES

from aqtra_nb import workflows
from aqtra_nb.runs import default_store
from aqtra_nb.store.workflow_models import WorkflowInstance
from aqtra_nb.workflows import tasks

CRASHY = """
workflow: crashy
parameters:
  hook: {type: string}
  mode: {type: string, default: fast}
steps:
  - id: first
    kind: notify
    webhook: "${hook}/first"
    subject: first
  - id: second
    kind: switch
    value: "@mode"
    cases: {fast: third, slow: done}
  - id: third
    kind: notify
    webhook: "${hook}/hang"
    subject: "third after ${second.value}"
  - id: fourth
    kind: notify
    webhook: "${hook}/fourth"
    subject: fourth
  - id: done
    kind: finish
    message: "all done (${first.sent})"
"""


class Hooks:
    """A webhook receiver whose /hang holds the request until released."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.hanging, self.release = threading.Event(), threading.Event()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hooks.paths.append(self.path)
                hooks.bodies.append(body)
                if self.path == "/hang":
                    hooks.hanging.set()
                    hooks.release.wait(60)
                self.send_response(204)
                self.end_headers()

        self.bodies: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks():
    server = Hooks()
    yield server
    server.close()


@pytest.mark.slow
def test_resumes_after_sigkill_without_rerunning_finished_steps(store_url, hooks, tmp_path):
    path = tmp_path / "crashy.workflow.yaml"
    path.write_text(CRASHY)
    process = subprocess.Popen(
        [sys.executable, "-m", "aqtra_nb.cli", "workflows", "start", str(path), "-p", f"hook={hooks.url}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        assert hooks.hanging.wait(90), process.communicate(timeout=5)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    (wf,) = workflows.instances(name="crashy")
    assert (wf.status, wf.current_step) == ("running", "third")
    assert [(s.step_id, s.status) for s in workflows.history(wf.id)] == [
        ("first", "finished"),
        ("second", "finished"),
        ("third", "running"),
    ]

    # a workflow whose owner still runs is not taken over by accident
    with default_store().session.begin() as session:
        alive = f"{socket.gethostname()}:{os.getppid()}"
        session.execute(update(WorkflowInstance).where(WorkflowInstance.id == wf.id).values(owner=alive))
    with pytest.raises(workflows.WorkflowError, match="is running in process"):
        workflows.resume(wf.id)

    hooks.release.set()
    done = workflows.resume(wf.id, force=True)
    assert done.status == "succeeded" and done.message == "all done (True)"
    assert hooks.paths == ["/first", "/hang", "/hang", "/fourth"]  # only the interrupted step ran again
    finished = [s.step_id for s in workflows.history(wf.id) if s.status == "finished"]
    assert finished == ["first", "second", "third", "fourth", "done"]
    assert hooks.bodies[1]["subject"] == "third after fast" and hooks.bodies[1]["workflow_id"] == wf.id


def test_reset_to_draft_starts_over(sqlite_store, smtp, purchase_request, tmp_path):
    request = purchase_request.create(item="chair", amount=700.0, requester="eve@example.com")
    wf = workflows.start(
        EXAMPLES / "purchase_request.workflow.yaml", {"out_dir": str(tmp_path)}, record=request
    )
    (first_task,) = tasks.list()
    draft = workflows.reset(wf.id)
    assert (draft.status, draft.current_step, draft.results, draft.epoch) == ("draft", "check_amount", {}, 2)
    assert tasks.list() == [] and tasks.get(first_task.id).status == "cancelled"
    with pytest.raises(workflows.WorkflowError, match="already cancelled"):
        tasks.approve(first_task.id, option="standard")

    purchase_request.update(request.id, amount=90.0)  # edited while in draft: the rerun sees the new amount
    again = workflows.resume(wf.id)
    assert again.status == "succeeded" and again.results["check_amount"] == {"value": False}
    assert purchase_request.get(request.id).decided_by == "automatic"
    with pytest.raises(workflows.WorkflowError, match="has already succeeded; `reset` it"):
        workflows.resume(wf.id)
    epochs = [(s.epoch, s.step_id) for s in workflows.history(wf.id)]
    assert epochs[:2] == [(1, "check_amount"), (1, "ask_manager")] and epochs[2] == (2, "check_amount")


def test_cancel_stops_a_waiting_workflow_for_good(sqlite_store, smtp, purchase_request, tmp_path, capsys):
    from aqtra_nb.cli import main

    request = purchase_request.create(item="chair", amount=700.0, requester="eve@example.com")
    wf = workflows.start(
        EXAMPLES / "purchase_request.workflow.yaml", {"out_dir": str(tmp_path)}, record=request
    )
    (task,) = tasks.list()
    done = workflows.cancel(wf.id[:8], reason="bought elsewhere", by="maria")
    assert (done.status, done.message) == ("cancelled", "cancelled by maria: bought elsewhere")
    assert done.finished_at is not None and done.owner is None and done.current_step == "ask_manager"
    cancelled = tasks.get(task.id)
    assert (cancelled.status, cancelled.decided_by, cancelled.comment) == (
        "cancelled",
        "maria",
        "bought elsewhere",
    )
    assert tasks.list() == []
    with pytest.raises(workflows.WorkflowError, match="already cancelled"):
        tasks.approve(task.id, option="standard")
    with pytest.raises(workflows.WorkflowError, match="was cancelled; `reset` it"):
        workflows.resume(wf.id)
    with pytest.raises(workflows.WorkflowError, match="was already cancelled; nothing to cancel"):
        workflows.cancel(wf.id)
    assert [s.step_id for s in workflows.history(wf.id)] == ["check_amount", "ask_manager"]  # kept

    other = purchase_request.create(item="desk", amount=800.0, requester="cy@example.com")
    second = workflows.start(
        EXAMPLES / "purchase_request.workflow.yaml", {"out_dir": str(tmp_path)}, record=other
    )
    assert main(["workflows", "cancel", second.id, "--reason", "duplicate", "--by", "lee"]) == 0
    assert f"{second.id[:12]}: cancelled by lee: duplicate" in capsys.readouterr().out
    assert main(["workflows", "cancel", second.id]) == 2
    err = capsys.readouterr().err
    assert "was already cancelled" in err and "Traceback" not in err


def test_cancel_refuses_a_workflow_a_live_process_runs(sqlite_store, tmp_path):
    path = tmp_path / "busy.workflow.yaml"
    path.write_text("workflow: busy\nsteps:\n  - id: done\n    kind: finish\n")
    wf = workflows.start(path, run=False)  # a draft: nobody runs it
    with default_store().session.begin() as session:  # as if our (live) parent process were running it
        session.execute(
            update(WorkflowInstance)
            .where(WorkflowInstance.id == wf.id)
            .values(status="running", owner=f"{socket.gethostname()}:{os.getppid()}")
        )
    with pytest.raises(workflows.WorkflowError, match="is running in process .*--force"):
        workflows.cancel(wf.id)
    assert workflows.cancel(wf.id, force=True).status == "cancelled"
