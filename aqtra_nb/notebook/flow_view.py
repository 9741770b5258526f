"""`FlowView`: the flow as a live widget. Each step's state, rows and seconds follow the Flow's runs as they
happen (`FlowStatus`, a listener of the run's event stream); clicking a step shows its first rows below.

The layout is `layout.py`'s, drawn by `static/flow_view.js` in the browser (inline SVG, so names wrap,
titles show on hover and clicks reach the kernel). Where widgets do not run (nbconvert, GitHub, papermill
outputs), the display's static SVG, drawn from the same layout, stands in.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets as t

from ..errors import AqtraError
from ..ui.cells import column_kind, page_cells
from ..ui.page_state import PageWritable
from .dag import layout_svg
from .flow_status import FlowStatus
from .layout import MAX_WIDTH, flow_layout

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class FlowView(PageWritable, anywidget.AnyWidget):
    """A Flow's steps and links, with the latest run's status per step and a preview of the clicked step.

    DOM hooks: `.aqtra-flow-view[data-run]`; `g.aqtra-flow-step[data-step][data-status]` (its `title`
    holds the whole name and component, `.aqtra-flow-status` its rows and seconds);
    `path.aqtra-flow-edge[data-source][data-target][data-port]`; `.aqtra-flow-preview[data-step]`
    with a table of the step's first rows, or `.aqtra-flow-preview-error`.
    """

    _esm = STATIC / "flow_view.js"
    _css = STATIC / "flow_view.css"

    graph = t.Dict().tag(sync=True)  # layout.Layout as plain data
    steps = t.Dict().tag(sync=True)  # step id -> {state, rows, seconds, error}
    run = t.Dict().tag(sync=True)  # {state: idle|running|succeeded|failed, seconds, error, parameters}
    selected = t.Unicode("").tag(sync=True)
    preview = t.Dict().tag(sync=True)  # {step, columns: [{name, kind}], rows, total, error, loading}
    preview_rows = t.Int(10)

    page_writable: ClassVar[frozenset[str]] = frozenset({"selected"})

    def __init__(self, flow: Any, *, max_width: float = MAX_WIDTH, preview_rows: int = 10) -> None:
        self.flow = flow
        self.layout_data = flow_layout(flow.spec, max_width)
        status = FlowStatus.of(flow)
        super().__init__(
            graph=self.layout_data.to_dict(),
            steps=dict(status.steps),
            run=dict(status.run),
            preview_rows=preview_rows,
        )
        status.watch(self, self._on_status)

    def refuse_from_page(self, name: str, value: Any) -> str | None:
        if not isinstance(value, str) or (value and value not in {n["id"] for n in self.graph["nodes"]}):
            return "not a step of the flow"
        return None

    def _on_status(self, steps: dict[str, dict[str, Any]], run: dict[str, Any]) -> None:
        with self.hold_sync():
            self.steps = steps
            self.run = run

    @t.observe("selected")
    def _on_selected(self, change: dict[str, Any]) -> None:
        step = change["new"]
        if not step:
            self.preview = {}
            return
        self.preview = {"step": step, "loading": True}
        self.preview = {"step": step, "loading": False, **self._preview_of(step)}

    def _preview_of(self, step: str) -> dict[str, Any]:
        parameters = self.run.get("parameters") or {}
        try:
            frame = self.flow.preview(step, self.preview_rows, parameters=parameters)
        except AqtraError as exc:
            return {"error": exc.message}
        except Exception as exc:  # a preview must not break the view; say what happened
            logger.info("preview of %s failed", step, exc_info=True)
            return {"error": f"{type(exc).__name__}: {exc}"}
        kinds = [column_kind(frame[c].dtype) for c in frame.columns]
        return {
            "columns": [{"name": str(c), "kind": k} for c, k in zip(frame.columns, kinds, strict=True)],
            "rows": page_cells(frame, kinds),
        }

    def static_svg(self) -> str:
        """The flow as it stands now (statuses included), as a standalone SVG."""
        return layout_svg(self.layout_data, self.steps)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle = super()._repr_mimebundle_(**kwargs)
        assert bundle is not None  # anywidget's None is for a widget without a view
        data, metadata = bundle
        # SVG only (no HTML copy): nbconvert inlines it (hover titles work), and renderers that sanitize
        # HTML outputs (GitHub) would strip an <svg> inside HTML but show an SVG output
        data["image/svg+xml"] = self.static_svg()
        data["text/plain"] = f"Flow {self.graph.get('flow', '')!r}: {len(self.graph['nodes'])} steps"
        return data, metadata
