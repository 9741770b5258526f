"""One stream of run events. The progress bar, the run result and (later) the run store all read it."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__name__)

EventKind = Literal[
    "run_started", "step_started", "step_finished", "step_failed", "run_finished", "run_failed"
]


@dataclass(frozen=True)
class RunEvent:
    kind: EventKind
    run_id: str
    step: str | None = None
    component: str | None = None
    rows: int | None = None
    seconds: float | None = None
    error: str | None = None
    cached: bool | None = None  # step_finished: the output came from the step cache (the step did not run)
    time: float = field(default_factory=time.time)
    data: dict[str, Any] | None = None  # run_started: {"flow": name, "parameters": values}


Listener = Callable[[RunEvent], None]


class EventStream:
    """Fan-out of run events to listeners; a failing listener is logged, never breaks the run."""

    def __init__(self, listeners: list[Listener] | None = None) -> None:
        self.listeners: list[Listener] = list(listeners or [])

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def emit(self, event: RunEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("run event listener %r failed", listener)


class EventLog:
    """A listener that appends each event as one JSON line to a file, flushed at once: another process
    (the Jupyter server's `runs/{id}/events`) follows a run by reading the file as it grows."""

    def __init__(self, path: str, run_id: str | None = None) -> None:
        self.path = path
        self.run_id = run_id  # the stored run's id, when the engine's own differs (job and API runs)

    def __call__(self, event: RunEvent) -> None:
        record = dataclasses.asdict(event)
        if self.run_id is not None:
            record["run_id"] = self.run_id
        line = json.dumps(record, default=str, separators=(",", ":"))
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
