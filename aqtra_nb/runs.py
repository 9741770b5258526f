"""Running a flow the way users do (`Flow.run`, `aqtra-nb run`): the engine, plus the run record."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from .engine import EventStream, Mode, RunResult
from .engine import run_flow as run_engine
from .errors import AqtraError
from .spec import FlowSpec
from .store import RunRecorder, Store, default_url


@functools.lru_cache(maxsize=8)
def _store_for(url: str) -> Store:
    return Store(url)


def default_store() -> Store:
    """The store at `$AQTRA_DATABASE_URL` or `$AQTRA_HOME/aqtra.db`, opened (and migrated) once per process."""
    return _store_for(default_url())


def run_flow(
    spec: FlowSpec,
    parameters: Mapping[str, Any] | None = None,
    *,
    record: bool | Store = True,
    scheduler: Any = None,
    outputs: Sequence[str] | None = None,
    objects: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    events: EventStream | None = None,
    mode: Mode = "auto",
) -> RunResult:
    """Plan and run `spec`; unless `record=False`, the run (or its failure) goes into the store."""
    events = events or EventStream()
    recorder = None
    if record:
        store = record if isinstance(record, Store) else default_store()
        recorder = RunRecorder(store, spec)
        events.subscribe(recorder)
    try:
        return run_engine(
            spec,
            parameters,
            scheduler=scheduler,
            outputs=outputs,
            objects=objects,
            progress=progress,
            mode=mode,
            events=events,
        )
    except AqtraError as exc:
        if recorder is not None and recorder.run_id is None:
            recorder.failed_before_start(dict(parameters or {}), exc)
        raise
