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
    form.locator('input[name="name"]').fill("quarter-hourly")
    page.get_by_role("button", name="Schedule").click()
    page.evaluate("async () => { await window.jupyterapp.commands.execute('aqtra:show-runs'); }")
    open_lab_panel = page.locator('[data-aqtra-job="quarter-hourly"]')
    open_lab_panel.wait_for(timeout=15_000)
    job = http.get(f"{server.api}/jobs/quarter-hourly").json()
    assert job["spec"]["cron"] == "*/15 * * * *" and job["spec"]["timezone"] == "Europe/Berlin"
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
