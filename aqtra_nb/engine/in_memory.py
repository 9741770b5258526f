"""In-memory execution for small data: one Dask task per step, each running the component's pandas code.

Independent steps still run in parallel (Dask's threaded scheduler); a chain runs on the synchronous
scheduler, where a task costs microseconds. Each task emits its own step events with exact rows and
seconds. This is the same component code that planning runs on empty frames.

With a step cache (`CacheUse`), a step whose output is cached is loaded instead of run, the steps only it
needed are not run at all, and every step that runs saves its output.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import dask.threaded
import pandas as pd

from ..components.base import InputComponent, OutputComponent, step_failed
from ..errors import StepFailed
from .cache_use import CacheUse, from_cache, load_cached
from .events import EventStream, RunEvent
from .plan import Plan, key_filtered


class _StepTask:
    """Runs one step on pandas frames and reports it."""

    def __init__(
        self, plan: Plan, step_id: str, events: EventStream | None, run_id: str, cache: CacheUse | None = None
    ) -> None:
        self.plan, self.step_id, self.events, self.run_id = plan, step_id, events, run_id
        self.cache = cache

    def __call__(self, *inputs: pd.DataFrame) -> Any:
        step = self.plan.steps[self.step_id]
        component = step.component
        self._emit("step_started")
        began = time.perf_counter()
        try:
            if isinstance(component, InputComponent):
                frame = component.read_pandas(step.read_columns, step.read_filter)
            elif step.applied_at_source:
                frame = inputs[0]  # the reader kept only the rows the condition keeps
            else:
                frame = component.transform(key_filtered(step.key_filter, list(inputs)))
            rows = int(component.write(frame)) if isinstance(component, OutputComponent) else len(frame)
        except StepFailed:
            raise
        except Exception as exc:
            raise step_failed(exc, self.step_id, component.name, self.plan.source) from exc
        seconds = time.perf_counter() - began
        self._emit("step_finished", rows=rows, seconds=seconds, cached=False)
        if self.cache is not None and not component.is_sink:
            self.cache.save(self.plan, self.step_id, frame, seconds)
        return frame

    def _emit(self, kind: str, **values: Any) -> None:
        if self.events is not None:
            component = self.plan.steps[self.step_id].component.name
            self.events.emit(RunEvent(kind, self.run_id, self.step_id, component, **values))  # type: ignore[arg-type]


def _is_chain(plan: Plan) -> bool:
    return all(len(s.inputs) <= 1 and len(s.consumers) <= 1 for s in plan.steps.values())


def _in_order(
    plan: Plan, steps: set[str], keep: list[str], task: Any, values: dict[str, Any]
) -> dict[str, Any]:
    """Run `steps` one after another in plan order, without a scheduler (a chain has nothing to run in
    parallel; this costs nothing per step), starting from the frames in `values` (loaded from the cache).
    A frame is let go once its last consumer has run, unless kept."""
    waiting = Counter(i for sid in steps for i in plan.steps[sid].run_inputs)
    values = dict(values)
    for sid in plan.order:
        if sid not in steps:
            continue
        inputs = plan.steps[sid].run_inputs
        values[sid] = task(sid)(*[values[i] for i in inputs])
        for i in inputs:
            waiting[i] -= 1
            if not waiting[i] and i not in keep:
                del values[i]
    return {sid: values[sid] for sid in keep}


def run_in_memory(
    plan: Plan, outputs: list[str], events: EventStream, run_id: str, cache: CacheUse | None = None
) -> dict[str, pd.DataFrame]:
    """Every step that an output or a sink needs, once (sinks write); the outputs' frames returned."""
    sinks = [sid for sid in plan.order if plan.steps[sid].component.is_sink]
    targets = [*outputs, *sinks]
    loaded, run = load_cached(plan, targets, cache, events, run_id)
    task = lambda sid: _StepTask(plan, sid, events, run_id, cache)  # noqa: E731
    if _is_chain(plan):
        return _in_order(plan, run, outputs, task, loaded)
    graph: dict[str, Any] = {sid: frame for sid, frame in loaded.items()}
    graph.update({sid: (task(sid), *plan.steps[sid].run_inputs) for sid in plan.order if sid in run})
    computed = dask.threaded.get(graph, targets)
    return dict(zip(outputs, computed[: len(outputs)], strict=True))


def compute_step(plan: Plan, step_id: str, cache: CacheUse | None = None) -> pd.DataFrame:
    """One step's output (and only what it depends on), without events."""
    loaded, run = from_cache(plan, [step_id], cache)
    task = lambda sid: _StepTask(plan, sid, None, "", cache)  # noqa: E731
    return _in_order(plan, run, [step_id], task, loaded)[step_id]


def fits_in_memory(plan: Plan, limit: int) -> bool:
    """True when every reader knows its data is at most `limit` bytes in memory in total (what is left
    of it after the filter pushed into it, where the reader can tell)."""
    total = 0
    for step in plan.steps.values():
        if isinstance(step.component, InputComponent):
            size = step.component.size_hint(step.read_columns, step.read_filter)
            if size is None:
                return False
            total += size
    return total <= limit
