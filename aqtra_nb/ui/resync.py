"""Re-send an app's widget state once a page has built its widgets.

A page that connects while a run is finishing (a Voilà visitor of a pre-heated kernel, a slow browser)
fetches every widget's state, then registers the widgets one by one; an update the kernel sends in
between is dropped by the browser (no widget with that id yet), and the card or status keeps the
stale value until the next run. `Resync` is a hidden widget at the end of the app: it is drawn after
the widgets before it exist, and asks the kernel to send their current state once more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anywidget
import ipywidgets as w

_ESM = """
export default {
  render({ model, el }) {
    el.style.display = "none";
    model.send({ type: "resync" });
  },
};
"""

# Code and styles of anywidgets (plotly's is megabytes) never change: not sent again.
_STATIC_KEYS = frozenset({"_esm", "_css", "_anywidget_id"})


class Resync(anywidget.AnyWidget):
    """Hidden; on each page that draws it, the widgets under `root` send their state again."""

    _esm = _ESM

    def __init__(self, root: w.Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._root = root
        self.add_class("aqtra-resync")
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if isinstance(content, dict) and content.get("type") == "resync":
            resend(self._root)


def resend(root: w.Widget) -> None:
    """Send the state of `root` and every widget under it (plotly figures excepted: they update by
    messages of their own, which a full state would replay)."""
    for widget in _walk(root):
        if any(cls.__module__.startswith("plotly") for cls in type(widget).__mro__):
            continue  # a plotly figure or a subclass (chart.py's published figure)
        keys = [key for key in widget.keys if key not in _STATIC_KEYS]
        if widget.comm is not None:
            widget.send_state(key=keys)


def _walk(root: w.Widget) -> Iterator[w.Widget]:
    seen: set[int] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen or isinstance(widget, Resync):
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(child for child in getattr(widget, "children", ()) if isinstance(child, w.Widget))
