"""A flow job inside its run process: the engine, with per-step records written onto the job's run row
(the same `RunRecorder` as `aqtra-nb run`, told to use the existing row instead of inserting one)."""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import update

from ..spec import FlowSpec
from ..spec.status import RunStatus
from ..store import RunRecorder, Store
from ..store.models import Run

logger = logging.getLogger(__name__)


class JobRunRecorder(RunRecorder):
    """Steps go onto the job run `run_id`; the run's status is the worker's to write."""

    def __init__(self, store: Store, spec: FlowSpec, run_id: str) -> None:
        super().__init__(store, spec, kind="flow")
        self.job_run_id = run_id

    def _start(self, run_id: str, parameters: dict[str, Any], status: RunStatus = RunStatus.running) -> None:
        self.run_id = self.job_run_id
        flow = self.store.save_flow(self.spec)
        with self.store.session.begin() as session:
            session.execute(update(Run).where(Run.id == self.run_id).values(flow_id=flow.id))

    def _finish(self, status: RunStatus, seconds: float | None, error: str | None) -> None:
        if self.run_id is None:
            return
        with self.store.session.begin() as session:
            self._insert_steps(session)


def run_flow_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run the flow of `task`; returns {status, error, seconds} (never raises for a failing flow)."""
    from ..engine import EventStream, execute_flow
    from ..engine.events import EventLog
    from ..errors import AqtraError
    from ..lineage_events import emitter as openlineage_emitter
    from ..spec import load_flow

    started = time.perf_counter()
    store = _install_resources(task)
    status, error = RunStatus.succeeded, None
    try:
        spec = load_flow(task["target"])
        if task.get("base_dir"):  # a flow sent to the server: relative paths resolve in its folder
            spec.located(task.get("source") or spec.source, Path(task["base_dir"]))
        events = EventStream()
        events.subscribe(JobRunRecorder(store, spec, task["run_id"]))
        if task.get("events"):
            events.subscribe(EventLog(task["events"], task["run_id"]))
        lineage = openlineage_emitter(run_id=task["run_id"])  # when the `openlineage` setting is on
        if lineage is not None:
            events.subscribe(lineage)
        result = execute_flow(spec, task["parameters"], events=events, progress=False)
        print(f"flow {spec.flow}: {result.status} in {result.seconds:.3f} s", flush=True)
        for step in result.steps.values():
            cached = " cached" if step.cached else ""
            print(f"  {step.id:<24} {step.rows or 0:>10} rows {step.seconds or 0:8.3f} s{cached}", flush=True)
    except AqtraError as exc:
        status, error = RunStatus.failed, str(exc)
        print(f"error: {exc}", flush=True)
        if exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__)
    except Exception as exc:  # a bug: keep the traceback in the log
        status, error = RunStatus.failed, f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        store.close()
    return {"status": status.value, "error": error, "seconds": time.perf_counter() - started}


def _install_resources(task: dict[str, Any]) -> Store:
    """This run process's resources: the supervisor's store (already migrated), whose named connections
    the flow's steps look up, in whatever thread Dask runs them."""
    from ..resources import Resources, install
    from ..settings import AqtraNb

    settings = AqtraNb(database_url=task["store_url"]) if task.get("store_url") else AqtraNb()
    store = Store(settings.store_url, upgrade=False)
    install(Resources(settings, store=store))
    return store


def warm() -> None:
    """Run a tiny flow once, so that forked run processes find the engine's lazy imports (Dask's
    schedulers, readers, the component library) already done."""
    import tempfile
    from pathlib import Path

    from ..engine import execute_flow
    from ..spec import flow_from_document

    with tempfile.TemporaryDirectory(prefix="aqtra-warm-") as folder:
        (Path(folder) / "rows.csv").write_text("x\n1\n")
        document = {
            "flow": "warm_up",
            "steps": [
                {"id": "rows", "component": "read_csv", "with": {"path": str(Path(folder) / "rows.csv")}},
                {"id": "more", "component": "derive", "input": "rows", "with": {"columns": {"y": "x + 1"}}},
            ],
        }
        try:
            execute_flow(flow_from_document(document), {}, progress=False)
        except Exception:  # warming is an optimisation; a run will report any real problem
            logger.debug("warm-up flow failed", exc_info=True)
