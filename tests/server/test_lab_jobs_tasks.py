"""Jobs and tasks in JupyterLab: "Schedule…" on a flow file makes a job (its next runs previewed), the
jobs panel runs it, and the tasks panel approves a workflow's task."""

from __future__ import annotations

import time

import pytest
from test_lab_panel import open_lab

pytestmark = pytest.mark.slow


def test_schedule_a_flow_from_the_file_browser_and_run_it(server, http, page):
    open_lab(page, server)
    page.evaluate("async () => { await window.jupyterapp.commands.execute('filebrowser:activate'); }")
    item = page.locator('.jp-DirListing-item[data-file-type="aqtra-flow"][title*="sales.flow.yaml"]')
    item.first.click(button="right")
    page.get_by_role("menuitem", name="Schedule…").click()
    form = page.locator(".aqtra-schedule-form")
    form.wait_for(timeout=10_000)
    form.locator('input[name="cron"]').fill("61 * * * *")
    form.locator(".aqtra-error").wait_for(timeout=10_000)
    assert "cron" in form.locator(".aqtra-error").inner_text()
    form.locator('input[name="cron"]').fill("*/15 * * * *")
    form.locator('input[name="timezone"]').fill("Europe/Berlin")
    page.wait_for_function(
        "() => document.querySelectorAll('.aqtra-next-runs li').length === 5", timeout=10_000
    )
    amount = form.locator('.aqtra-job-parameters input[id$="min_amount"]')
    amount.wait_for(timeout=10_000)  # the flow's typed parameters, with their defaults
    assert amount.input_value() == "10"
    amount.fill("42")
    form.locator('input[name="name"]').fill("quarter-hourly")
    page.get_by_role("button", name="Schedule").click()
    page.evaluate("async () => { await window.jupyterapp.commands.execute('aqtra:show-runs'); }")
    open_lab_panel = page.locator('[data-aqtra-job="quarter-hourly"]')
    open_lab_panel.wait_for(timeout=15_000)
    job = http.get(f"{server.api}/jobs/quarter-hourly").json()
    assert job["spec"]["cron"] == "*/15 * * * *" and job["spec"]["timezone"] == "Europe/Berlin"
    assert job["spec"]["parameters"]["min_amount"] == 42
    open_lab_panel.get_by_role("button", name="run").click()
    deadline = time.monotonic() + 15
    while (
        time.monotonic() < deadline
        and not http.get(f"{server.api}/runs", params={"job": "quarter-hourly"}).json()["total"]
    ):
        time.sleep(0.3)
    queued = http.get(f"{server.api}/runs", params={"job": "quarter-hourly"}).json()["runs"]
    assert [r["status"] for r in queued] == ["queued"]  # no scheduler runs in this server
    page.wait_for_selector(f'[data-aqtra-run="{queued[0]["id"]}"]', timeout=15_000)
    open_lab_panel.get_by_role("button", name="pause").click()
    page.wait_for_selector('[data-aqtra-job="quarter-hourly"][data-aqtra-paused="true"]', timeout=10_000)
    open_lab_panel.get_by_role("button", name="delete").click()
    open_lab_panel.wait_for(state="detached", timeout=10_000)


def test_approve_a_task_in_the_tasks_panel(server, http, page):
    ticket = http.post(f"{server.api}/entities/Ticket", json={"title": "lamp"}).json()
    workflow = http.post(
        f"{server.api}/workflows", json={"path": "close.workflow.yaml", "record": ticket["id"]}
    ).json()
    open_lab(page, server)
    task = page.locator(".aqtra-task", has_text="Close lamp?")
    task.wait_for(timeout=30_000)
    task.locator('[data-aqtra-option="now"]').click()
    task.wait_for(state="detached", timeout=15_000)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if http.get(f"{server.api}/workflows/{workflow['id']}").json()["status"] == "succeeded":
            break
        time.sleep(0.3)
    assert http.get(f"{server.api}/entities/Ticket/{ticket['id']}").json()["status"] == "closed"


def test_a_notebook_run_s_output_opens_and_a_run_starts_again(server, http, page):
    import os
    import subprocess
    import sys

    import nbformat

    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("n = 2")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell("print('SQUARE', n * n)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root / "square.ipynb")
    assert (
        http.post(f"{server.api}/jobs", json={"target": "square.ipynb", "name": "square"}).status_code == 201
    )
    env = {**os.environ, "AQTRA_HOME": str(server.root / "home"), "AQTRA_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from aqtra_nb.cli import main; sys.exit(main())", "jobs", "run", "square",
         "--wait", "-p", "n=7"],
        env=env, cwd=server.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    first = http.get(f"{server.api}/runs", params={"job": "square"}).json()["runs"][0]
    assert first["status"] == "succeeded" and first["kind"] == "notebook"

    open_lab(page, server)
    row = page.locator(f'[data-aqtra-run="{first["id"]}"]')
    row.wait_for(timeout=15_000)
    row.locator(".aqtra-output").click()
    frame = page.frame_locator(".aqtra-run-output")
    frame.get_by_text("SQUARE 49").wait_for(timeout=30_000)  # the output notebook, as HTML

    row.locator(".aqtra-rerun").click()
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and http.get(f"{server.api}/runs", params={"job": "square"}).json()["total"] < 2
    ):
        time.sleep(0.3)
    errors = page.locator(".aqtra-runs-panel .aqtra-error").all_inner_texts()
    again = http.get(f"{server.api}/runs", params={"job": "square"}).json()["runs"][0]
    assert again["id"] != first["id"], errors
    assert again["parameters"] == {"n": 7} and again["status"] == "queued"
    page.wait_for_selector(f'[data-aqtra-run="{again["id"]}"]', timeout=15_000)
