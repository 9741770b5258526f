"""Execution: turn a Plan into one Dask graph and compute it, emitting run events as steps complete.

Every step's output is a Dask frame. Next to the outputs and the sinks' writes, the graph holds a tiny
counter per step partition (rows and completion time), so per-step rows and seconds come from the same
computation, on the local threaded scheduler or a `dask.distributed` cluster alike.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from dask.callbacks import Callback

from ..components.base import InputComponent, dask_settings
from ..errors import AqtraError, StepFailed
from .events import EventStream, RunEvent
from .plan import Plan
from .result import RunResult, StepResult

logger = logging.getLogger(__name__)

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


def build_frames(plan: Plan, until: str | None = None) -> tuple[dict[str, dd.DataFrame], dict[str, Any]]:
    """The lazy Dask frame of every step (only `until`'s ancestors if given) and the sinks' write tasks."""
    wanted = _ancestors(plan, until) if until else set(plan.order)
    frames: dict[str, dd.DataFrame] = {}
    writes: dict[str, Any] = {}
    for step_id in plan.order:
        if step_id not in wanted:
            continue
        step = plan.steps[step_id]
        component = step.component
        try:
            if isinstance(component, InputComponent):
                frame = component.read(step.read_columns, step.read_filter)
            else:
                frame = component.transform([frames[i] for i in step.inputs])
            if component.is_sink and until is None:
                writes[step_id] = component.write(frame)
        except AqtraError as exc:
            raise exc.at(file=plan.source, step=step_id) from None
        except Exception as exc:
            raise StepFailed(
                f"{component.name} failed: {type(exc).__name__}: {exc}",
                step=step_id,
                component=component.name,
                file=plan.source,
            ) from exc
        frames[step_id] = frame
    return frames, writes


def _ancestors(plan: Plan, step_id: str) -> set[str]:
    seen, todo = set(), [step_id]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(plan.steps[current].inputs)
    return seen


def default_outputs(plan: Plan) -> list[str]:
    """Collected by default: steps nobody consumes (except sinks) and every `to_frame` step."""
    return [
        sid
        for sid in plan.order
        if (not plan.steps[sid].consumers and not plan.steps[sid].component.is_sink)
        or plan.steps[sid].component.name == "to_frame"
    ]


def run_plan(
    plan: Plan,
    *,
    scheduler: Any = None,
    outputs: Sequence[str] | None = None,
    events: EventStream | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Compute the plan. Raises StepFailed (naming the step) after emitting `run_failed`."""
    with dask_settings():
        return _run_plan(plan, scheduler, outputs, events, run_id)


def _run_plan(plan, scheduler, outputs, events, run_id) -> RunResult:
    events = events or EventStream()
    run_id = run_id or uuid.uuid4().hex[:12]
    steps = {sid: StepResult(sid, plan.steps[sid].component.name) for sid in plan.order}
    result = RunResult(run_id, plan.spec.flow, dict(plan.parameters), steps)
    events.listeners.insert(0, result.on_event)
    outputs = list(outputs) if outputs is not None else default_outputs(plan)
    for name in outputs:
        if name not in plan.steps:
            raise AqtraError(f"no step {name!r} to collect; steps: {', '.join(plan.order)}", file=plan.source)
    plan = plan.collecting(outputs)
    started = time.time()
    events.emit(
        RunEvent("run_started", run_id, data={"flow": plan.spec.flow, "parameters": dict(plan.parameters)})
    )
    tracker = _StepTracker(plan, events, run_id, started)
    try:
        frames, writes = build_frames(plan)
        counters = {
            sid: frames[sid].map_partitions(_Counter(sid), meta=COUNTER_META, enforce_metadata=False)
            for sid in plan.order
            if sid not in writes
        }
        tracker.expect({sid: frames[sid].npartitions for sid in counters})
        for sid in plan.order:
            events.emit(RunEvent("step_started", run_id, sid, plan.steps[sid].component.name))
        with _scheduler(scheduler) as (get, local), tracker if local else contextlib.nullcontext():
            computed = dask.compute(
                list(writes.values()), [frames[o] for o in outputs], list(counters.values()), scheduler=get
            )
    except AqtraError as exc:
        exc.at(file=plan.source)
        _fail(events, run_id, started, exc)
        raise
    except Exception as exc:
        error = AqtraError(f"the run failed: {type(exc).__name__}: {exc}", file=plan.source)
        _fail(events, run_id, started, error)
        raise error from exc
    written, collected, counted = computed
    tracker.finish_all(dict(zip(writes, written, strict=True)), counted)
    result.outputs = {name: _plain(frame) for name, frame in zip(outputs, collected, strict=True)}
    result._compute_step = lambda sid: _compute_one(plan, sid, scheduler)
    events.emit(RunEvent("run_finished", run_id, seconds=time.time() - started))
    return result


def _compute_one(plan: Plan, step_id: str, scheduler: Any) -> pd.DataFrame:
    with dask_settings(), _scheduler(scheduler) as (get, _):
        plan = plan.collecting([step_id])
        return _plain(build_frames(plan, until=step_id)[0][step_id].compute(scheduler=get))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Outputs get a fresh 0..n-1 index: partition indexes mean nothing to a notebook user."""
    return frame.reset_index(drop=True)


def _fail(events: EventStream, run_id: str, started: float, error: AqtraError) -> None:
    if isinstance(error, StepFailed) or error.step:
        events.emit(
            RunEvent("step_failed", run_id, error.step, getattr(error, "component", None), error=str(error))
        )
    events.emit(RunEvent("run_failed", run_id, seconds=time.time() - started, error=str(error)))


@contextlib.contextmanager
def _scheduler(scheduler: Any) -> Iterator[tuple[Any, bool]]:
    """(scheduler for dask.compute, whether it runs in this process). Accepts None, a name, an address,
    or a distributed Client."""
    if scheduler is None:
        yield "threads", True
    elif isinstance(scheduler, str) and "://" in scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise AqtraError(
                'a cluster address needs dask.distributed: pip install "aqtra-nb[distributed]"'
            ) from None
        try:
            client = Client(scheduler, timeout="10s", set_as_default=False)
        except OSError as exc:
            raise AqtraError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client, False
    elif isinstance(scheduler, str):
        yield scheduler, scheduler in ("threads", "sync", "synchronous", "single-threaded")
    else:
        yield scheduler, False


class _StepTracker(Callback):
    """Turns counter results into `step_finished` events, live on local schedulers, at the end otherwise.

    A step's seconds are the time from its inputs being complete (or the run's start) to its own output
    being complete.
    """

    def __init__(self, plan: Plan, events: EventStream, run_id: str, started: float) -> None:
        super().__init__()
        self.plan, self.events, self.run_id, self.started = plan, events, run_id, started
        self.expected: dict[str, int] = {}
        self.seen: dict[str, list[tuple[int, float]]] = {}
        self.finished: dict[str, float] = {}

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
        for step_id in self.plan.order:
            if step_id not in self.finished:  # a step with no partitions
                self._record(step_id, 0, now)

    def _record(self, step_id: str, rows: int, at: float) -> None:
        inputs = [self.finished.get(i, self.started) for i in self.plan.steps[step_id].inputs]
        began = max(inputs, default=self.started)
        self.finished[step_id] = at
        component = self.plan.steps[step_id].component.name
        self.events.emit(
            RunEvent(
                "step_finished", self.run_id, step_id, component, rows=rows, seconds=max(0.0, at - began)
            )
        )


def preview_plan(plan: Plan, step_id: str, rows: int = 100, *, scheduler: Any = None) -> pd.DataFrame:
    """The first `rows` of a step, computing as few partitions of its inputs as possible."""
    if step_id not in plan.steps:
        raise AqtraError(f"no step {step_id!r}; steps: {', '.join(plan.order)}", file=plan.source)
    with dask_settings(), warnings.catch_warnings():
        plan = plan.collecting([step_id])
        frame = build_frames(plan, until=step_id)[0][step_id]
        total, n = frame.npartitions, 1
        warnings.simplefilter("ignore", UserWarning)
        while True:
            head = (
                frame.head(rows, npartitions=n, compute=True)
                if n < total
                else frame.head(rows, npartitions=-1, compute=True)
            )
            if len(head) >= rows or n >= total:
                return _plain(head)
            n *= 4
