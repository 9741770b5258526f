"""Plan a flow (validate, infer schemas, push down reads) and run it on Dask."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ..spec import FlowSpec
from .events import EventStream, RunEvent
from .plan import Plan, PlannedStep, plan_flow
from .progress import ProgressBar
from .result import RunResult, StepResult
from .run import Mode, preview_plan, run_plan


def execute_flow(
    spec: FlowSpec,
    parameters: Mapping[str, Any] | None = None,
    *,
    scheduler: Any = None,
    outputs: Sequence[str] | None = None,
    objects: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    events: EventStream | None = None,
    mode: Mode = "auto",
    cache: bool = True,
) -> RunResult:
    """Plan and run a flow in one call, unrecorded: what `recording.run_flow` (`runs.run_flow`, behind
    `Flow.run` and `aqtra-nb run`) runs with its recorder listening."""
    plan = plan_flow(spec, parameters, objects=objects)
    events = events or EventStream()
    if progress is None:
        progress = _interactive()
    bar = ProgressBar(len(plan.order), spec.flow) if progress else None
    if bar is not None:
        events.subscribe(bar)
    try:
        return run_plan(plan, scheduler=scheduler, outputs=outputs, events=events, mode=mode, cache=cache)
    finally:
        if bar is not None:
            bar.close()


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


__all__ = [
    "EventStream",
    "Mode",
    "Plan",
    "PlannedStep",
    "ProgressBar",
    "RunEvent",
    "RunResult",
    "StepResult",
    "execute_flow",
    "plan_flow",
    "preview_plan",
    "run_plan",
]
