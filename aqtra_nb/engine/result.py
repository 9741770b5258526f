"""What a run returns: status, per-step rows and seconds, and the collected output frames."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .events import RunEvent

StepStatus = Literal["pending", "succeeded", "failed"]


@dataclass
class StepResult:
    id: str
    component: str
    status: StepStatus = "pending"
    rows: int | None = None
    seconds: float | None = None
    error: str | None = None
    cached: bool = False  # its output came from the step cache, or nothing after it needed it run

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "status": self.status,
            "rows": self.rows,
            "seconds": None if self.seconds is None else round(self.seconds, 6),
            "cached": self.cached,
            "error": self.error,
        }


@dataclass
class RunResult:
    """Built from the run's event stream; `result[step_id]` is that step's output as a pandas frame."""

    run_id: str
    flow: str
    parameters: dict[str, Any]
    steps: dict[str, StepResult]
    status: Literal["running", "succeeded", "failed"] = "running"
    seconds: float | None = None
    error: str | None = None
    outputs: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: what the run read and wrote, with versions and code (`engine/lineage.py`); None before it started
    lineage: dict[str, Any] | None = field(default=None, repr=False)
    _compute_step: Callable[[str], pd.DataFrame] | None = field(default=None, repr=False)

    def on_event(self, event: RunEvent) -> None:
        """The result is one listener of the event stream, like the progress bar and the store."""
        step = self.steps.get(event.step) if event.step else None
        if event.kind == "step_finished" and step is not None:
            step.status, step.rows, step.seconds = "succeeded", event.rows, event.seconds
            step.cached = bool(event.cached)
        elif event.kind == "step_failed" and step is not None:
            step.status, step.error = "failed", event.error
        elif event.kind == "run_finished":
            self.status, self.seconds = "succeeded", event.seconds
        elif event.kind == "run_failed":
            self.status, self.seconds, self.error = "failed", event.seconds, event.error

    def __getitem__(self, step_id: str) -> pd.DataFrame:
        if step_id in self.outputs:
            return self.outputs[step_id]
        if step_id not in self.steps:
            raise KeyError(f"no step {step_id!r} in flow {self.flow!r}; steps: {', '.join(self.steps)}")
        if self._compute_step is None:
            raise KeyError(f"step {step_id!r} was not collected; run with outputs=[{step_id!r}]")
        frame = self._compute_step(step_id)
        self.outputs[step_id] = frame
        return frame

    def __contains__(self, step_id: object) -> bool:
        return step_id in self.steps

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "status": self.status,
            "seconds": None if self.seconds is None else round(self.seconds, 6),
            "parameters": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in self.parameters.items()
            },
            "error": self.error,
            "steps": {sid: step.to_dict() for sid, step in self.steps.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def summary(self) -> pd.DataFrame:
        """Per-step rows and seconds as a frame."""
        return pd.DataFrame([{"step": s.id, **s.to_dict()} for s in self.steps.values()]).set_index("step")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(s.id)}</td><td>{html.escape(s.component)}</td><td>{s.status}</td>"
            f"<td style='text-align:right'>{'' if s.rows is None else f'{s.rows:,}'}</td>"
            f"<td style='text-align:right'>{'' if s.seconds is None else f'{s.seconds:.3f}'}</td>"
            f"<td>{'cached' if s.cached else ''}</td></tr>"
            for s in self.steps.values()
        )
        error = (
            f"<p style='color:var(--jp-error-color1,#b00020)'>{html.escape(self.error)}</p>"
            if self.error
            else ""
        )
        seconds = "" if self.seconds is None else f" in {self.seconds:.2f} s"
        return (
            f"<div><b>{html.escape(self.flow)}</b>: {self.status}{seconds}{error}"
            "<table><thead><tr><th>step</th><th>component</th><th>status</th><th>rows</th><th>seconds</th><th></th></tr>"
            f"</thead><tbody>{rows}</tbody></table>{self._outputs_html()}</div>"
        )

    def _outputs_html(self, shown: int = 5, rows: int = 10) -> str:
        """The collected outputs' first rows, numbers formatted for people (the frames stay as they are)."""
        from .number_format import frame_html

        parts = [
            f"<details><summary>{html.escape(name)}: first rows</summary>{frame_html(frame, rows)}</details>"
            for name, frame in list(self.outputs.items())[:shown]
            if isinstance(frame, pd.DataFrame)
        ]
        return "".join(parts)

    def show(self, step_id: str, rows: int = 20) -> Any:
        """A step's output displayed for people: thousands separators, sensible decimals (`.frame` is the
        data, unchanged)."""
        from .number_format import FormattedFrame

        return FormattedFrame(self[step_id], rows)

    def __repr__(self) -> str:
        return f"RunResult(flow={self.flow!r}, status={self.status!r}, steps={len(self.steps)})"
