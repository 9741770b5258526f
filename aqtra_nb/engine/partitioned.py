"""Partitioned execution: every step a Dask DataFrame, the whole flow one Dask graph.

Next to the outputs and the sinks' writes, the graph holds a tiny counter per step partition (rows and
completion time), so per-step rows and seconds come from the same computation, on the local threaded
scheduler or a `dask.distributed` cluster alike. With the step cache, on a local scheduler, the counter of
a step worth keeping also writes its partition to the cache's staging folder; the parts become the
step's entry when the run completes (docs/cache.md).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from dask.callbacks import Callback

from ..components.base import InputComponent, OutputComponent, is_dask, step_failed
from ..components.file_errors import later_block_message, later_block_mismatch
from ..errors import AqtraError, StepFailed
from .cache import size_of, write_part
from .cache_use import CacheUse, from_cache, load_cached
from .events import EventStream, RunEvent
from .plan import Plan, ancestors, key_filtered

COUNTER_COLUMNS = ["__aqtra_step__", "rows", "finished", "part", "bytes", "crc32", "memory"]


class _Counter:
    """Per partition: (step id, rows, completion time) and, when `staging` is given, the partition written
    there for the step cache (file name, or "" when Parquet cannot give it back; its bytes, CRC-32 and
    bytes in memory). Its results are the per-step records."""

    def __init__(self, step_id: str, staging: str | None = None) -> None:
        self.step_id, self.staging = step_id, staging

    def __dask_tokenize__(self) -> tuple[str, str, str | None]:
        return ("aqtra-counter", self.step_id, self.staging)

    def __call__(self, part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        finished = time.time()  # before writing: a step's seconds are its own work
        name, size, crc, memory = None, 0, 0, 0
        if self.staging is not None:
            number = partition_info["number"] if partition_info else 0
            written = write_part(self.staging, number, part)
            name, size, crc = written if written is not None else ("", 0, 0)
            memory = size_of(part)
        return pd.DataFrame(
            {
                "__aqtra_step__": [self.step_id],
                "rows": [len(part)],
                "finished": [finished],
                "part": pd.Series([name], dtype=object),
                "bytes": [size],
                "crc32": pd.Series([crc], dtype="int64"),
                "memory": [memory],
            }
        )


COUNTER_META = pd.DataFrame(
    {
        "__aqtra_step__": pd.Series([], dtype=object),
        "rows": pd.Series([], dtype="int64"),
        "finished": pd.Series([], dtype="float64"),
        "part": pd.Series([], dtype=object),
        "bytes": pd.Series([], dtype="int64"),
        "crc32": pd.Series([], dtype="int64"),
        "memory": pd.Series([], dtype="int64"),
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
            found = loaded[step_id]
            frames[step_id] = found if is_dask(found) else _partitions(found)
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
                frame = component.transform(
                    key_filtered(step.key_filter, [frames[i] for i in step.run_inputs])
                )
            if isinstance(component, OutputComponent) and until is None:
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
    step cache, the nearest cached steps are loaded instead (and what only they needed is not built); the
    outputs computed are saved from their collected frames, and, on a local scheduler, the steps between
    that are worth it write their partitions from the same graph (`_staged`)."""
    sinks = [sid for sid in plan.order if plan.steps[sid].component.is_sink]
    targets = [*outputs, *sinks]
    loaded, run = load_cached(plan, targets, cache, events, run_id, partitioned=True) if cache else ({}, None)
    tracker = _StepTracker(plan, events, run_id, started, run)
    frames, writes = build_frames(plan, loaded=loaded, run=run)
    staged = _staged(plan, frames, [*outputs, *writes, *loaded], cache) if cache and local else {}
    counters = {
        sid: frames[sid].map_partitions(
            _Counter(sid, str(staged[sid]) if sid in staged else None),
            meta=COUNTER_META,
            enforce_metadata=False,
            partition_info=True,
        )
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
            _discard(cache, staged)
            error = _reader_error(plan, exc)
            if error is None:
                raise
            raise error from exc
        except BaseException:
            _discard(cache, staged)
            raise
    tracker.finish_all(dict(zip(writes, written, strict=True)), counted)
    results = dict(zip(outputs, collected, strict=True))
    if cache is not None:
        records = dict(zip(counters, counted, strict=True))
        for sid, staging in staged.items():
            parts = records[sid].sort_values("part", kind="stable")
            cache.save_parts(
                plan,
                sid,
                staging,
                [
                    None if not p else (p, int(b), int(c))
                    for p, b, c in parts[["part", "bytes", "crc32"]].itertuples(index=False)
                ],
                rows=int(parts["rows"].sum()),
                size=int(parts["memory"].sum()),
                seconds=tracker.seconds.get(sid, 0.0),
            )
        for sid, frame in results.items():
            if sid not in loaded and not is_dask(frame):
                cache.save(plan, sid, frame, tracker.seconds.get(sid, 0.0))
    return results


def _staged(plan: Plan, frames: dict[str, dd.DataFrame], kept: list[str], cache: CacheUse) -> dict[str, Path]:
    """A staging folder for each step this run computes whose partitions are worth writing as it goes:
    not an output (saved from its collected frame), a sink or a loaded step, and either asked for
    (`cache: true`) or more than partition-wise work on its inputs (a read, a shuffle, a reduction, a
    join). A filter or a derived column is cheaper to compute again from its nearest cached input than to
    write and read back; the `worth_writing` rule then decides, from the step's seconds, which staged
    steps are kept."""
    staged: dict[str, Path] = {}
    for sid in plan.order:
        if sid not in frames or sid in kept or not cache.writes_parts(plan, sid):
            continue
        step = plan.steps[sid]
        if not isinstance(step.component, InputComponent) and sid not in cache.asked:
            if _partitionwise(frames[sid], [frames[i] for i in step.inputs if i in frames]):
                continue
        staged[sid] = cache.cache.stage()
    return staged


def _partitionwise(frame: dd.DataFrame, inputs: list[dd.DataFrame]) -> bool:
    """True when `frame` is only partition-by-partition work on `inputs` (Dask's blockwise expressions)."""
    from dask.dataframe.dask_expr._expr import Blockwise

    stop = {i.expr._name for i in inputs}
    seen: set[str] = set()
    todo = [frame.expr]
    while todo:
        expr = todo.pop()
        if expr._name in stop or expr._name in seen:
            continue
        seen.add(expr._name)
        if not isinstance(expr, Blockwise) or not expr.dependencies():
            return False  # a shuffle, a reduction, or a source of its own (a read)
        todo.extend(expr.dependencies())
    return True


def _discard(cache: CacheUse | None, staged: dict[str, Path]) -> None:
    for staging in staged.values():
        cache.cache.discard(staging)  # type: ignore[union-attr]


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


def preview_step(plan: Plan, step_id: str, rows: int, cache: CacheUse | None = None) -> pd.DataFrame:
    """The first `rows` of a step, computing 1, 4, 16, ... partitions until there are enough (cached
    steps loaded, not computed)."""
    loaded, run = from_cache(plan, [step_id], cache, partitioned=True)
    frame = build_frames(plan, until=step_id, loaded=loaded, run=run)[0][step_id]
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
            step_id = value["__aqtra_step__"].item()
            records = self.seen.setdefault(step_id, [])
            records.append((int(value["rows"].item()), float(value["finished"].item())))
            if len(records) == self.expected.get(step_id) and step_id not in self.finished:
                self._record(step_id, sum(r for r, _ in records), max(t for _, t in records))

    def finish_all(self, written: dict[str, int], counted: list[pd.DataFrame]) -> None:
        now = time.time()
        for frame in counted:
            step_id = str(frame["__aqtra_step__"].iat[0]) if len(frame) else None
            if step_id is not None and step_id not in self.finished:
                self._record(step_id, int(frame["rows"].sum()), float(frame["finished"].max()))
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
