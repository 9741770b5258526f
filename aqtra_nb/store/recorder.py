"""Records a run from the engine's event stream: the run row when it starts, steps and outcome when it
ends. It is one more listener of the stream, so there is no second bookkeeping path.

Recording is per-step overhead on every run, so it is kept to a tuple per step while the run goes
(`_step`), and to two short Core transactions per run: the run row (`_start`) and, with the outcome, every
step row in one executemany plus the lineage document (`_finish`). No ORM objects, no per-step
statements; the flow version's id is looked up once per process and flow content (`_flow_id`).

With `background=True` (app runs: a visitor waits for the widgets, not for the history) both
transactions go to one writer thread per process, in order, off the run's path. Its queue is drained
before the interpreter exits (the `concurrent.futures` exit hook), so a finished run's record is not
lost when the kernel shuts down; `flush_records()` waits for it (after a run, before reading the run
history)."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..spec import FlowSpec
from ..spec.digest import content_hash
from ..spec.status import RunStatus
from .models import Run, RunLineage, StepRun, utcnow
from .store import Store, plain

logger = logging.getLogger(__name__)

RUNS, STEP_RUNS, RUN_LINEAGE = Run.__table__, StepRun.__table__, RunLineage.__table__
# One buffered step: the step_runs columns after run_id, `finished_at` as a POSIX time until written.
STEP_COLUMNS = ("step_id", "component", "status", "rows", "seconds", "error", "finished_at", "cached")

# Per database (`_EngineState`): flow versions are never deleted, so after the first run of a version its
# id needs no query (a row gone all the same is noticed by the run's insert and looked up again).
_states: weakref.WeakKeyDictionary[Engine, _EngineState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


class RunRecorder:
    """Listener for `aqtra_nb.engine.EventStream`. Step rows are written with the run's outcome, in one
    transaction, so recording costs two writes per run however many steps it has."""

    def __init__(
        self,
        store: Store,
        spec: FlowSpec,
        *,
        kind: str = "flow",
        parent: str | None = None,
        background: bool = False,
    ) -> None:
        self.store, self.spec, self.kind, self.parent = store, spec, kind, parent
        self.background = background  # write on the process's recorder thread, not the run's
        self.run_id: str | None = None
        self.steps: dict[str, tuple[Any, ...]] = {}  # step id -> values of STEP_COLUMNS
        self.lineage: dict[str, Any] | None = None
        self.finished = False  # the outcome is written (or the run never started)
        self.digest: str | None = None  # the flow's content hash, when the run_started event names it

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "step_started":  # the commonest event, and nothing to record
            return
        if kind == "step_finished":
            self._step(event, RunStatus.succeeded)
        elif kind == "step_failed":
            self._step(event, RunStatus.failed)
        elif kind == "run_started":
            data = event.data or {}
            flow = (data.get("lineage") or {}).get("flow") or {}
            if flow.get("name") == self.spec.flow:  # the engine hashed this spec for the lineage already
                self.digest = flow.get("hash")
            self.run_id = event.run_id  # known at once, written now or by the writer thread
            self._write(self._start, event.run_id, data.get("parameters", {}))
        elif kind in ("run_finished", "run_failed"):
            self.lineage = (event.data or {}).get("lineage")
            status = RunStatus.succeeded if kind == "run_finished" else RunStatus.failed
            self.finished = self.run_id is not None
            self._write(self._finish, status, event.seconds, event.error)

    def _write(self, write: Callable[..., None], *args: Any) -> None:
        if self.background:
            _in_background(write, *args)
        else:
            write(*args)

    def _start(self, run_id: str, parameters: dict[str, Any], status: RunStatus = RunStatus.running) -> None:
        self.run_id = run_id
        row = {
            "id": run_id,
            "kind": self.kind,
            "name": self.spec.flow,
            "parameters": plain(parameters),
            "status": status,
            "created_by": _user(),
            "parent_run_id": self.parent,
        }
        try:
            with self.store.engine.begin() as connection:
                connection.execute(
                    RUNS.insert(), {**row, "flow_id": _flow_id(self.store, self.spec, self.digest)}
                )
        except IntegrityError:  # the remembered flow version is gone (a database replaced under us)
            _forget_flow_ids(self.store.engine)
            with self.store.engine.begin() as connection:
                connection.execute(
                    RUNS.insert(), {**row, "flow_id": _flow_id(self.store, self.spec, self.digest)}
                )

    def failed_before_start(self, parameters: dict[str, Any], error: Exception) -> str:
        """Record a run that failed in planning (bad parameters, unreachable source): it is history too."""
        run_id = uuid.uuid4().hex[:12]
        self._start(run_id, {k: str(v) for k, v in parameters.items()}, RunStatus.failed)
        step = getattr(error, "step", None)
        if step:
            component = getattr(error, "component", None)
            self.steps[step] = (step, component, RunStatus.failed, None, None, str(error), time.time(), False)
        self._finish(RunStatus.failed, 0.0, str(error))
        return run_id

    def interrupted(self, error: BaseException) -> None:
        """The run stopped without its outcome event (Ctrl-C, SystemExit): record what finished before."""
        if self.run_id is None or self.finished:
            return
        status = RunStatus.cancelled if isinstance(error, KeyboardInterrupt) else RunStatus.failed
        self._finish(status, None, f"interrupted: {type(error).__name__}: {error}".rstrip(": "))

    def _step(self, event: Any, status: RunStatus) -> None:
        step = event.step
        if step is None:
            return
        self.steps[step] = (
            step,
            event.component,
            status,
            event.rows,
            event.seconds,
            event.error,
            event.time,
            bool(event.cached),
        )

    def _finish(self, status: RunStatus, seconds: float | None, error: str | None) -> None:
        if self.run_id is None:
            return
        self.finished = True
        outcome = {"status": status, "seconds": seconds, "error": error, "finished_at": utcnow()}
        with self.store.engine.begin() as connection:
            found = connection.execute(RUNS.update().where(RUNS.c.id == self.run_id).values(outcome))
            if found.rowcount == 0:  # pragma: no cover - the row was deleted mid-run
                return
            self._insert_steps(connection)

    def _insert_steps(self, session: Any) -> None:
        """The step rows (one executemany) and the lineage document, written in the transaction of the
        run's outcome. `session` is a Connection or an ORM Session (job runs, whose outcome the worker
        writes, call this alone)."""
        if self.steps:
            run_id, utc, stamp = self.run_id, dt.UTC, dt.datetime.fromtimestamp
            rows = [
                (run_id, step_id, component, str(status), rows, seconds, error, stamp(finished, utc), cached)
                for step_id, component, status, rows, seconds, error, finished, cached in self.steps.values()
            ]
            state = _state(self.store.engine)
            if state.step_sql is not None:  # SQLite: the driver's executemany over processed tuples
                processors = state.step_processors
                for index, row in enumerate(rows):
                    values = list(row)
                    for column, process in processors:
                        values[column] = process(values[column])
                    rows[index] = tuple(values)
                connection = session.connection() if isinstance(session, Session) else session
                connection.exec_driver_sql(state.step_sql, rows)
            else:
                names = ("run_id", *STEP_COLUMNS)
                session.execute(STEP_RUNS.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        if self.lineage is not None:
            session.execute(RUN_LINEAGE.insert(), {"run_id": self.run_id, "document": self.lineage})


class _EngineState:
    """What the recorder keeps per database: known flow version ids by (flow name, content hash), and on
    SQLite the step rows' INSERT as driver SQL with the columns' bind processors, for one executemany
    that skips SQLAlchemy's per-row parameter handling (on PostgreSQL Core's insertmanyvalues batches
    the rows into one statement already)."""

    def __init__(self, engine: Engine) -> None:
        self.flow_ids: dict[tuple[str, str], int] = {}
        self.step_sql: str | None = None
        self.step_processors: list[tuple[int, Any]] = []
        dialect = engine.dialect
        if dialect.name == "sqlite":
            compiled = STEP_RUNS.insert().compile(dialect=dialect, column_keys=["run_id", *STEP_COLUMNS])
            if compiled.positional and list(compiled.positiontup or ()) == ["run_id", *STEP_COLUMNS]:
                self.step_sql = str(compiled)
                for index, name in enumerate(["run_id", *STEP_COLUMNS]):
                    process = STEP_RUNS.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                    if process is not None:
                        self.step_processors.append((index, process))


def _state(engine: Engine) -> _EngineState:
    with _states_lock:
        found = _states.get(engine)
        if found is None:
            found = _states[engine] = _EngineState(engine)
        return found


def _flow_id(store: Store, spec: FlowSpec, digest: str | None = None) -> int:
    """The id of this version of `spec` in `store`, saving it the first time it is seen. `digest` is
    its content hash when known (the lineage document of `run_started` carries it)."""
    known = _state(store.engine).flow_ids
    key = (spec.flow, digest or content_hash(spec.to_document()))
    found = known.get(key)
    if found is None:
        version = store.save_flow(spec)
        found = version.id
        if version.content_hash == key[1]:
            known[key] = found
    return found


def _forget_flow_ids(engine: Engine) -> None:
    _state(engine).flow_ids.clear()


_writer: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_writer_lock = threading.Lock()
_held = threading.local()  # .writes: the background writes this thread holds back (`records_held`)


@contextlib.contextmanager
def records_held() -> Iterator[None]:
    """Background record writes made on this thread in the block go to the writer when it ends (an
    app's run and its widgets' update: the writer's Python work would compete with them for the GIL)."""
    outer = getattr(_held, "writes", None)
    _held.writes = []
    try:
        yield
    finally:
        writes, _held.writes = _held.writes, outer
        for write, args in writes:
            _in_background(write, *args)


def _in_background(write: Callable[..., None], *args: Any) -> None:
    """Run `write` on the recorder thread (after the writes queued before it); inline once the
    interpreter is exiting (no new work is taken then)."""
    global _writer  # noqa: PLW0603
    held = getattr(_held, "writes", None)
    if held is not None:
        held.append((write, args))
        return
    with _writer_lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aqtra-recorder")
        try:
            future = _writer.submit(write, *args)
            _pending.add(future)
        except RuntimeError:  # interpreter shutdown
            future = None
    if future is None:
        write(*args)
    else:
        future.add_done_callback(_written)


def _written(future: Future) -> None:
    with _writer_lock:
        _pending.discard(future)
    if future.exception() is not None:
        logger.warning("recording a run failed: %s", future.exception())


def stop_writer() -> None:
    """End the writer thread once its queue is written (a process about to fork: a child would inherit
    an executor whose thread it does not have); the next background write starts another."""
    global _writer  # noqa: PLW0603
    with _writer_lock:
        writer, _writer = _writer, None
    if writer is not None:
        writer.shutdown(wait=True)


def flush_records(timeout: float | None = None) -> None:
    """Wait until every run record queued so far (`background=True`) is written."""
    with _writer_lock:
        pending = list(_pending)
    wait_all(pending, timeout)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return None
