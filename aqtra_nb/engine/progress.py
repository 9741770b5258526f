"""A progress bar that listens to the run event stream: a widget in notebooks, text in terminals.

In a notebook the bar is displayed with a display id; when the run ends, that output is replaced by one
line with the final state ("sales: 3/3 steps in 0.42 s"), so a saved notebook (and a viewer without
widgets) shows how the run ended, not a bar stuck at 0%.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

from .events import RunEvent


class ProgressBar:
    def __init__(self, steps: int, flow: str) -> None:
        self.steps, self.flow = steps, flow
        self.done = 0
        self.failed: str | None = None
        self.started = time.monotonic()
        self.view: _NotebookView | _TextView = _NotebookView(self) if _in_notebook() else _TextView(self)

    def __call__(self, event: RunEvent) -> None:
        if event.kind == "step_finished":
            self.done += 1
            rows = "" if event.rows is None else f" {event.rows:,} rows"
            self.view.advance(f"{event.step}:{rows}{' (cached)' if event.cached else ''}")
        elif event.kind == "step_failed" and self.failed is None:
            self.failed = f"step {event.step!r} failed"
        elif event.kind == "run_failed":
            self.failed = self.failed or "failed"
            self.view.advance("failed", step=False)

    def final_text(self) -> str:
        seconds = time.monotonic() - self.started
        if self.failed:
            return f"{self.flow}: {self.failed} after {self.done}/{self.steps} steps ({seconds:.2f} s)"
        return f"{self.flow}: {self.done}/{self.steps} steps in {seconds:.2f} s"

    def close(self) -> None:
        self.view.close()


class _TextView:
    """tqdm on stderr, removed when the run ends (a terminal keeps the command's own output)."""

    def __init__(self, bar: ProgressBar) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm(total=bar.steps, desc=bar.flow, unit="step", leave=False)

    def advance(self, note: str, step: bool = True) -> None:
        self.tqdm.set_postfix_str(note, refresh=not step)
        if step:
            self.tqdm.update(1)

    def close(self) -> None:
        self.tqdm.close()


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class _NotebookView:
    """An ipywidgets bar shown under a display id; on close, that display becomes the final line."""

    def __init__(self, bar: ProgressBar) -> None:
        import ipywidgets as w
        from IPython.display import display

        self.bar = bar
        self.progress = w.IntProgress(value=0, min=0, max=max(bar.steps, 1), description=bar.flow)
        self.label = w.Label(value="")
        self.box = w.HBox([self.progress, self.label])
        bundle = {
            "text/plain": f"{bar.flow}: 0/{bar.steps} steps (running)",
            WIDGET_VIEW: self.box._repr_mimebundle_()[WIDGET_VIEW],
        }
        self.handle = display(bundle, raw=True, display_id=True)

    def advance(self, note: str, step: bool = True) -> None:
        if step:
            self.progress.value = self.bar.done
        else:
            self.progress.bar_style = "danger"
        self.label.value = note

    def close(self) -> None:
        text = self.bar.final_text()
        colour = "var(--jp-error-color1,#b00020)" if self.bar.failed else "var(--jp-ui-font-color2,#666)"
        self.handle.update(
            {"text/plain": text, "text/html": f'<span style="color:{colour}">{html.escape(text)}</span>'},
            raw=True,
        )
        self.box.close()
        self.progress.close()
        self.label.close()


def _in_notebook() -> bool:
    """A kernel with a front end that shows widgets (not a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell: Any = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
