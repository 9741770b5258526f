"""`Chart`: bar, horizontal bar, line, pie/donut and scatter charts of a frame, redrawn when it changes.

Drawn by plotly's `FigureWidget` (an anywidget whose plotly.js ships inside the plotly package: nothing is
loaded from a CDN for these chart kinds). Under `aqtra-nb publish` the figure loads plotly.js from the
server instead of carrying it in its widget state (`aqtra_nb.publish.static`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..errors import AqtraError, did_you_mean
from ..publish import static
from .source import FrameSource

ChartKind = Literal["bar", "hbar", "line", "pie", "donut", "scatter"]
KINDS: tuple[str, ...] = ("bar", "hbar", "line", "pie", "donut", "scatter")


class ChartError(AqtraError):
    """A chart names a column its data does not have, or an unknown kind."""


class Chart(FrameSource, w.VBox):
    """A chart of `data`: `x` (categories or labels) against one or more `y` columns.

    For pie and donut charts `x` gives the labels and the first `y` the values. DOM hook: `.aqtra-chart`
    around plotly's figure; `chart.figure` is the `plotly.graph_objects.FigureWidget`.
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
        self.kind, self.x = kind, x
        self.y = [y] if isinstance(y, str) else list(y)
        if not self.y:
            raise ChartError("a chart needs at least one y column", field="y")
        self._bind_source(data, step, flow)
        self.figure = _figure_class()(
            layout={
                "title": {"text": title},
                "height": height,
                "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            }
        )
        super().__init__([self.figure])
        self.add_class("aqtra-chart")
        self.add_class(f"aqtra-chart-{kind}")
        self._load_source(data)

    @t.observe("data")
    def _redraw(self, change: dict[str, Any]) -> None:
        frame = change["new"]
        traces = [] if frame is None else self._traces(frame)
        current = self.figure.data
        if len(current) == len(traces) and all(
            a.type == b.type for a, b in zip(current, traces, strict=True)
        ):
            # same traces, new values: update in place (one message; plotly.js restyles, no re-creation)
            with self.figure.batch_update():
                for old, new in zip(current, traces, strict=True):
                    old.update(new.to_plotly_json())
        else:
            self.figure.data = ()
            if traces:
                self.figure.add_traces(traces)
        self.figure.layout.showlegend = self.kind in ("pie", "donut") or len(self.y) > 1
        self._sync_initial_state()

    def _sync_initial_state(self) -> None:
        """Plotly sends trace changes as messages to the views that exist; a view made later (a page
        rendered after the first run, a tab opened later) starts from `_widget_data`/`_widget_layout`,
        which plotly refreshes only when the figure itself is displayed, not inside a container."""
        self.figure._widget_data = copy.deepcopy(self.figure._data)
        self.figure._widget_layout = copy.deepcopy(self.figure._layout_obj._props)

    def _traces(self, frame: pd.DataFrame) -> list[Any]:
        import plotly.graph_objects as go

        columns = [str(c) for c in frame.columns]
        for name, field in [(self.x, "x"), *((c, "y") for c in self.y)]:
            if name not in frame.columns:
                raise ChartError(
                    f"the chart's column {name!r} is not in its data.{did_you_mean(name, columns)} "
                    f"Columns: {', '.join(columns)}",
                    field=field,
                )
        x = frame[self.x].tolist()
        if self.kind in ("pie", "donut"):
            hole = 0.5 if self.kind == "donut" else 0.0
            return [go.Pie(labels=x, values=frame[self.y[0]].tolist(), hole=hole, name=self.y[0], sort=False)]
        traces = []
        for column in self.y:
            values = frame[column].tolist()
            if self.kind == "bar":
                traces.append(go.Bar(x=x, y=values, name=column))
            elif self.kind == "hbar":
                traces.append(go.Bar(x=values, y=x, name=column, orientation="h"))
            elif self.kind == "line":
                traces.append(go.Scatter(x=x, y=values, name=column, mode="lines+markers"))
            else:
                traces.append(go.Scatter(x=x, y=values, name=column, mode="markers"))
        return traces


def _figure_class() -> type:
    """Plotly's `FigureWidget`, or under a published server the same figure loading plotly.js from the
    server (its widget state is then a few hundred bytes instead of ~5 MB)."""
    import plotly.graph_objects as go

    return _published_figure_class() if static.published() else go.FigureWidget


@functools.cache
def _published_figure_class() -> type:
    import plotly.graph_objects as go

    class PublishedFigureWidget(go.FigureWidget):
        _esm = static.plotly_loader()

    return PublishedFigureWidget
