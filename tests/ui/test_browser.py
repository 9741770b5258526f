"""The data grid's view in real headless Chromium (served by `aqtra-nb publish` on loopback): header
clicks sort, a typed filter filters (or shows its error), the pager pages, a row click selects and the
selection reaches the kernel. The published dashboard itself is tested in tests/publish/."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from aqtra_nb.publish.process import PublishedServer

pytestmark = pytest.mark.slow
WAIT = 120_000

GRID_APP = """\
import ipywidgets as widgets
import pandas as pd
from aqtra_nb.ui import DataGrid

frame = pd.DataFrame({"id": range(100), "score": [(i * 37) % 101 for i in range(100)],
                      "team": ["red", "blue", "green", "gold"] * 25})
grid = DataGrid(frame, page_size=10, selection_mode="multiple")
echo = widgets.HTML('<span class="echo"></span>')
grid.observe(lambda change: setattr(echo, "value", f'<span class="echo">{sorted(change.new)}</span>'), "selection")
widgets.VBox([grid, echo])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("grid_app")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(GRID_APP)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "grid.ipynb")
    with PublishedServer(["publish", "grid.ipynb", "--port", "0"], cwd=folder) as running:
        yield running


def settled(page) -> None:
    """The grid shows the server's answer to the last action."""
    page.wait_for_function("document.querySelector('.aqtra-grid').dataset.loading === 'false'", timeout=WAIT)


def column(page, name: str) -> list[str]:
    return page.locator(f".aqtra-grid td[data-column={name}]").all_inner_texts()


def test_grid_sorts_filters_pages_and_selects(server: PublishedServer, page, tmp_path: Path):
    page.goto(f"{server.url}", timeout=WAIT)
    grid = page.locator(".aqtra-grid")
    grid.locator(".aqtra-grid-row").first.wait_for(timeout=WAIT)
    assert grid.get_attribute("data-total") == "100" and grid.get_attribute("data-pages") == "10"
    assert column(page, "id")[:3] == ["0", "1", "2"]

    header = grid.locator("th[data-column=score]")
    header.click()
    settled(page)
    assert header.get_attribute("aria-sort") == "ascending"
    assert column(page, "score")[:3] == ["0", "1", "2"]
    header.click()
    settled(page)
    assert header.get_attribute("aria-sort") == "descending" and column(page, "score")[0] == "100"

    grid.locator(".aqtra-grid-next").click()
    settled(page)
    assert (
        grid.get_attribute("data-page") == "1"
        and grid.locator(".aqtra-grid-page").inner_text() == "Page 2 of 10"
    )
    assert column(page, "score")[0] == "90"  # 100..91 are on the first page

    box = grid.locator("input.aqtra-grid-filter")
    box.fill("team == 'gold' and score > 50")
    box.press("Enter")
    settled(page)
    expected = sorted(((i * 37) % 101 for i in range(3, 100, 4) if (i * 37) % 101 > 50), reverse=True)
    assert grid.get_attribute("data-total") == str(len(expected)) and grid.get_attribute("data-page") == "0"
    assert column(page, "score") == [str(s) for s in expected[:10]]
    assert set(column(page, "team")) == {"gold"}
    page.screenshot(path=tmp_path / "filtered.png", full_page=True)

    box.fill("score >")
    box.press("Enter")
    settled(page)
    assert "invalid syntax" in grid.locator(".aqtra-grid-error").inner_text()
    assert grid.get_attribute("data-total") == str(len(expected))  # the last good filter stays

    rows = grid.locator(".aqtra-grid-row")
    first, second = rows.nth(0), rows.nth(1)
    ids = [first.get_attribute("data-row-id"), second.get_attribute("data-row-id")]
    first.click()
    second.click()
    page.locator(".echo", has_text=str(sorted(int(i) for i in ids))).wait_for(timeout=WAIT)
    assert [rows.nth(i).get_attribute("aria-selected") for i in range(3)] == ["true", "true", "false"]
    page.screenshot(path=tmp_path / "selected.png", full_page=True)


CHART_PAGE = """
<div id="one" style="width: 600px"></div><div id="two" style="width: 600px"></div>
<script>window.Plotly = "the page's own";</script>
"""

MOUNT = """async ([library, code, figure]) => {
  const load = (text, tag) => import(URL.createObjectURL(new Blob([text], { type: "text/javascript" })) + tag);
  const views = [await load(code, ""), await load(code, "#again")];  // two charts: two module instances
  const listeners = [];
  const model = {
    get: (name) => (name === "figure" ? window.figure : undefined),
    on: (event, callback) => { if (event === "change:figure") listeners.push(callback); },
    off: () => {},
  };
  window.figure = figure;
  // the charts' views run first and wait; the library's module (plotly.js) comes after them
  views[0].default.render({ model, el: document.getElementById("one") });
  views[1].default.render({ model, el: document.getElementById("two") });
  await load(library, "");
  window.redraw = (next) => { window.figure = next; listeners.forEach((callback) => callback()); };
}"""


def test_a_notebook_charts_inline_module_draws_and_redraws_without_the_network(page):
    """The modules of a notebook's charts (each chart's view, and plotly.js once in the kernel's library
    widget) run from blob: URLs as anywidget runs them: the views wait for the library, draw the figure,
    redraw on change, and the page's own `window.Plotly` is left alone."""
    import pandas as pd

    from aqtra_nb.ui import Chart

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(CHART_PAGE)
    chart = Chart(
        pd.DataFrame({"region": ["North", "South"], "revenue": [3.0, 5.0]}), x="region", y="revenue"
    )
    page.evaluate(MOUNT, [chart.figure.library._esm, chart.figure._esm, chart.figure.figure])
    page.wait_for_function("document.querySelectorAll('.main-svg').length >= 2", timeout=WAIT)
    drawn = page.evaluate("document.getElementById('one').data.map(t => [t.type, t.x, t.y])")
    assert drawn == [["bar", ["North", "South"], [3.0, 5.0]]]
    assert page.evaluate("window.Plotly") == "the page's own"
    assert page.evaluate("typeof globalThis.__aqtraPlotly.react") == "function"

    chart.data = pd.DataFrame({"region": ["East"], "revenue": [7.0]})
    page.evaluate("figure => window.redraw(figure)", chart.figure.figure)
    page.wait_for_function("document.getElementById('one').data[0].x[0] === 'East'", timeout=WAIT)
    assert page.locator("#one .bars .point").count() == 1
    assert [url for url in requests if not url.startswith(("blob:", "about:", "data:"))] == []


LAYOUT_APP = """\
from aqtra_nb.ui import dom

note = dom.HTML('<span class="note">shown</span>')
hide = dom.Button(description="Hide", _dom_classes=("hide",))
hide.on_click(lambda _: setattr(note.layout, "display", "none"))  # the layout is made only now
dom.VBox([note, hide])
"""


def test_a_layout_made_after_the_page_is_drawn_reaches_it(tmp_path: Path, page):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LAYOUT_APP)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "layout.ipynb")
    with PublishedServer(["publish", "layout.ipynb", "--port", "0"], cwd=tmp_path) as running:
        page.goto(running.url, timeout=WAIT)
        note = page.locator(".note")
        note.wait_for(timeout=WAIT)
        assert note.is_visible()  # drawn without a layout model
        page.locator(".hide button, button.hide").first.click()
        note.wait_for(state="hidden", timeout=WAIT)
