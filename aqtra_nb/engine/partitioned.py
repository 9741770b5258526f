"""Partitioned execution: every step a Dask DataFrame, the whole flow one Dask graph.

Next to the outputs and the sinks' writes, the graph holds a tiny counter per step partition (rows and
completion time), so per-step rows and seconds come from the same computation, on the local threaded
scheduler or a `dask.distributed` cluster alike.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from dask.callbacks import Callback

from ..components.base import InputComponent, is_dask, step_failed
from ..components.file_errors import later_block_message, later_block_mismatch
from ..errors import AqtraError, StepFailed
from .cache_use import CacheUse, load_cached
from .events import EventStream, RunEvent
from .plan import Plan, ancestors

COUNTER_COLUMNS = ["__aqtra_step__", "rows", "finished"]


class _Counter:
    """Per partition: (step id, rows, completion time). Its results are the per-step records."""

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id

    def __dask_tokenize__(self) -> tuple[str, str]:
        return ("aqtra-counter", self.step_id)

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {"__aqtra_step__": [self.step_id], "rows": [len(part)], "finished": [time.time()]}
        )


COUNTER_META = pd.DataFrame(
    {
        "__aqtra_step__": pd.Series([], dtype=object),
        "rows": pd.Series([], dtype="int64"),
        "finished": pd.Series([], dtype="float64"),
    }
)


def build_frames(
    plan: Plan,
    until: str | None = None,
    loaded: dict[str, pd.DataFrame] | None = None,
    run: set[str] | None = None,
) -> tuple[dict[str, dd.DataFrame], dict[str, Any]]:
    """The lazy Dask frame of every step (only `until`'s ancestors if given; with a step cache, only the
    steps to `run`, the `loaded` ones made partitions of their cached frames) and the sinks' write tasks."""
    wanted = ancestors(plan, until) if until else set(plan.order)
    loaded = loaded or {}
    frames: dict[str, dd.DataFrame] = {}
    writes: dict[str, Any] = {}
    for step_id in plan.order:
        if step_id in loaded:
            frames[step_id] = _partitions(loaded[step_id])
            continue
        if step_id not in wanted or (run is not None and step_id not in run):
            continue
        step = plan.steps[step_id]
        component = step.component
        try:
            if isinstance(component, InputComponent):
                frame = component.read(step.read_columns, step.read_filter)
            elif step.applied_at_source:
                frame = frames[step.inputs[0]]  # the reader kept only the rows the condition keeps
            else:
                frame = component.transform([frames[i] for i in step.inputs])
            if component.is_sink and until is None:
                writes[step_id] = component.write(frame)
        except StepFailed:
            raise
        except Exception as exc:
            raise step_failed(exc, step_id, component.name, plan.source) from exc
        frames[step_id] = frame
    return frames, writes


def _partitions(frame: pd.DataFrame) -> dd.DataFrame:
    with dask.config.set({"dataframe.convert-string": False}):  # keep the cached dtypes as they are
        return dd.from_pandas(frame, npartitions=max(1, -(-len(frame) // 250_000)), sort=False)


def run_partitioned(
    plan: Plan,
    outputs: list[str],
    events: EventStream,
    run_id: str,
    started: float,
    get: Any,
    local: bool,
    cache: CacheUse | None = None,
) -> dict[str, pd.DataFrame]:
    """Compute sinks, outputs and counters in one `dask.compute`; emits `step_finished` events. With a
    step cache, cached outputs are loaded instead (and what only they needed is not built), and the
    outputs computed are saved: their frames are collected anyway; steps between are not written."""
    sinks = [sid for sid in plan.order if plan.steps[sid].component.is_sink]
    loaded, run = load_cached(plan, [*outputs, *sinks], cache, events, run_id) if cache else ({}, None)
    tracker = _StepTracker(plan, events, run_id, started, run)
    frames, writes = build_frames(plan, loaded=loaded, run=run)
    counters = {
        sid: frames[sid].map_partitions(_Counter(sid), meta=COUNTER_META, enforce_metadata=False)
        for sid in plan.order
        if sid in frames and sid not in writes and sid not in loaded
    }
    tracker.expect({sid: frames[sid].npartitions for sid in counters})
    for sid in tracker.steps:
        events.emit(RunEvent("step_started", run_id, sid, plan.steps[sid].component.name))
    with tracker if local else contextlib.nullcontext():
        try:
            written, collected, counted = dask.compute(
                list(writes.values()), [frames[o] for o in outputs], list(counters.values()), scheduler=get
            )
        except ValueError as exc:
            error = _reader_error(plan, exc)
            if error is None:
                raise
            raise error from exc
    tracker.finish_all(dict(zip(writes, written, strict=True)), counted)
    results = dict(zip(outputs, collected, strict=True))
    if cache is not None:
        for sid, frame in results.items():
            if sid not in loaded and not is_dask(frame):
                cache.save(plan, sid, frame, tracker.seconds.get(sid, 0.0))
    return results


def _reader_error(plan: Plan, exc: ValueError) -> AqtraError | None:
    """A CSV block further down a file that does not fit the types guessed from its first rows, as an
    error of the reader step whose output has those columns (Dask raises it from its own read task)."""
    columns = later_block_mismatch(exc)
    if columns is None:
        return None
    for sid in plan.order:
        step = plan.steps[sid]
        if step.component.name == "read_csv" and set(columns) <= set(step.columns):
            path = str(step.component.params.path)
            message = later_block_message(path, columns, exc)
            return AqtraError(message, step=sid, field="dtypes")
    return None


def compute_step(plan: Plan, step_id: str, get: Any) -> pd.DataFrame:
    return build_frames(plan, until=step_id)[0][step_id].compute(scheduler=get)


def preview_step(plan: Plan, step_id: str, rows: int) -> pd.DataFrame:
    """The first `rows` of a step, computing 1, 4, 16, ... partitions until there are enough."""
    frame = build_frames(plan, until=step_id)[0][step_id]
    total, n = frame.npartitions, 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        while True:
            head = frame.head(rows, npartitions=n if n < total else -1, compute=True)
            if len(head) >= rows or n >= total:
                return head
            n *= 4


class _StepTracker(Callback):
    """Turns counter results into `step_finished` events, live on local schedulers, at the end otherwise.

    A step's seconds are the time from its inputs being complete (or the run's start) to its own output
    being complete.
    """

    def __init__(
        self, plan: Plan, events: EventStream, run_id: str, started: float, run: set[str] | None = None
    ) -> None:
        super().__init__()
        self.plan, self.events, self.run_id, self.started = plan, events, run_id, started
        self.steps = [sid for sid in plan.order if run is None or sid in run]  # what this run computes
        self.expected: dict[str, int] = {}
        self.seen: dict[str, list[tuple[int, float]]] = {}
        self.finished: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def expect(self, partitions: dict[str, int]) -> None:
        self.expected = partitions

    def _posttask(self, key, value, dsk, state, worker_id) -> None:
        if isinstance(value, pd.DataFrame) and list(value.columns) == COUNTER_COLUMNS and len(value) == 1:
            step_id = value["__aqtra_step__"].iat[0]
            records = self.seen.setdefault(step_id, [])
            records.append((int(value["rows"].iat[0]), float(value["finished"].iat[0])))
            if len(records) == self.expected.get(step_id) and step_id not in self.finished:
                self._record(step_id, sum(r for r, _ in records), max(t for _, t in records))

    def finish_all(self, written: dict[str, int], counted: list[pd.DataFrame]) -> None:
        now = time.time()
        for frame in counted:
            if len(frame) and frame["__aqtra_step__"].iat[0] not in self.finished:
                self._record(
                    frame["__aqtra_step__"].iat[0], int(frame["rows"].sum()), float(frame["finished"].max())
                )
        for step_id, rows in written.items():
            self._record(step_id, int(rows), now)
        for step_id in self.steps:
            if step_id not in self.finished:  # a step with no partitions
                self._record(step_id, 0, now)

    def _record(self, step_id: str, rows: int, at: float) -> None:
        inputs = [self.finished.get(i, self.started) for i in self.plan.steps[step_id].inputs]
        began = max(inputs, default=self.started)
        self.finished[step_id] = at
        self.seconds[step_id] = max(0.0, at - began)
        component = self.plan.steps[step_id].component.name
        self.events.emit(
            RunEvent(
                "step_finished", self.run_id, step_id, component, rows=rows, seconds=max(0.0, at - began)
            )
        )
