"""The visual flow editor in a real JupyterLab page: a flow file opens as a canvas of its steps and
edges; a step shows its properties and preview rows; the server's errors land on the step; a step added
from the palette is written into the file with its comments kept."""

from __future__ import annotations

import shutil

import pytest
from server_root import make_root, start_server
from test_lab_panel import open_lab

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The editor's server writes every step's output to the step cache (`cache_min_seconds` -1): whether
    reading a 100-row CSV is "worth writing" depends on the machine's speed, and the run test checks that
    the editor shows what came from the cache."""
    root = make_root(tmp_path_factory.mktemp("jupyter_root"))
    process = start_server(root, None, ["--AqtraNb.cache_min_seconds=-1"])
    yield process
    process.stop()
    shutil.rmtree(root / "home", ignore_errors=True)


def open_flow(page, path: str) -> None:
    page.evaluate(
        "async path => { await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Flow Editor'}); }",
        path,
    )
    page.wait_for_selector(".aqtra-flow-editor [data-aqtra-step]", timeout=60_000)


def select(page, step: str) -> None:
    """Click a step until the editor shows it selected (a click while the view is being fitted can miss)."""
    for _ in range(20):
        page.locator(f'.aqtra-node[data-aqtra-step="{step}"]').click()
        if page.locator(f'.aqtra-node.aqtra-selected[data-aqtra-step="{step}"]').count():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"step {step} could not be selected")


def test_a_flow_opens_as_steps_and_edges_with_properties_and_preview(server, page, tmp_path):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    steps = page.locator(".aqtra-flow-editor .aqtra-node[data-aqtra-step]")
    page.wait_for_function("() => document.querySelectorAll('.aqtra-flow-editor .aqtra-node').length === 4")
    assert sorted(steps.evaluate_all("els => els.map(e => e.dataset.aqtraStep)")) == [
        "big", "orders", "slow", "totals",
    ]  # fmt: skip
    for edge in ["orders->big", "big->slow", "slow->totals"]:
        page.wait_for_selector(f'[data-aqtra-edge="{edge}"]', state="attached", timeout=30_000)
    assert (
        page.locator('.aqtra-node[data-aqtra-step="big"]').get_attribute("data-aqtra-component") == "filter"
    )
    select(page, "big")
    page.wait_for_selector('.aqtra-step-form[data-aqtra-step="big"]', timeout=10_000)
    preview = page.locator(".aqtra-preview[data-aqtra-rows]")
    preview.wait_for(timeout=30_000)
    assert preview.get_attribute("data-aqtra-rows") == "20"
    first = preview.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first == ["10", "paid"]  # amount >= 10 (the default): row 10 of the file
    page.wait_for_function(
        "() => (document.querySelector('.aqtra-node[data-aqtra-step=\"totals\"]').title || '').includes('revenue: float64')",
        timeout=30_000,
    )  # columns and types on hover once the server validated the flow
    assert page.locator(".jp-mod-current.jp-mod-dirty").count() == 0  # looking at a step changes nothing
    condition = page.locator('.aqtra-step-form input[id$="condition"]')
    condition.fill("amount >= 95")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.context.model.toString().includes('amount >= 95')",
        timeout=10_000,
    )
    page.wait_for_function(
        "() => document.querySelector('.aqtra-preview[data-aqtra-rows]')?.dataset.aqtraRows === '5'",
        timeout=30_000,
    )  # the preview follows the edit: amounts 95 to 99
    page.screenshot(path=str(tmp_path / "editor.png"))


def test_errors_land_on_their_step_and_a_palette_step_is_saved(server, http, page):
    flow = (server.root / "sales.flow.yaml").read_text().replace("amount >= @min_amount", "amout >= 1")
    (server.root / "broken.flow.yaml").write_text(flow)
    open_lab(page, server)
    open_flow(page, "broken.flow.yaml")
    problem = page.locator('.aqtra-problem[data-aqtra-step="big"]')
    problem.wait_for(timeout=30_000)
    assert problem.get_attribute("data-aqtra-field") == "condition" and "amount" in problem.inner_text()
    assert "aqtra-node-problem" in page.locator('.aqtra-node[data-aqtra-step="big"]').get_attribute("class")

    select(page, "totals")
    page.locator('.aqtra-palette-item[data-aqtra-component="sort"]').dblclick()
    page.wait_for_selector('.aqtra-node[data-aqtra-step="sort"]', timeout=10_000)
    page.wait_for_selector('[data-aqtra-edge="totals->sort"]', state="attached", timeout=30_000)
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=10_000)
    saved = (server.root / "broken.flow.yaml").read_text()
    assert "component: sort" in saved and "input: totals" in saved
    assert "# a comment the editor keeps" in saved and saved.index("flow: sales") < saved.index(
        "component: sort"
    )


def test_run_shows_live_progress_on_the_canvas_and_undo_works(server, page):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    page.locator(".aqtra-run-button").click()
    for step, rows in [("orders", "100"), ("big", "90"), ("slow", "90"), ("totals", "3")]:
        node = page.locator(f'.aqtra-node[data-aqtra-step="{step}"][data-aqtra-status="succeeded"]')
        node.wait_for(timeout=60_000)
        assert node.get_attribute("data-aqtra-rows") == rows
    page.wait_for_function(
        "() => document.querySelector('.aqtra-run-state').textContent.endsWith('succeeded')", timeout=30_000
    )
    # again: the CSV read and the filter come from the step cache (each run is its own process: what was
    # written to disk), the impure script and what follows run; the nodes say so
    first = page.locator(".aqtra-run-state").inner_text()
    page.locator(".aqtra-run-button").click()
    page.wait_for_function(
        "first => { const text = document.querySelector('.aqtra-run-state').textContent;"
        " return text !== first && text.endsWith('succeeded'); }",
        arg=first,
        timeout=60_000,
    )
    cached = {
        step: page.locator(f'.aqtra-node[data-aqtra-step="{step}"]').get_attribute("data-aqtra-cached")
        for step in ("orders", "big", "slow", "totals")
    }
    assert cached == {"orders": "true", "big": "true", "slow": "false", "totals": "false"}
    assert "cached" in page.locator('.aqtra-node[data-aqtra-step="orders"] .aqtra-node-cached').inner_text()
    assert not page.locator('.aqtra-node[data-aqtra-step="totals"] .aqtra-node-cached').count()
    select(page, "totals")
    page.locator('.aqtra-palette-item[data-aqtra-component="limit"]').dblclick()
    page.wait_for_selector('.aqtra-node[data-aqtra-step="limit"]', timeout=10_000)
    page.get_by_title("Undo (Ctrl+Z)").click()
    page.wait_for_selector('.aqtra-node[data-aqtra-step="limit"]', state="detached", timeout=10_000)
    page.get_by_title("Redo (Ctrl+Shift+Z)").click()
    page.wait_for_selector('.aqtra-node[data-aqtra-step="limit"]', timeout=10_000)


def test_rename_keeps_references_and_copy_paste_adds_a_step(server, page):
    (server.root / "rename.flow.yaml").write_text((server.root / "sales.flow.yaml").read_text())
    open_lab(page, server)
    open_flow(page, "rename.flow.yaml")
    page.wait_for_selector('[data-aqtra-edge="orders->big"]', state="attached", timeout=30_000)
    for _ in range(20):  # the canvas mounts again once laid out; a double-click before that is lost
        page.locator('.aqtra-node[data-aqtra-step="big"]').dblclick()
        if page.locator(".aqtra-rename").count():
            break
        page.wait_for_timeout(250)
    page.locator(".aqtra-rename").fill("orders")
    page.locator(".aqtra-rename").press("Enter")
    assert "exists already" in page.locator(".aqtra-rename-error").inner_text()
    page.locator(".aqtra-rename").fill("large")
    page.locator(".aqtra-rename").press("Enter")
    page.wait_for_selector('.aqtra-node[data-aqtra-step="large"]', timeout=10_000)
    for edge in ["orders->large", "large->slow"]:
        page.wait_for_selector(f'[data-aqtra-edge="{edge}"]', state="attached", timeout=30_000)
    select(page, "large")
    page.locator(".aqtra-flow-editor").press("Control+c")
    page.locator(".aqtra-flow-editor").press("Control+v")
    page.wait_for_selector('.aqtra-node[data-aqtra-step="filter"]', timeout=10_000)
    page.wait_for_selector('[data-aqtra-edge="large->filter"]', state="attached", timeout=30_000)
    box = page.locator('.aqtra-node[data-aqtra-step="orders"]').bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 120, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    moved = page.locator('.aqtra-node[data-aqtra-step="orders"]').bounding_box()
    assert moved["y"] > box["y"] + 50  # the step stays where it was dropped
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=10_000)
    saved = (server.root / "rename.flow.yaml").read_text()
    assert "ui: {x:" in saved  # its position is kept in the file
    assert "id: large" in saved and "input: large" in saved and "id: big" not in saved
    assert (
        saved.count('condition: "amount >= @min_amount"') + saved.count("condition: amount >= @min_amount")
        == 2
    )
