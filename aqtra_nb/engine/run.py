"""Running a plan: choose how (partitioned Dask frames, or one in-memory task per step for small data),
compute, and report every step through the run's event stream."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import dask
import pandas as pd
from dask.base import named_schedulers

from ..components.base import dask_settings
from ..errors import AqtraError, StepFailed
from . import in_memory, lineage
from .cache_use import CacheUse
from .events import EventStream, RunEvent
from .plan import Plan
from .result import RunResult, StepResult

Mode = Literal["auto", "partitioned", "in_memory"]


def _cache_use(plan: Plan, cache: bool) -> CacheUse | None:
    """The step cache for a run of `plan`, unless turned off (here or in the settings)."""
    if not cache:
        return None
    from ..resources import current

    found = current().step_cache()
    return None if found is None else CacheUse.for_plan(plan, found)


def _in_memory_limit() -> int:
    """The `in_memory_bytes` setting, or 1/32 of the machine's memory (at most 1 GiB): below it, a run is
    faster as one pandas task per step than as partitions."""
    from ..resources import current

    configured = current().settings.in_memory_bytes
    if configured > 0:
        return configured
    return min(_memory() // 32, 2**30)


#: where Linux says how much memory the process's container (cgroup v2, v1) may use
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def _memory() -> int:
    """The memory this process may use in bytes: the machine's, or its container's limit when lower (in a
    container the machine's is the host's; planning a run for it would choose in-memory runs and
    shuffles the container cannot hold); 8 GiB where the machine's cannot be known."""
    try:
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        machine = 8 * 2**30
    return min([machine, *_container_limits()])


def _container_limits() -> list[int]:
    """The cgroup memory limits that are set ("max" or absent: none)."""
    limits = []
    for path in CGROUP_LIMITS:
        try:
            with open(path) as limit:
                text = limit.read().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    return limits


def _shuffle(plan: Plan, local: bool) -> contextlib.AbstractContextManager[Any]:
    """Dask's in-memory task shuffle for a local partitioned run whose inputs fit in a quarter of memory:
    on one machine Dask otherwise shuffles through files on disk (partd), 2-3x slower for TPC-H SF5's
    joins (Q3 3.2 -> 1.7 s, Q5 6.2 -> 2.4 s). Larger inputs, clusters (Dask's p2p) and a method the user
    configured are left to Dask."""
    if not local or dask.config.get("dataframe.shuffle.method", None) is not None:
        return contextlib.nullcontext()
    if not in_memory.fits_in_memory(plan, _memory() // 4):
        return contextlib.nullcontext()
    return dask.config.set({"dataframe.shuffle.method": "tasks"})


def default_outputs(plan: Plan) -> list[str]:
    """Collected by default: steps nobody consumes (except sinks) and every `to_frame` step."""
    return [
        sid
        for sid in plan.order
        if (not plan.steps[sid].consumers and not plan.steps[sid].component.is_sink)
        or plan.steps[sid].component.name == "to_frame"
    ]


def choose_mode(plan: Plan, mode: Mode, scheduler: Any) -> Literal["partitioned", "in_memory"]:
    """`auto`: in memory when every input is known to be small and no cluster was asked for."""
    if mode not in ("auto", "partitioned", "in_memory"):
        raise AqtraError(f"mode must be auto, partitioned or in_memory, not {mode!r}")
    if mode != "auto":
        return mode
    local = scheduler is None or scheduler in ("threads", "sync", "synchronous", "single-threaded")
    return "in_memory" if local and in_memory.fits_in_memory(plan, _in_memory_limit()) else "partitioned"


def run_plan(
    plan: Plan,
    *,
    scheduler: Any = None,
    outputs: Sequence[str] | None = None,
    events: EventStream | None = None,
    run_id: str | None = None,
    mode: Mode = "auto",
    cache: bool = True,
) -> RunResult:
    """Compute the plan. Raises StepFailed (naming the step) after emitting `run_failed`.

    `cache`: unchanged steps load from the step cache and what is computed is saved; partitioned runs
    write the steps worth it as Parquet parts from their own graph (`engine/cache.py`, docs/cache.md)."""
    with dask_settings():
        return _run_plan(plan, scheduler, outputs, events, run_id, mode, cache)


def _run_plan(plan, scheduler, outputs, events, run_id, mode, cache) -> RunResult:
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
    chosen = choose_mode(plan, mode, scheduler)
    started = time.time()
    cached = _cache_use(plan, cache)
    begun = lineage.begin(plan)
    data = {
        "flow": plan.spec.flow,
        "parameters": dict(plan.parameters),
        "mode": chosen,
        "cache": bool(cached),
        "lineage": begun,
    }
    events.emit(RunEvent("run_started", run_id, data=data))
    try:
        if chosen == "in_memory":
            collected = in_memory.run_in_memory(plan, outputs, events, run_id, cached)
        else:
            from . import partitioned  # imports dask.dataframe (0.3 s), which in-memory runs never need

            with _scheduler(scheduler) as (get, local), _shuffle(plan, local):
                collected = partitioned.run_partitioned(
                    plan, outputs, events, run_id, started, get, local, cached
                )
    except AqtraError as exc:
        exc.at(file=plan.source)
        result.lineage = lineage.complete(begun, plan, steps, {})
        _fail(events, run_id, started, exc, result.lineage)
        raise
    except Exception as exc:
        error = AqtraError(f"the run failed: {type(exc).__name__}: {exc}", file=plan.source)
        result.lineage = lineage.complete(begun, plan, steps, {})
        _fail(events, run_id, started, error, result.lineage)
        raise error from exc
    result.outputs = {name: _plain(frame) for name, frame in collected.items()}
    result._compute_step = lambda sid: compute_step(plan, sid, scheduler=scheduler, mode=chosen, cache=cache)
    result.lineage = lineage.complete(begun, plan, steps, result.outputs)
    events.emit(
        RunEvent("run_finished", run_id, seconds=time.time() - started, data={"lineage": result.lineage})
    )
    return result


def compute_step(
    plan: Plan, step_id: str, *, scheduler: Any = None, mode: Mode = "auto", cache: bool = True
) -> pd.DataFrame:
    """One step's whole output, computing only what it depends on (no events, no sinks)."""
    with dask_settings():
        plan = plan.collecting([step_id])
        if choose_mode(plan, mode, scheduler) == "in_memory":
            return _plain(in_memory.compute_step(plan, step_id, _cache_use(plan, cache)))
        from . import partitioned

        with _scheduler(scheduler) as (get, local), _shuffle(plan, local):
            return _plain(partitioned.compute_step(plan, step_id, get))


PREVIEW_WHOLE_BYTES = 64 * 2**20  # below this, reading every input whole costs less than a Dask graph


def preview_plan(
    plan: Plan, step_id: str, rows: int = 100, *, mode: Mode = "auto", cache: bool = True
) -> pd.DataFrame:
    """The first `rows` of a step, computing as little as possible (from the step cache when it holds the
    step or what it needs). Inputs of more than PREVIEW_WHOLE_BYTES are previewed partitioned even where a
    run would be in memory: only the first partitions are read (of a 10 M-row file, the first million
    rows), where an in-memory preview would read them all."""
    if step_id not in plan.steps:
        raise AqtraError(f"no step {step_id!r}; steps: {', '.join(plan.order)}", file=plan.source)
    with dask_settings():
        plan = plan.collecting([step_id])
        use = _cache_use(plan, cache)
        if choose_mode(plan, mode, None) == "in_memory" and (
            mode == "in_memory" or in_memory.fits_in_memory(plan, PREVIEW_WHOLE_BYTES)
        ):
            return _plain(in_memory.compute_step(plan, step_id, use).head(rows))
        from . import partitioned

        with _shuffle(plan, local=True):
            return _plain(partitioned.preview_step(plan, step_id, rows, use))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Outputs get a fresh 0..n-1 index: partition indexes mean nothing to a notebook user."""
    return frame.reset_index(drop=True)


def _fail(
    events: EventStream, run_id: str, started: float, error: AqtraError, document: dict[str, Any]
) -> None:
    if isinstance(error, StepFailed) or error.step:
        events.emit(
            RunEvent("step_failed", run_id, error.step, getattr(error, "component", None), error=str(error))
        )
    seconds = time.time() - started
    events.emit(RunEvent("run_failed", run_id, seconds=seconds, error=str(error), data={"lineage": document}))


@contextlib.contextmanager
def _scheduler(scheduler: Any) -> Iterator[tuple[Any, bool]]:
    """(scheduler for dask.compute, whether it runs in this process). Accepts None, a name, an address,
    or a distributed Client."""
    if scheduler is None:
        scheduler = "threads"
    if isinstance(scheduler, str) and "://" in scheduler:
        from .cluster import connect

        with connect(scheduler, field="scheduler") as client:
            yield client, False
    elif isinstance(scheduler, str):
        # The function rather than its name: given a name, Dask first imports `distributed` (0.2 s) to
        # look for a client, and then runs the named one anyway.
        local = scheduler in ("threads", "sync", "synchronous", "single-threaded")
        yield named_schedulers.get(scheduler, scheduler), local
    else:
        yield scheduler, False
