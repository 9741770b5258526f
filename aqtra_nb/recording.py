"""A flow run with its run record: the engine, plus a `RunRecorder` on its event stream.

What `aqtra-nb run`, `Flow.run`, apps and workflow steps share (`runs.run_flow` is this function); the
store is the one given, else the current resources' (`resources.current()`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .engine import EventStream, Mode, RunResult, execute_flow
from .errors import AqtraError
from .lineage_events import emitter as openlineage_emitter
from .resources import Resources, current, store_or_current
from .spec import FlowSpec

if TYPE_CHECKING:
    from .store import Store


def run_flow(
    spec: FlowSpec,
    parameters: Mapping[str, Any] | None = None,
    *,
    record: bool | Store | Resources = True,
    scheduler: Any = None,
    outputs: Sequence[str] | None = None,
    objects: Mapping[str, Any] | None = None,
    progress: bool | None = None,
    events: EventStream | None = None,
    mode: Mode = "auto",
    cache: bool = True,
    record_later: bool = False,
) -> RunResult:
    """Plan and run `spec`; unless `record=False`, the run (or its failure) goes into the store
    (`record_later`: on the recorder's background thread, see `store.recorder.flush_records`)."""
    events = events or EventStream()
    recorder = None
    if record:
        from .store import RunRecorder  # SQLAlchemy and the migrations: only for a recorded run

        settings = (record if isinstance(record, Resources) else current()).settings
        store = store_or_current(None if record is True else record)
        recorder = RunRecorder(store, spec, parent=settings.parent_run or None, background=record_later)
        events.subscribe(recorder)
    lineage_emitter = openlineage_emitter()  # None unless the `openlineage` setting is on
    if lineage_emitter is not None:
        events.subscribe(lineage_emitter)
    try:
        return execute_flow(
            spec,
            parameters,
            scheduler=scheduler,
            outputs=outputs,
            objects=objects,
            progress=progress,
            mode=mode,
            cache=cache,
            events=events,
        )
    except AqtraError as exc:
        if recorder is not None and recorder.run_id is None:
            recorder.failed_before_start(dict(parameters or {}), exc)
        raise
    except BaseException as exc:  # Ctrl-C, SystemExit: the engine sent no outcome; keep the steps done
        if recorder is not None:
            recorder.interrupted(exc)
        raise
