"""`FlowStatus`: how each step of a Flow did in its latest run, kept from the run's event stream.

`Flow.run` puts one on every run's event stream (like the progress bar); the live flow views of that Flow
(`flow_view.py`) watch it. It imports no widget library, so runs outside notebooks pay nothing for it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..engine.events import RunEvent

Watcher = Callable[[dict[str, dict[str, Any]], dict[str, Any]], None]


class FlowStatus:
    """A run event listener: `steps` maps a step id to its state (pending, running, done, cached, failed, skipped)
    with rows, seconds and error; `run` holds the run's state, seconds, error and parameters."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, Any]] = {}
        self.run: dict[str, Any] = {"state": "idle"}
        self._lock = threading.Lock()
        self._watchers: weakref.WeakKeyDictionary[Any, Watcher] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, flow: Any) -> FlowStatus:
        """The one status of `flow` (made on first use, kept on the Flow)."""
        found = flow.__dict__.get("_run_status")
        if found is None:
            found = flow.__dict__.setdefault("_run_status", cls())
        return found

    def __reduce__(self) -> tuple[type, tuple]:
        """A copied or pickled Flow starts with no run shown (locks and views do not travel)."""
        return (FlowStatus, ())

    def watch(self, owner: Any, watcher: Watcher) -> None:
        """Call `watcher(steps, run)` after each event, for as long as `owner` lives."""
        self._watchers[owner] = watcher

    def __call__(self, event: RunEvent) -> None:
        with self._lock:  # Dask's threads report steps concurrently: views get the snapshots in order
            self._apply(event)
            watchers = list(self._watchers.values())
            if not watchers:  # no view shown: no snapshot (a copy per event costs O(steps) per step)
                return
            steps = {k: dict(v) for k, v in self.steps.items()}
            run = dict(self.run)
            for watcher in watchers:
                watcher(steps, run)

    def _apply(self, event: RunEvent) -> None:
        kind = event.kind
        if kind == "run_started":
            lineage = (event.data or {}).get("lineage") or {}
            self.steps = {step: {"state": "pending"} for step in lineage.get("steps", {})}
            parameters = (event.data or {}).get("parameters", {})
            self.run = {"state": "running", "run_id": event.run_id, "parameters": dict(parameters)}
        elif kind == "step_started" and event.step:
            self.steps[event.step] = {"state": "running"}
        elif kind == "step_finished" and event.step:
            state = "cached" if event.cached else "done"
            self.steps[event.step] = {"state": state, "rows": event.rows, "seconds": event.seconds}
        elif kind == "step_failed" and event.step:
            self.steps[event.step] = {"state": "failed", "error": event.error}
        elif kind in ("run_finished", "run_failed"):
            for step in self.steps.values():
                if step["state"] in ("pending", "running"):  # not needed, or stopped by a failure
                    step["state"] = "skipped"
            self.run = {
                **self.run,
                "state": "succeeded" if kind == "run_finished" else "failed",
                "seconds": event.seconds,
                "error": event.error,
            }
