"""The step cache as one run uses it (in-memory and partitioned runs alike): the plan's step keys, which
steps load from the cache and which run, and saving what ran."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..components.base import FrameInput, is_dask
from .cache import StepCache, size_of
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

    def load(self, step_id: str, partitioned: bool = False) -> Any:
        """The step's cached output, or None. `partitioned`: a partitioned entry as a Dask frame (other
        entries as pandas frames, as in-memory runs get every entry)."""
        key = self.keys.get(step_id)
        if key is None:
            return None
        found = self.cache.load_partitioned(key) if partitioned else None
        return self.cache.load(key) if found is None else found

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
        write = step_id in self.asked or self.cache.worth_writing(seconds, size_of(frame))
        self.cache.save(key, frame, flow=self.flow, step=step_id, component=component.name, write=write)

    def writes_parts(self, plan: Plan, step_id: str) -> bool:
        """True for a step a partitioned run may write as it computes it: it has a key, may be stored,
        and was not found not worth writing before (its output's row count was kept instead: a Parquet
        read, say, is as quick to repeat as to load, so its parts are written once, then not staged)."""
        key = self.keys.get(step_id)
        if key is None or not plan.steps[step_id].component.store_in_cache:
            return False
        return step_id in self.asked or not self.cache.judged_not_worth_writing(key)

    def save_parts(
        self,
        plan: Plan,
        step_id: str,
        staging: Path,
        parts: list[tuple | None],
        rows: int,
        size: int,
        seconds: float,
    ) -> None:
        """Keep a partitioned step's staged parts as its entry when every part was written and it is worth
        it (as `save` decides for frames), else drop them (and keep its row count)."""
        key = self.keys[step_id]
        assert key is not None
        if None in parts or not (step_id in self.asked or self.cache.worth_writing(seconds, size)):
            self.cache.discard(staging, key, rows)
            return
        component = plan.steps[step_id].component.name
        listing = [list(p) for p in parts if p is not None]
        self.cache.commit_parts(
            key, staging, listing, rows=rows, flow=self.flow, step=step_id, component=component
        )


def _wanted(plan: Plan, targets: list[str]) -> set[str]:
    return set().union(*(ancestors(plan, t) for t in targets)) if targets else set()


def from_cache(
    plan: Plan, targets: list[str], cache: CacheUse | None, partitioned: bool = False
) -> tuple[dict[str, Any], set[str]]:
    """(frames loaded from the cache, steps to run): walking back from the targets, a step whose output is
    cached is loaded and what only it needed is not visited. Sinks always run. `partitioned`: partitioned
    entries come as Dask frames."""
    loaded: dict[str, Any] = {}
    run: set[str] = set()
    todo = list(targets)
    while todo:
        sid = todo.pop()
        if sid in loaded or sid in run:
            continue
        frame = None if cache is None or plan.steps[sid].component.is_sink else cache.load(sid, partitioned)
        if frame is not None:
            loaded[sid] = frame
        else:
            run.add(sid)
            todo.extend(plan.steps[sid].run_inputs)
    return loaded, run


def load_cached(
    plan: Plan,
    targets: list[str],
    cache: CacheUse | None,
    events: EventStream,
    run_id: str,
    partitioned: bool = False,
) -> tuple[dict[str, Any], set[str]]:
    """(frames loaded from the cache, steps to run) for a run of `targets`; the steps that do not run
    (loaded, or needed only by loaded ones) are reported at once as cached."""
    began = time.perf_counter()
    loaded, run = from_cache(plan, targets, cache, partitioned)
    skipped = _wanted(plan, targets) - run
    for sid in plan.order:
        if sid in skipped:
            known = sid in loaded and not is_dask(loaded[sid])
            rows = len(loaded[sid]) if known else cache.rows(plan, sid)  # type: ignore[union-attr]
            seconds = time.perf_counter() - began if sid in loaded else 0.0
            component = plan.steps[sid].component.name
            events.emit(
                RunEvent("step_finished", run_id, sid, component, rows=rows, seconds=seconds, cached=True)
            )
    return loaded, run
