"""In-memory execution for small data: one Dask task per step, each running the component's pandas code.

Independent steps still run in parallel (Dask's threaded scheduler); a chain runs on the synchronous
scheduler, where a task costs microseconds. Each task emits its own step events with exact rows and
seconds. This is the same component code that planning runs on empty frames.

With a step cache (`CacheUse`), a step whose output is cached is loaded instead of run, the steps only it
needed are not run at all, and every step that runs saves its output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dask.threaded
import pandas as pd

from ..components.base import FrameInput, InputComponent, is_dask, step_failed
from ..errors import StepFailed
from .cache import StepCache
from .events import EventStream, RunEvent
from .keys import step_keys
from .plan import Plan, ancestors


@dataclass
class CacheUse:
    """The step cache as one run uses it: the plan's step keys and where entries live."""

    cache: StepCache
    keys: dict[str, str | None]
    flow: str
    asked: frozenset[str]  # steps whose flow file says `cache: true` or `cache: {...}`: always written

    @classmethod
    def for_plan(cls, plan: Plan, cache: StepCache) -> CacheUse:
        asked = frozenset(s.id for s in plan.spec.steps if s.cache not in (None, False))
        return cls(cache, step_keys(plan), plan.spec.flow, asked)

    def load(self, step_id: str) -> pd.DataFrame | None:
        key = self.keys.get(step_id)
        return None if key is None else self.cache.load(key)

    def rows(self, plan: Plan, step_id: str) -> int | None:
        """Rows of a step that did not run: from its entry, or from the frame an input holds anyway."""
        key = self.keys.get(step_id)
        found = None if key is None else self.cache.rows(key)
        component = plan.steps[step_id].component
        if found is None and isinstance(component, FrameInput):
            frame = component.frame()
            found = None if is_dask(frame) else len(frame)
        return found

    def save(self, plan: Plan, step_id: str, frame: pd.DataFrame, seconds: float) -> None:
        """Kept in memory; written too when the flow file asks (`cache: true`) or it is worth it."""
        key, component = self.keys.get(step_id), plan.steps[step_id].component
        if key is None or not component.store_in_cache:
            return
        write = step_id in self.asked or self.cache.worth_writing(seconds, frame)
        self.cache.save(key, frame, flow=self.flow, step=step_id, component=component.name, write=write)


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
                frame = component.transform(list(inputs))
            rows = int(component.write(frame)) if component.is_sink else len(frame)
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
    waiting = {sid: sum(1 for c in plan.steps[sid].consumers if c in steps) for sid in (steps | set(values))}
    values = dict(values)
    for sid in plan.order:
        if sid not in steps:
            continue
        inputs = plan.steps[sid].inputs
        values[sid] = task(sid)(*[values[i] for i in inputs])
        for i in inputs:
            waiting[i] -= 1
            if not waiting[i] and i not in keep:
                del values[i]
    return {sid: values[sid] for sid in keep}


def _wanted(plan: Plan, targets: list[str]) -> set[str]:
    return set().union(*(ancestors(plan, t) for t in targets)) if targets else set()


def _from_cache(plan: Plan, targets: list[str], cache: CacheUse | None) -> tuple[dict[str, Any], set[str]]:
    """(frames loaded from the cache, steps to run): walking back from the targets, a step whose output is
    cached is loaded and what only it needed is not visited. Sinks always run."""
    loaded: dict[str, Any] = {}
    run: set[str] = set()
    todo = list(targets)
    while todo:
        sid = todo.pop()
        if sid in loaded or sid in run:
            continue
        frame = None if cache is None or plan.steps[sid].component.is_sink else cache.load(sid)
        if frame is not None:
            loaded[sid] = frame
        else:
            run.add(sid)
            todo.extend(plan.steps[sid].inputs)
    return loaded, run


def load_cached(
    plan: Plan, targets: list[str], cache: CacheUse | None, events: EventStream, run_id: str
) -> tuple[dict[str, Any], set[str]]:
    """(frames loaded from the cache, steps to run) for a run of `targets`; the steps that do not run
    (loaded, or needed only by loaded ones) are reported at once as cached."""
    began = time.perf_counter()
    loaded, run = _from_cache(plan, targets, cache)
    skipped = _wanted(plan, targets) - run
    for sid in plan.order:
        if sid in skipped:
            rows = len(loaded[sid]) if sid in loaded else cache.rows(plan, sid)  # type: ignore[union-attr]
            seconds = time.perf_counter() - began if sid in loaded else 0.0
            component = plan.steps[sid].component.name
            events.emit(
                RunEvent("step_finished", run_id, sid, component, rows=rows, seconds=seconds, cached=True)
            )
    return loaded, run


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
    graph.update({sid: (task(sid), *plan.steps[sid].inputs) for sid in plan.order if sid in run})
    computed = dask.threaded.get(graph, targets)
    return dict(zip(outputs, computed[: len(outputs)], strict=True))


def compute_step(plan: Plan, step_id: str, cache: CacheUse | None = None) -> pd.DataFrame:
    """One step's output (and only what it depends on), without events."""
    loaded, run = _from_cache(plan, [step_id], cache)
    task = lambda sid: _StepTask(plan, sid, None, "", cache)  # noqa: E731
    return _in_order(plan, run, [step_id], task, loaded)[step_id]


def fits_in_memory(plan: Plan, limit: int) -> bool:
    """True when every reader knows its data is at most `limit` bytes in memory in total."""
    total = 0
    for step in plan.steps.values():
        if isinstance(step.component, InputComponent):
            size = step.component.size_hint(step.read_columns)
            if size is None:
                return False
            total += size
    return total <= limit
