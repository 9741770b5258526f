"""Jobs, runs, workflows and tasks as a notebook shows them: status, next run, last runs and the files a
run wrote, not `<aqtra_nb.store.job_models.Job at 0x...>` (#15)."""

from __future__ import annotations

import datetime as dt

import nbformat
import pytest

from aqtra_nb.notebook import displays
from aqtra_nb.store.models import Artifact, Run
from aqtra_nb.store.workflow_models import WorkflowInstance, WorkflowTask


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    displays.register(ip)
    return ip


def shown(shell, obj) -> tuple[str, str]:
    data, _ = shell.display_formatter.format(obj)
    return data["text/plain"], data.get("text/html", "")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))  # a fresh store for `resources.current()`
    return tmp_path


def test_a_job_shows_its_schedule_next_run_and_last_runs(shell, home):
    from aqtra_nb.jobs import api

    path = home / "report.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    job = api.schedule(path, name="nightly", cron="0 6 * * *", timezone="Europe/Stockholm")
    text, html = shown(shell, job)
    assert "0x" not in text and text.startswith("<Job 'nightly' notebook") and "next run: " in text
    assert "never run" in html and "cron 0 6 * * * (Europe/Stockholm)" in html and "next run" in html
    run = api.run("nightly")
    text, html = shown(shell, api.get("nightly"))
    assert run.id in html and "queued" in html and "last runs" in html and run.id in text
    assert repr(api.pause("nightly")) == f"<Job 'nightly' notebook {path}, paused>"


def test_a_run_shows_status_times_error_and_its_files(shell):
    run = Run(
        id="3f2a9c",
        kind="notebook",
        name="nightly",
        status="failed",
        seconds=12.5,
        attempt=2,
        parameters={"region": "North"},
        started_at=dt.datetime(2026, 3, 1, 6, 0, 1),
        error="cell 3: KeyError: 'amount'",
        artifacts=[
            Artifact(kind="notebook", uri="/runs/3f2a9c/output.ipynb"),
            Artifact(kind="html", uri="/runs/3f2a9c/output.html"),
            Artifact(kind="log", uri="/runs/3f2a9c/run.log"),
        ],
    )
    text, html = shown(shell, run)
    assert text.startswith("<Run 3f2a9c notebook 'nightly' failed in 12.50 s>")
    assert "log: /runs/3f2a9c/run.log" in text
    assert "output notebook: <code>/runs/3f2a9c/output.ipynb</code>" in html
    assert "HTML: <code>/runs/3f2a9c/output.html</code>" in html
    assert "KeyError" in html and "2026-03-01 06:00:01" in html and "region=&#x27;North&#x27;" in html


def test_workflows_and_tasks_show_where_they_are(shell):
    instance = WorkflowInstance(
        id="wf1", name="purchase_request", status="waiting", current_step="approve", message="waiting for Ann"
    )
    text, html = shown(shell, instance)
    assert text == "<Workflow wf1 'purchase_request' waiting at 'approve'>"
    assert "waiting for Ann" in html and "<code>approve</code>" in html
    task = WorkflowTask(
        id="t1",
        workflow_id="wf1",
        step_id="approve",
        title="Approve 3 chairs",
        status="open",
        options={"options": ["approve", "reject"]},
        assignee="ann",
    )
    text, html = shown(shell, task)
    assert text == "<Task t1 'Approve 3 chairs' open (step 'approve')>"
    assert "approve, reject" in html and "ann" in html
