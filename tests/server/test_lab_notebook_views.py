"""A notebook in a real `jupyter lab` page (Debian's Chromium through Playwright): the live flow view
follows a run step by step and previews a clicked step; a dashboard's three charts share one plotly.js;
the flow view, grid, charts and status line read well in the light and dark themes (colours from
computed styles; screenshots under the test's tmp path)."""

from __future__ import annotations

import re
import uuid

import nbformat
import pytest
from server_process import TOKEN

pytestmark = pytest.mark.slow

BUILD = """\
from aqtra_nb import Flow
f = Flow("views")
orders = f.read_csv("orders", path="data/orders.csv")
big = orders.filter("big_orders_with_a_rather_long_descriptive_name", condition="amount >= 10")
slow = big.script("slow", function="slow_steps:pause", params={"seconds": 5})
totals = slow.aggregate("totals", by=["status"], aggregations={"n": "count()"})
joined = f.join("joined", orders, totals, on="status")
joined.filter("WIDE_WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", condition="amount > 0")
"""

DASHBOARD = """\
from aqtra_nb.ui import App
g = Flow("dash")
g.read_csv("orders", path="data/orders.csv").aggregate(
    "by_status", by=["status"], aggregations={"revenue": "sum(amount)", "n": "count()"}
)
app = App(g, title="Dash")
grid = app.grid("by_status")
charts = [app.chart("by_status", kind=kind, x="status", y="revenue") for kind in ("bar", "line", "pie")]
app
"""

LONG = "big_orders_with_a_rather_long_descriptive_name"

# [foreground, background] of the first element matching a selector: its `color` (SVG: `fill`), and the
# nearest opaque background behind it (an SVG text's box: the rect before it in its group)
COLOURS = """(el) => {
  const isSvgText = el instanceof SVGElement;
  const fg = isSvgText ? getComputedStyle(el).fill : getComputedStyle(el).color;
  const opaque = (c) => c && c !== "none" && !/^rgba\\(.*, 0\\)$/.test(c) && c !== "transparent";
  const box = el.closest("g") && el.closest("g").querySelector("rect");
  if (isSvgText && box && opaque(getComputedStyle(box).fill)) return [fg, getComputedStyle(box).fill];
  for (let node = el; node; node = node.parentElement) {
    if (node instanceof SVGElement) continue;
    const bg = getComputedStyle(node).backgroundColor;
    if (opaque(bg)) return [fg, bg];
  }
  return [fg, getComputedStyle(document.body).backgroundColor];
}"""


def rgb(css: str) -> tuple[float, float, float]:
    """An `rgb()`/`rgba()` or `color(srgb ...)` colour as 0..1 channels."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    if css.startswith("color("):
        return tuple(numbers[:3])
    return tuple(n / 255 for n in numbers[:3])


def luminance(css: str) -> float:
    channel = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb(css)]
    return 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2]


def contrast(page, selector: str) -> float:
    foreground, background = page.locator(selector).first.evaluate(COLOURS)
    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def set_theme(page, theme: str) -> None:
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    light = str(theme.endswith("Light")).lower()
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000)
    page.wait_for_timeout(800)  # the charts draw again in the theme's colours


@pytest.fixture(scope="module")
def notebook_path(server) -> str:
    """The notebook, written into the server's root once for the module."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in (BUILD, "f", "result = f.run()", DASHBOARD)]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root / "views.ipynb")
    return "views.ipynb"


def open_and_run(page, server, path: str) -> None:
    page.goto(f"{server.url}/lab/workspaces/t{uuid.uuid4().hex[:10]}/tree/{path}?reset&token={TOKEN}")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=120_000,
    )
    # not awaited: the run takes a while, and the test watches it happen
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


@pytest.fixture(scope="module")
def lab_page(browser, server, notebook_path):
    """One Lab page for the module: the notebook opened and all its cells run."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    open_and_run(page, server, notebook_path)
    yield page
    context.close()


def test_the_flow_view_follows_the_run_and_previews_a_clicked_step(lab_page, tmp_path):
    page = lab_page
    view = page.locator(".aqtra-flow-view").first
    view.wait_for(timeout=120_000)
    step = lambda sid: view.locator(f'g.aqtra-flow-step[data-step="{sid}"]')  # noqa: E731
    step("slow").and_(page.locator('[data-status="running"]')).wait_for(timeout=60_000)
    assert step("orders").get_attribute("data-status") == "done"  # live: the first steps are done already
    page.screenshot(path=str(tmp_path / "flow-running.png"))
    step("WIDE_WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW").and_(page.locator('[data-status="done"]')).wait_for(
        timeout=60_000
    )
    page.wait_for_selector('.aqtra-flow-view[data-run="succeeded"]', timeout=30_000)
    assert re.fullmatch(
        r"done · 100 rows · \d+\.\d\d s", step("orders").locator(".aqtra-flow-status").text_content()
    )
    assert float(step("slow").get_attribute("data-seconds")) >= 3

    # the whole name, wrapped inside its box, and a hover title that works (inline SVG, not an <img>)
    name = step(LONG).locator(".aqtra-flow-name")
    assert name.evaluate("el => el.textContent") == LONG
    assert name.locator("tspan").count() >= 2
    inside = step(LONG).evaluate(
        """g => { const r = g.querySelector('rect').getBBox(), t = g.querySelector('.aqtra-flow-name').getBBox();
                 return t.x >= r.x && t.x + t.width <= r.x + r.width && t.y >= r.y && t.y + t.height <= r.y + r.height; }"""
    )
    assert inside
    # a name of wide letters is narrowed to its box
    fits = step("WIDE_WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW").evaluate(
        """g => { const r = g.querySelector('rect').getBBox();
                 return [...g.querySelectorAll('tspan')].every(t => t.getComputedTextLength() <= r.width - 8); }"""
    )
    assert fits
    assert step(LONG).locator("title").evaluate("el => el.textContent") == f"{LONG}: filter"
    assert page.locator(".aqtra-flow-view img").count() == 0

    # the join's two inputs end at two ports
    ends = view.locator('path.aqtra-flow-edge[data-target="joined"]').evaluate_all(
        "paths => paths.map(p => { const e = p.getPointAtLength(p.getTotalLength()); return [e.x, e.y]; })"
    )
    assert len(ends) == 2 and ends[0] != ends[1]

    step(LONG).click()
    preview = view.locator(f'.aqtra-flow-preview[data-step="{LONG}"][data-loading="false"]')
    preview.wait_for(timeout=60_000)
    assert preview.locator("tbody tr").count() == 10
    assert preview.locator("th").all_inner_texts() == ["amount", "status"]
    assert step(LONG).get_attribute("aria-pressed") == "true"
    assert step(LONG).locator("rect").evaluate("el => getComputedStyle(el).strokeWidth") == "3px"
    page.screenshot(path=str(tmp_path / "flow-preview.png"))


def test_three_charts_draw_from_one_plotly(lab_page):
    page = lab_page
    page.wait_for_function(
        "() => document.querySelectorAll('.aqtra-chart .js-plotly-plot .main-svg').length >= 3",
        timeout=120_000,
    )
    assert page.locator(".aqtra-chart .js-plotly-plot").count() == 3
    assert page.evaluate("() => typeof globalThis.__aqtraPlotly.react") == "function"
    # the page created one library model; each chart's own module is the view alone
    sizes = page.evaluate(
        """async () => {
            const mime = 'application/vnd.jupyter.widget-view+json';
            const factory = window.jupyterapp.shell.currentWidget.content.rendermime.getFactory(mime);
            const manager = await factory.createRenderer({ mimeType: mime })._manager.promise;
            const models = await Promise.all(Object.values(manager._models));
            return models.filter(m => m.get('_esm')).map(m => m.get('_esm').length);
        }"""
    )
    big = [s for s in sizes if s > 100_000]
    assert len(big) == 1, sizes


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_views_read_well_in_the_theme(lab_page, tmp_path, theme):
    page = lab_page
    page.locator(".aqtra-status .aqtra-ok").wait_for(timeout=120_000)  # "Updated in …"
    page.wait_for_function(
        "() => document.querySelectorAll('.aqtra-chart .js-plotly-plot .main-svg').length >= 3",
        timeout=120_000,
    )
    set_theme(page, theme)
    readable = [
        ".aqtra-flow-name",
        ".aqtra-flow-component",
        ".aqtra-flow-status",
        ".aqtra-flow-run",
        ".aqtra-grid-table th",
        ".aqtra-grid-table td",
        ".aqtra-grid-count",
        ".aqtra-status .aqtra-ok",
        ".aqtra-chart .xtick text",
    ]
    for selector in readable:
        assert contrast(page, selector) >= 4.5, (theme, selector)
    # the grid's header, the flow's boxes and the charts' text follow the theme (not fixed light values)
    header = page.locator(".aqtra-grid-table th").first.evaluate("el => getComputedStyle(el).backgroundColor")
    tick = page.locator(".aqtra-chart .xtick text").first.evaluate("el => getComputedStyle(el).fill")
    dark = theme.endswith("Dark")
    assert (luminance(header) < 0.2) == dark and (luminance(tick) > 0.5) == dark
    name = theme.split()[-1].lower()
    page.locator(".aqtra-flow-view").first.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / f"flow-{name}.png"))
    page.locator(".aqtra-grid").first.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / f"dashboard-{name}.png"))
    if dark:
        set_theme(page, "JupyterLab Light")
