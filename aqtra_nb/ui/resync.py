"""Re-send an app's widget state once a page has built its widgets, when it may have missed an update.

A page that connects while a run is finishing (a Voilà visitor of a pre-heated kernel, a slow browser)
fetches every widget's state, then registers the widgets one by one; an update the kernel sends in
between is dropped by the browser (no widget with that id yet), and the card or status keeps the
stale value until the next run. `Resync` is a hidden widget at the end of the app: it is drawn after
the widgets before it exist, and asks the kernel to send their current state once more.

Only when something may have been dropped: the kernel counts the state messages its widgets send
(`Widget.send_state`, wrapped once per process). The count goes into Resync's own state when the page
fetches it, if no widget had sent anything just before (`QUIET_SECONDS`); the page sends it back once
drawn, and an unchanged count means the page's snapshot is current. Re-sending every widget's state
costs a page a second round of redraws, which a visitor of a pre-heated kernel would wait for.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from typing import Any

import anywidget
import ipywidgets as w
import traitlets as t

from . import dom
from .page_state import PageWritable

_ESM = """
export default {
  render({ model, el }) {
    el.style.display = "none";
    model.send({ type: "resync", revision: model.get("revision") });
  },
};
"""

# Code and styles of anywidgets (a chart's holds plotly.js) never change: not sent again.
_STATIC_KEYS = frozenset({"_esm", "_css", "_anywidget_id"})
QUIET_SECONDS = 0.5  # no state sent for this long before a snapshot: none can be half-way in it


class _Sends:
    """How many widget state messages this process has sent, and when the last one went."""

    lock = threading.Lock()
    count = 0
    last = 0.0


def _counting(send_state):
    @functools.wraps(send_state)
    def send_state_counted(self: w.Widget, key: Any = None) -> None:
        with _Sends.lock:
            _Sends.count += 1
            _Sends.last = time.monotonic()
        send_state(self, key=key)

    send_state_counted.aqtra_counting = True  # type: ignore[attr-defined]
    return send_state_counted


if not getattr(w.Widget.send_state, "aqtra_counting", False):
    w.Widget.send_state = _counting(w.Widget.send_state)


class Resync(PageWritable, dom.PartsWhenAsked, anywidget.AnyWidget):
    """Hidden; on each page that draws it, the widgets under `root` send their state again if the
    page may have missed an update."""

    _esm = _ESM
    revision = t.Int(-1).tag(sync=True)  # the send count when the page took its snapshot; -1: unsure

    def __init__(self, root: w.Widget, **kwargs: Any) -> None:
        super().__init__(**dom.with_classes(kwargs, "aqtra-resync"))
        self._root = root
        self.on_msg(self._on_message)

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        """The state a page receives; `revision` is set without a message of its own."""
        with _Sends.lock:
            quiet = time.monotonic() - _Sends.last > QUIET_SECONDS
            self._trait_values["revision"] = _Sends.count if quiet else -1
        return super().get_state(key=key, drop_defaults=drop_defaults)

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if not isinstance(content, dict) or content.get("type") != "resync":
            return
        seen = content.get("revision")
        if isinstance(seen, int) and seen >= 0 and seen == _Sends.count:
            return  # nothing sent since the page's snapshot, and nothing just before it
        resend(self._root)


def resend(root: w.Widget) -> None:
    """Send the state of `root` and every widget under it."""
    for widget in _walk(root):
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
