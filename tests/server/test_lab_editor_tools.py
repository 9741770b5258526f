"""The flow editor's run tools in a real JupyterLab page: a parameters form made from the flow's typed
parameters (the run gets them), column names offered while typing an expression, a field's error shown
under the field, "Open in notebook" writing and running a cell that loads the flow, and a command (in
the palette, some with shortcuts) for every editor action."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_lab_editor import open_flow, select
from test_lab_panel import open_lab

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

FLOW_COMMANDS = [
    "aqtra:flow-run", "aqtra:flow-open-in-notebook", "aqtra:flow-fit", "aqtra:flow-undo", "aqtra:flow-redo",
    "aqtra:flow-rename-step", "aqtra:flow-delete-step", "aqtra:flow-parameters", "aqtra:flow-save",
    "aqtra:flow-schedule",
]  # fmt: skip


def command(page, name: str) -> None:
    page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('{name}'); }}")


def test_the_run_parameters_form_sets_what_the_run_gets(server, http, page):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    form = page.locator(".aqtra-run-parameters")
    form.wait_for(timeout=30_000)  # nothing selected: the flow's parameters, from its typed spec
    amount = form.locator('input[id$="min_amount"]')
    assert amount.input_value() == "10" and form.locator('input[id$="pause"]').count() == 1
    amount.fill("50")
    page.locator(".aqtra-flow-editor").focus()
    page.keyboard.press("Control+Enter")  # the Run Flow command's shortcut
    node = page.locator('.aqtra-node[data-aqtra-step="big"][data-aqtra-status="succeeded"]')
    node.wait_for(timeout=60_000)
    assert node.get_attribute("data-aqtra-rows") == "50"  # amounts 50..99
    latest = http.get(f"{server.api}/runs", params={"flow": "sales", "limit": 1}).json()["runs"][0]
    assert latest["parameters"]["min_amount"] == 50


def test_expression_fields_offer_columns_and_show_their_errors(server, page):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    select(page, "big")
    condition = page.locator('.aqtra-step-form input[id$="condition"]')
    condition.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => (document.querySelector('.aqtra-node[data-aqtra-step=\"orders\"]').title || '').includes('status')",
        timeout=30_000,
    )  # the input's columns are known once the server validated the flow
    condition.fill("")
    condition.type("amount >= 1 and sta")
    offered = page.locator(".aqtra-completions [data-aqtra-completion]")
    offered.first.wait_for(timeout=10_000)
    assert offered.all_inner_texts()[0].startswith("status")
    condition.press("Tab")
    assert condition.input_value() == "amount >= 1 and status"
    condition.type(" == 'paid' and amount >= @mi")
    page.locator('[data-aqtra-completion="@min_amount"]').wait_for(timeout=10_000)
    condition.press("Enter")
    assert condition.input_value() == "amount >= 1 and status == 'paid' and amount >= @min_amount"

    condition.fill("amout >= 1")
    error = page.locator(".aqtra-step-form").get_by_text("unknown column 'amout'", exact=False).first
    error.wait_for(timeout=30_000)  # under the field, as well as in the problems list
    page.locator('.aqtra-problem[data-aqtra-field="condition"]').wait_for(timeout=10_000)
    command(page, "aqtra:flow-undo")


def test_open_in_notebook_writes_and_runs_a_cell_that_loads_the_flow(server, page):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    page.locator(".aqtra-notebook-button").click()
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").first
    cell.locator(".jp-InputArea-editor", has_text='Flow.load("sales.flow.yaml")').wait_for(timeout=60_000)
    result = cell.locator(".jp-OutputArea-output", has_text="totals")
    result.wait_for(timeout=120_000)  # the cell ran: the run's steps, the last one `totals`, succeeded
    assert "succeeded" in result.inner_text() and "Error" not in result.inner_text()


def test_every_editor_action_is_a_command_with_shortcuts_for_run_and_save(server, page):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    found = page.evaluate(
        "ids => ids.filter(id => window.jupyterapp.commands.hasCommand(id) && window.jupyterapp.commands.isEnabled(id))",
        FLOW_COMMANDS,
    )
    assert found == FLOW_COMMANDS
    keys = page.evaluate(
        "() => window.jupyterapp.commands.keyBindings.filter(b => b.command.startsWith('aqtra:'))"
        ".map(b => [b.command, b.keys.join(' ')])"
    )
    assert ["aqtra:flow-run", "Ctrl Enter"] in keys  # Accel: Ctrl here, Cmd on a Mac
    assert page.evaluate(
        "() => window.jupyterapp.commands.keyBindings.some(b => b.command === 'docmanager:save')"
    )  # Ctrl+S saves the flow as any document
    select(page, "totals")
    command(page, "aqtra:flow-delete-step")
    page.wait_for_selector('.aqtra-node[data-aqtra-step="totals"]', state="detached", timeout=10_000)
    command(page, "aqtra:flow-undo")
    page.wait_for_selector('.aqtra-node[data-aqtra-step="totals"]', timeout=10_000)
    select(page, "totals")
    page.keyboard.press("F2")  # rename
    page.wait_for_selector(".aqtra-rename", timeout=10_000)


EXAMPLE_FLOWS = sorted(
    path
    for folder in (ROOT / "notebooks", ROOT / "aqtra_nb" / "examples")
    for path in folder.rglob("*.flow.yaml")
)


@pytest.mark.parametrize("example", EXAMPLE_FLOWS, ids=lambda p: p.name)
def test_every_example_flow_round_trips_between_python_and_the_editor(server, page, example):
    """Built in Python and saved, the flow opens as its steps and edges; a save from the editor writes
    the same text; moved on the canvas and saved, Python reads the same flow (plus its layout hint)."""
    from aqtra_nb import Flow

    name = f"roundtrip_{example.parent.name}_{example.name}"
    original = Flow.load(example)
    original.save(server.root / name)
    written = (server.root / name).read_text()
    open_lab(page, server)
    open_flow(page, name)
    expected = {step.id for step in original.spec.steps}
    page.wait_for_function(
        f"() => document.querySelectorAll('.aqtra-flow-editor .aqtra-node').length === {len(expected)}"
    )
    page.wait_for_function(
        """() => { const view = document.querySelector('.aqtra-flow-editor .react-flow').getBoundingClientRect();
            return [...document.querySelectorAll('.aqtra-flow-editor .aqtra-node')].every(node => {
                const r = node.getBoundingClientRect();
                return r.left >= view.left - 1 && r.right <= view.right + 1 && r.top >= view.top - 1
                    && r.bottom <= view.bottom + 1 && r.width > 40; }); }""",
        timeout=15_000,
    )  # the view is fitted to the laid-out steps: every one on screen, large enough to read
    shown = page.locator(".aqtra-node[data-aqtra-step]").evaluate_all(
        "els => els.map(e => e.dataset.aqtraStep)"
    )
    assert set(shown) == expected
    for step in original.spec.steps:
        for source in step.input_ids:
            page.wait_for_selector(
                f'[data-aqtra-edge="{source}->{step.id}"]', state="attached", timeout=30_000
            )
    assert page.locator("[data-aqtra-edge]").count() == sum(
        len(step.input_ids) for step in original.spec.steps
    )

    command(page, "docmanager:save")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=10_000)
    assert (server.root / name).read_text() == written  # nothing changed, nothing rewritten

    first = original.spec.steps[0].id
    box = page.locator(f'.aqtra-node[data-aqtra-step="{first}"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 + 90, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.context.model.toString().includes('ui:')", timeout=10_000
    )
    command(page, "docmanager:save")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=10_000)
    back = Flow.load(server.root / name).spec.to_document()
    moved = next(step for step in back["steps"] if step["id"] == first)
    assert set(moved.pop("ui")) == {"x", "y"}
    assert back == original.spec.to_document()


def luminance(css: str) -> float:
    """Relative luminance of an `rgb(...)`/`rgba(...)` colour (WCAG)."""
    import re

    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
    channel = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2]


def contrast(page, selector: str) -> float:
    """Contrast ratio of an element's text against the nearest background colour behind it."""
    foreground, background = page.locator(selector).first.evaluate(
        """el => {
            let node = el, bg = 'rgba(0, 0, 0, 0)';
            while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            return [getComputedStyle(el).color, bg];
        }"""
    )
    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_editor_reads_well_in_the_light_and_dark_themes(server, page, tmp_path):
    open_lab(page, server)
    open_flow(page, "sales.flow.yaml")
    select(page, "big")
    page.locator(".aqtra-preview[data-aqtra-rows]").wait_for(timeout=30_000)
    readable = [".aqtra-node-id", ".aqtra-palette-item", ".aqtra-preview td", ".aqtra-form-title"]
    colours = {}
    for theme in ["JupyterLab Light", "JupyterLab Dark"]:
        page.evaluate(
            f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})"
        )
        page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{str(theme.endswith('Light')).lower()}'",
            timeout=30_000,
        )
        page.wait_for_timeout(500)
        colours[theme] = page.locator(".aqtra-node").first.evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        for selector in readable:
            assert contrast(page, selector) >= 4.5, (theme, selector)
        page.screenshot(path=str(tmp_path / f"editor-{theme.split()[-1].lower()}.png"))
    assert colours["JupyterLab Light"] != colours["JupyterLab Dark"]
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )


def test_new_flow_from_the_file_menu(server, page):
    open_lab(page, server)
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="New").first.hover()
    page.locator(".lm-Menu-item[data-command='aqtra:new-flow']").first.click()
    page.wait_for_selector(".aqtra-flow-editor", timeout=30_000)
    title = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
    assert title.endswith(".flow.yaml") and (server.root / title).read_text().startswith("flow: untitled")


def test_a_new_flow_built_from_the_palette_runs_and_is_scheduled(server, http, page):
    """read_csv → filter → aggregate from the palette: a wrong column is an error on its step and field,
    the fixed filter's preview equals pandas, the run reaches every step, the schedule makes a job."""
    import pandas as pd

    open_lab(page, server)
    page.evaluate("async () => { await window.jupyterapp.commands.execute('aqtra:new-flow', {cwd: ''}); }")
    page.wait_for_selector(".aqtra-flow-editor .aqtra-palette-item", timeout=60_000)
    page.locator('.aqtra-palette-item[data-aqtra-component="read_csv"]').dblclick()
    page.wait_for_selector('.aqtra-node[data-aqtra-step="read_csv"]', timeout=10_000)
    select(page, "read_csv")
    page.locator('.aqtra-step-form input[id$="path"]').fill("data/orders.csv")
    page.locator('.aqtra-palette-item[data-aqtra-component="filter"]').dblclick()
    page.wait_for_selector('[data-aqtra-edge="read_csv->filter"]', state="attached", timeout=30_000)
    select(page, "filter")
    condition = page.locator('.aqtra-step-form input[id$="condition"]')
    condition.fill("amout >= 50")
    problem = page.locator('.aqtra-problem[data-aqtra-step="filter"][data-aqtra-field="condition"]')
    problem.wait_for(timeout=30_000)
    assert "amount" in problem.inner_text()  # did you mean
    condition.fill("amount >= 50")
    problem.wait_for(state="detached", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('.aqtra-preview[data-aqtra-rows]')?.dataset.aqtraRows === '20'",
        timeout=30_000,
    )
    orders = pd.read_csv(server.root / "data" / "orders.csv")
    expected = orders[orders["amount"] >= 50].head(20)
    shown = page.locator(".aqtra-preview tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.textContent))"
    )
    assert shown == [[f"{a:g}", s] for a, s in zip(expected["amount"], expected["status"], strict=True)]

    page.locator('.aqtra-palette-item[data-aqtra-component="aggregate"]').dblclick()
    page.wait_for_selector('[data-aqtra-edge="filter->aggregate"]', state="attached", timeout=30_000)
    page.evaluate(  # the aggregate's parameters, typed into the file as a text editor beside it would
        """() => { const model = window.jupyterapp.shell.currentWidget.context.model;
            model.fromString(model.toString().replace(/(component: aggregate\\n(?:.*\\n)*?\\s*with:) \\{\\}/,
                '$1 {by: [status], aggregations: {n: "count()"}}')); }"""
    )
    page.locator(".aqtra-flow-editor").focus()
    page.keyboard.press("Control+Enter")
    for step, rows in [("read_csv", "100"), ("filter", "50"), ("aggregate", "3")]:
        node = page.locator(f'.aqtra-node[data-aqtra-step="{step}"][data-aqtra-status="succeeded"]')
        node.wait_for(timeout=60_000)
        assert node.get_attribute("data-aqtra-rows") == rows
    path = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=10_000)
    saved = yaml.safe_load((server.root / path).read_text())
    reader = next(s for s in saved["steps"] if s["id"] == "read_csv")
    assert reader["with"] == {"path": "data/orders.csv"}  # what was typed; not every default of read_csv
    page.evaluate(
        # not awaited: the command resolves when its dialog closes
        f"() => {{ window.jupyterapp.commands.execute('aqtra:schedule-file', {{path: '{path}'}}); }}"
    )
    form = page.locator(".aqtra-schedule-form")
    form.wait_for(timeout=10_000)
    form.locator('input[name="name"]').fill("palette-flow")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_selector('[data-aqtra-job="palette-flow"]', timeout=15_000)
    page.locator('[data-aqtra-job="palette-flow"]').get_by_role("button", name="run").click()
    queued = None
    for _ in range(50):
        runs = http.get(f"{server.api}/runs", params={"job": "palette-flow"}).json()["runs"]
        if runs:
            queued = runs[0]
            break
        page.wait_for_timeout(300)
    assert queued is not None
    page.wait_for_selector(f'[data-aqtra-run="{queued["id"]}"]', timeout=15_000)  # in the runs panel
