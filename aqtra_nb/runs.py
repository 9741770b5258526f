"""Running a flow the way users do (`Flow.run`, `aqtra-nb run`): the engine, plus the run record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .engine import EventStream, Mode, RunResult
from .engine import run_flow as run_engine
from .errors import AqtraError
from .spec import FlowSpec
from .store import RunRecorder, Store


def default_store() -> Store:
    """The current resources' store (`resources.current()`): `$AQTRA_DATABASE_URL` or `$AQTRA_HOME/aqtra.db`
    unless an edge installed other resources; opened (and migrated) once per process."""
    from .resources import current

    return current().store


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
