"""Helpers shared by the publishing tests (a uniquely named module: `conftest` is a name every test
folder has, so test modules import these from here)."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import nbformat

from aqtra_nb import datasets

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120_000  # ms: a kernel start and a first run on a busy CI machine

# A 1x1 PNG: an image next to the app, served by /voila/files/ to signed-in users only.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


SIMPLE_APP = """\
import os
import ipywidgets as widgets

print("APP-" + "RENDERED in", os.getcwd())
slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
square = widgets.HTML(value='<b class="square">9</b>')
slider.observe(lambda change: setattr(square, "value", f'<b class="square">{change.new ** 2}</b>'), "value")
widgets.VBox([slider, square])
"""


class RequestLog:
    """Every request (and websocket) a browser context makes, to check that none leaves loopback."""

    def __init__(self, context) -> None:
        self.urls: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)

    def watch(self, page) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def outside_loopback(self) -> list[str]:
        from aqtra_nb.publish.browser import is_loopback

        return [url for url in self.urls if not is_loopback(url)]


def copy_dashboard(folder: Path, scale: float = 0.002) -> Path:
    """The sales dashboard app (spec, flow, a small sales data set) in `folder`."""
    shutil.copy(ROOT / "notebooks" / "sales_dashboard.app.yaml", folder)
    (folder / "flows").mkdir(exist_ok=True)
    shutil.copy(ROOT / "notebooks" / "flows" / "sales_dashboard.flow.yaml", folder / "flows")
    datasets.write_sales(folder / "data", scale=scale, formats="parquet")
    return folder


def metric(page, label: str) -> str:
    card = page.locator(".aqtra-metric", has=page.locator(".aqtra-metric-label", has_text=label))
    return card.locator(".aqtra-metric-value").get_attribute("data-value")


def wait_for_first_run(page) -> None:
    """The run started on display succeeded and the first grid shows its rows."""
    page.locator(".aqtra-status-succeeded").wait_for(timeout=WAIT)
    page.locator(".aqtra-grid-row, .aqtra-metric-value").first.wait_for(timeout=WAIT)


def chart_bars(page, labels: set[str] | None = None) -> dict[str, float]:
    """The bars plotly drew, read from the plot's own data (x labels → y values). Waits for plotly to
    have drawn bars (a published page loads plotly.js from the server after the other widgets show,
    and a chart first drawn before its run's rows arrive has no bars yet); with `labels`, waits until
    the bars are exactly those (a chart may redraw a moment after the cards of the same run)."""
    read = (
        "() => { const gd = document.querySelector('.aqtra-chart .js-plotly-plot');"
        " return gd && gd.data ? gd.data.map(t => [Array.from(t.x || []), Array.from(t.y || [])]) : [] }"
    )
    try:
        page.wait_for_function(
            "wanted => { const gd = document.querySelector('.aqtra-chart .js-plotly-plot');"
            " if (!gd || !gd.data) return false;"
            " const xs = gd.data.flatMap(t => Array.from(t.x || []).map(String));"
            " if (!xs.length) return false;"
            " return !wanted || (xs.length === wanted.length && wanted.every(w => xs.includes(w))) }",
            arg=sorted(labels) if labels is not None else None,
            timeout=WAIT,
        )
    except Exception as error:
        raise AssertionError(
            f"the chart did not show {labels or 'bars'}: it has {page.evaluate(read)}"
        ) from error
    data = page.evaluate(read)
    return {str(x): float(y) for xs, ys in data for x, y in zip(xs, ys, strict=True)}
