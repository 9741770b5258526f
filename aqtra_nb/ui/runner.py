"""Run a flow in a background thread for an app: the notebook and the page stay responsive.

One worker thread per runner. A request made while a run is in progress waits; a newer request replaces
a waiting one (only the latest parameters matter), and a run that finishes after a newer request arrived
is superseded: its result is not shown. Every run is recorded like any other (`runs.run_flow`), on the
recorder's background thread once the widgets are updated: they do not wait for the run history's writes
(`wait` waits for them too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import traitlets as t

from ..engine import EventStream, RunEvent
from ..errors import AqtraError
from ..flow import Flow
from ..spec import FlowSpec

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 0.1  # seconds between progress updates of a run


def as_flow(flow: Flow | FlowSpec | str | Path) -> Flow:
    """A Flow from a Flow, a FlowSpec or a flow file's path."""
    if isinstance(flow, Flow):
        return flow
    if isinstance(flow, FlowSpec):
        return Flow(spec=flow)
    return Flow.load(flow)


class FlowRunner(t.HasTraits):
    """Runs one flow with given parameters in the background; traits say how it goes.

    `status`: idle, running, succeeded or failed; `error`: the failed run's message (never a traceback);
    `result`: the last shown `RunResult`; `progress`: finished steps / steps of the current run.
    """

    status = t.Enum(["idle", "running", "succeeded", "failed"], "idle")
    error = t.Unicode("")
    result = t.Any(None)
    progress = t.Float(0.0)
    parameters = t.Dict()
    runs = t.Int(0)  # runs finished (shown or superseded)

    def __init__(
        self,
        flow: Flow | FlowSpec | str | Path,
        *,
        outputs: Sequence[str] = (),
        record: Any = True,
        mode: str = "auto",
    ) -> None:
        super().__init__()
        self.flow = as_flow(flow)
        self.outputs = list(outputs)
        self.record = record
        self.mode = mode
        self._pending: dict[str, Any] | None = None
        self._worker: threading.Thread | None = None
        self._idle = threading.Condition()

    @property
    def name(self) -> str:
        return self.flow.spec.flow

    def want(self, step: str) -> None:
        """Collect this step's output in every run (bound components need it)."""
        if step not in self.outputs:
            self.outputs.append(step)

    def submit(self, parameters: Mapping[str, Any] | None = None) -> None:
        """Start a run with these parameters, or queue it behind the run in progress (replacing a queued one)."""
        with self._idle:
            self._pending = dict(parameters if parameters is not None else self.parameters)
            self.set_trait("status", "running")
            self.error = ""
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name=f"aqtra-app-{self.name}", daemon=True)
                self._worker.start()

    def wait(self, timeout: float | None = 60) -> Any:
        """Block until no run is in progress or queued; returns the shown result (None after a failure)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._worker is None, timeout=timeout):
                raise TimeoutError(f"the run of flow {self.name!r} did not finish within {timeout} s")
        if self.record:
            from ..store.recorder import flush_records

            flush_records(timeout)
        return self.result if self.status == "succeeded" else None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _work(self) -> None:
        while True:
            with self._idle:
                parameters, self._pending = self._pending, None
                if parameters is None:
                    self._worker = None
                    self._idle.notify_all()
                    return
            if self.record:
                from ..store.recorder import records_held

                with records_held():  # the run's record is written once its widgets are updated
                    self._run_once(parameters)
            else:
                self._run_once(parameters)

    def _run_once(self, parameters: dict[str, Any]) -> None:
        from ..runs import run_flow

        steps = max(len(self.flow.spec.steps), 1)
        done: set[str] = set()
        shown = [time.monotonic()]

        def on_event(event: RunEvent) -> None:
            # At most every PROGRESS_EVERY seconds: each change is a message to the page (the bar and
            # the status), and a quick run's page is better served by its results than by its steps.
            if event.kind == "step_finished" and event.step:
                done.add(event.step)
                now = time.monotonic()
                if now - shown[0] >= PROGRESS_EVERY:
                    shown[0] = now
                    self.progress = len(done) / steps

        self.progress = 0.0
        self.parameters = parameters
        try:
            result = run_flow(
                self.flow.spec,
                parameters,
                record=self.record,
                outputs=self.outputs or None,
                objects=self.flow.objects,
                progress=False,
                events=EventStream([on_event]),
                mode=self.mode,  # type: ignore[arg-type]
                record_later=True,
            )
            outcome, message = "succeeded", ""
        except AqtraError as exc:
            result, outcome, message = None, "failed", str(exc)
        except Exception as exc:  # a bug or an environment problem: a message in the app, details in the log
            logger.exception("run of flow %r failed", self.name)
            result, outcome, message = None, "failed", f"the run failed: {type(exc).__name__}: {exc}"
        with self._idle:
            superseded = self._pending is not None
            self.runs += 1
        if superseded:
            logger.info("run of flow %r superseded by a newer request", self.name)
            return
        self._show(result, outcome, message)

    def _show(self, result: Any, outcome: str, message: str) -> None:
        try:
            if result is not None:
                self.result = result
            self.error = message
            self.progress = 1.0 if outcome == "succeeded" else self.progress
        except AqtraError as exc:  # a component cannot show the result (e.g. a chart's column is missing)
            outcome, self.error = "failed", str(exc)
        except Exception as exc:  # a bug in a component: one line in the app, details in the log
            logger.exception("showing the result of flow %r failed", self.name)
            outcome, self.error = "failed", f"showing the result failed: {type(exc).__name__}: {exc}"
        with self._idle:
            if self._pending is None:  # else a newer run is about to start: stay "running"
                self.status = outcome
