"""The step cache as one run uses it (in-memory and partitioned runs alike): the plan's step keys, which
steps load from the cache and which run, and saving what ran."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..components.base import FrameInput, is_dask
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


def _wanted(plan: Plan, targets: list[str]) -> set[str]:
    return set().union(*(ancestors(plan, t) for t in targets)) if targets else set()


def from_cache(plan: Plan, targets: list[str], cache: CacheUse | None) -> tuple[dict[str, Any], set[str]]:
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
    loaded, run = from_cache(plan, targets, cache)
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
