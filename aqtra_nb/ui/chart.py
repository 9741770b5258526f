"""`Chart`: bar, horizontal bar, line, pie/donut and scatter charts of a frame, redrawn when it changes.

Drawn by plotly.js (its basic bundle ships in this package, `ui/static/plotly-basic.min.js`: nothing is
loaded from a CDN) through `PlotlyFigure`, a small anywidget whose state is the figure as plotly.js takes
it (`{"data": [traces], "layout": {...}}`). The traces are built here from the frame, so neither plotly's
Python package nor its 4.8 MB front end is needed. Under `aqtra-nb publish` the figure loads plotly.js
from the server instead of carrying it in its widget state (`aqtra_nb.chart_assets`); in a notebook every
chart takes it from the kernel's one `PlotlyLibrary` widget, so a page (and a saved notebook) holds one copy.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import anywidget
import ipywidgets as w
import numpy as np
import pandas as pd
import traitlets as t

from .. import chart_assets
from ..errors import AqtraError, did_you_mean
from . import dom
from .page_state import PageWritable
from .source import FrameSource

ChartKind = Literal["bar", "hbar", "line", "pie", "donut", "scatter"]
KINDS: tuple[str, ...] = ("bar", "hbar", "line", "pie", "donut", "scatter")


class ChartError(AqtraError):
    """A chart names a column its data does not have, or an unknown kind."""


class PlotlyFigure(PageWritable, dom.PartsWhenAsked, anywidget.AnyWidget):
    """A plotly.js figure, `{"data": [trace, ...], "layout": {...}}` (plotly.js's own JSON), drawn in
    the browser and redrawn (`Plotly.react`) whenever `figure` is assigned. DOM hook: `.js-plotly-plot`."""

    figure = t.Dict().tag(sync=True)

    @property
    def data(self) -> list[dict[str, Any]]:
        """The traces."""
        return self.figure.get("data", [])

    @property
    def layout(self) -> dict[str, Any]:
        return self.figure.get("layout", {})


class Chart(FrameSource, dom.VBox):
    """A chart of `data`: `x` (categories or labels) against one or more `y` columns.

    For pie and donut charts `x` gives the labels and the first `y` the values. DOM hook: `.aqtra-chart`
    around the plot; `chart.figure` is the `PlotlyFigure` (its `data` are the traces, as plotly.js takes
    them).
    """

    def __init__(
        self,
        data: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        *,
        kind: ChartKind = "bar",
        x: str,
        y: str | Sequence[str],
        title: str = "",
        step: str | None = None,
        flow: str | None = None,
        height: int = 360,
    ) -> None:
        if kind not in KINDS:
            raise ChartError(
                f"unknown chart kind {kind!r}.{did_you_mean(kind, KINDS)} Kinds: {', '.join(KINDS)}"
            )
        self.kind, self.x, self.title, self.height = kind, x, title, height
        self.y = [y] if isinstance(y, str) else list(y)
        if not self.y:
            raise ChartError("a chart needs at least one y column", field="y")
        self._bind_source(data, step, flow)
        self.figure = _figure_class(chart_assets.published())(figure={"data": [], "layout": self._layout()})
        super().__init__([self.figure], _dom_classes=("aqtra-chart", f"aqtra-chart-{kind}"))
        self._load_source(data)

    @t.observe("data")
    def _redraw(self, change: dict[str, Any]) -> None:
        frame = change["new"]
        self.figure.figure = {
            "data": [] if frame is None else self._traces(frame),
            "layout": self._layout(),
        }

    def _layout(self) -> dict[str, Any]:
        return {
            "title": {"text": self.title},
            "height": self.height,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            "showlegend": self.kind in ("pie", "donut") or len(self.y) > 1,
            "xaxis": {"automargin": True},
            "yaxis": {"automargin": True},
        }

    def _traces(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        columns = [str(c) for c in frame.columns]
        for name, field in [(self.x, "x"), *((c, "y") for c in self.y)]:
            if name not in frame.columns:
                raise ChartError(
                    f"the chart's column {name!r} is not in its data.{did_you_mean(name, columns)} "
                    f"Columns: {', '.join(columns)}",
                    field=field,
                )
        x = jsonable(frame[self.x])
        if self.kind in ("pie", "donut"):
            hole = 0.5 if self.kind == "donut" else 0.0
            values = jsonable(frame[self.y[0]])
            return [
                {"type": "pie", "labels": x, "values": values, "hole": hole, "name": self.y[0], "sort": False}
            ]
        traces = []
        for column in self.y:
            values = jsonable(frame[column])
            if self.kind == "bar":
                traces.append({"type": "bar", "x": x, "y": values, "name": column})
            elif self.kind == "hbar":
                traces.append({"type": "bar", "x": values, "y": x, "name": column, "orientation": "h"})
            else:
                mode = "lines+markers" if self.kind == "line" else "markers"
                traces.append({"type": "scatter", "x": x, "y": values, "name": column, "mode": mode})
        return traces


def jsonable(series: pd.Series) -> list[Any]:
    """A column's values as JSON carries them to plotly.js: missing and non-finite values → null, times →
    ISO text, decimals → numbers (JSON has no NaN: one would break the whole widget message)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_integer_dtype(dtype) and not series.hasnans):
        return series.tolist()
    if pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    return [_scalar(value) for value in series.tolist()]


def _scalar(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dt.date | dt.time):  # datetimes and pandas Timestamps too
        return value.isoformat()
    if isinstance(value, np.generic):
        return _scalar(value.item())
    return str(value)


@functools.cache
def _figure_class(published: bool) -> type:
    """The figure for this process: under a published server it loads plotly.js from the server; in a
    notebook it takes plotly.js from the kernel's one `PlotlyLibrary` widget (its widget state is then a
    few kilobytes, not 1.2 MB a chart)."""
    if published:
        return type("PublishedPlotlyFigure", (PlotlyFigure,), {"_esm": chart_assets.chart_loader()})
    return InlinePlotlyFigure


class PlotlyLibrary(dom.PartsWhenAsked, anywidget.AnyWidget):
    """plotly.js, once per page: the widget has no view; its module runs when the page creates its model
    and hands plotly.js to every chart of the page (`static/chart.js` waits for it). One per kernel
    (`plotly_library()`), referenced by each notebook chart, so a saved notebook holds one copy."""

    _esm = t.Unicode("").tag(sync=True)


class InlinePlotlyFigure(PlotlyFigure):
    """A notebook's figure: the chart view only, with plotly.js from the shared `PlotlyLibrary`."""

    _esm = "const Plotly = null;\n" + (chart_assets.UI_STATIC / "chart.js").read_text(encoding="utf-8")
    library = t.Instance(PlotlyLibrary).tag(sync=True, **w.widget_serialization)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(library=plotly_library(), **kwargs)


_LIBRARY: list[PlotlyLibrary] = []


def plotly_library() -> PlotlyLibrary:
    """The kernel's `PlotlyLibrary` (made again if it was closed)."""
    if not _LIBRARY or _LIBRARY[0].comm is None:
        _LIBRARY[:] = [PlotlyLibrary(_esm=library_module())]
    return _LIBRARY[0]


@functools.cache
def library_module() -> str:
    """plotly.js as an ES module that runs it once per page (kept on `globalThis`, where charts find it)
    and wakes the charts drawn before it ran; the page's own `window.Plotly`, if any, is put back."""
    return (
        "globalThis.__aqtraPlotly ??= (() => {\n"
        "const previous = globalThis.Plotly;\n"
        "const module = { exports: {} };\n"
        f"{chart_assets.PLOTLY_JS.read_text(encoding='utf-8')}\n"
        "if (previous === undefined) delete globalThis.Plotly; else globalThis.Plotly = previous;\n"
        "return module.exports;\n"
        "})();\n"
        "for (const wake of (globalThis.__aqtraPlotlyWaiters ?? []).splice(0)) wake(globalThis.__aqtraPlotly);\n"
        "export default {};\n"
    )
