"""`RunStatusView`: a progress bar and the outcome of an app's runs; errors as a message, never a traceback."""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from . import dom
from .runner import FlowRunner

STATES = ("idle", "running", "succeeded", "failed")
STYLESHEET = Path(__file__).parent / "static" / "status.css"


class RunStatusView(dom.HBox):
    """Shows a runner's progress while it runs, then "updated" or the error message.

    DOM hooks: `.aqtra-status` plus one of `.aqtra-status-idle|running|succeeded|failed`; the progress bar
    `.aqtra-progress`; the text `.aqtra-message` (with `.aqtra-error` inside on failure).
    """

    _dom_classes: tuple[str, ...]  # ipywidgets' trait (the package has no type hints)

    def __init__(self, runner: FlowRunner, **kwargs: Any) -> None:
        self.runner = runner
        self.bar = dom.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=w.Layout(width="160px"), _dom_classes=("aqtra-progress",)
        )
        self.message = dom.HTML(_dom_classes=("aqtra-message",))
        # the message's stylesheet, sent once: in each message, the page restyled itself twice a run
        self.stylesheet = dom.HTML(f"<style>{_stylesheet()}</style>", layout=w.Layout(display="none"))
        super().__init__(
            [self.bar, self.message, self.stylesheet], **dom.with_classes(kwargs, "aqtra-status")
        )
        runner.observe(self._update, names=["status", "progress", "error"])
        self._update()

    def _update(self, change: dict[str, Any] | None = None) -> None:
        runner = self.runner
        status = runner.status
        with self.hold_sync():
            # set once, and only when it changes: removing and adding a class back is a message each time
            others = [c for c in self._dom_classes if c not in {f"aqtra-status-{s}" for s in STATES}]
            classes = (*others, f"aqtra-status-{status}")
            if tuple(self._dom_classes) != classes:
                self._dom_classes = classes
            self.bar.value = runner.progress
            self.bar.bar_style = {"failed": "danger", "succeeded": "success"}.get(status, "info")
            self.bar.layout.visibility = "visible" if status == "running" else "hidden"
            message = _message(runner)
            self.message.value = message


@functools.cache
def _stylesheet() -> str:
    """The classes of the message (`static/status.css`), carried with it: an HTML widget has no other
    way to bring a stylesheet to the page, in JupyterLab and Voilà alike."""
    return STYLESHEET.read_text(encoding="utf-8")


def _message(runner: FlowRunner) -> str:
    status = runner.status
    if status == "running":
        return '<span class="aqtra-running">Running…</span>'
    if status == "failed":
        return f'<div class="aqtra-error" role="alert">{html.escape(runner.error)}</div>'
    if status == "succeeded":
        result = runner.result
        seconds = getattr(result, "seconds", None)
        took = f" in {seconds:.2f} s" if seconds is not None else ""
        return f'<span class="aqtra-ok">Updated{took}</span>'
    return ""
