"""The JupyterLab extension in a real `jupyter lab` page (Debian's Chromium through Playwright): the runs
panel lists runs live, shows a run's log, and reads well in the light and dark themes."""

from __future__ import annotations

import uuid

import pytest
from server_process import TOKEN

pytestmark = pytest.mark.slow


def open_lab(page, server) -> None:
    """JupyterLab with the runs panel shown, through its command (the layout may restore it open)."""
    # a workspace of its own, reset: nothing an earlier test left open is restored beside it
    page.goto(f"{server.url}/lab/workspaces/t{uuid.uuid4().hex[:10]}?reset&token={TOKEN}")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.commands.hasCommand('aqtra:show-runs')", timeout=60_000
    )
    page.evaluate(
        "async () => { await window.jupyterapp.restored; await window.jupyterapp.commands.execute('aqtra:show-runs'); }"
    )
    page.wait_for_selector(".aqtra-runs-panel", timeout=30_000)


def test_the_runs_panel_follows_a_run_and_opens_its_log(server, http, page, tmp_path):
    open_lab(page, server)
    run_id = http.post(f"{server.api}/runs", json={"path": "sales.flow.yaml"}).json()["run_id"]
    row = page.locator(f'[data-aqtra-run="{run_id}"]')
    row.wait_for(timeout=30_000)
    page.wait_for_selector(f'[data-aqtra-run="{run_id}"][data-aqtra-status="succeeded"]', timeout=60_000)
    assert row.locator(".aqtra-run-name").inner_text() == "sales"
    page.screenshot(path=str(tmp_path / "runs-light.png"))
    row.get_by_role("button", name="log").click()
    log = page.locator(".aqtra-run-log")
    log.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('.aqtra-run-log').textContent.includes('flow sales: succeeded')",
        timeout=30_000,
    )


def test_the_panel_uses_the_theme_and_shows_errors(server, page, tmp_path):
    open_lab(page, server)
    light = page.locator(".aqtra-sidebar").evaluate("el => getComputedStyle(el).backgroundColor")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.wait_for_timeout(500)
    dark = page.locator(".aqtra-sidebar").evaluate("el => getComputedStyle(el).backgroundColor")
    assert light != dark
    page.screenshot(path=str(tmp_path / "runs-dark.png"))
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )
