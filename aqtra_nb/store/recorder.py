"""Records a run from the engine's event stream: the run row when it starts, steps and outcome when it
ends. It is one more listener of the stream, so there is no second bookkeeping path."""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import uuid
from typing import Any

from sqlalchemy import insert, update

from ..spec import FlowSpec
from ..spec.status import RunStatus
from .models import Run, RunLineage, StepRun, utcnow
from .store import Store, plain

logger = logging.getLogger(__name__)


class RunRecorder:
    """Listener for `aqtra_nb.engine.EventStream`. Step rows are written with the run's outcome, in one
    transaction, so recording costs two writes per run however many steps it has."""

    def __init__(
        self, store: Store, spec: FlowSpec, *, kind: str = "flow", parent: str | None = None
    ) -> None:
        self.store, self.spec, self.kind, self.parent = store, spec, kind, parent
        self.run_id: str | None = None
        self.steps: dict[str, dict[str, Any]] = {}
        self.lineage: dict[str, Any] | None = None

    def __call__(self, event: Any) -> None:
        if event.kind == "run_started":
            self._start(event.run_id, (event.data or {}).get("parameters", {}))
        elif event.kind == "step_finished":
            self._step(event, RunStatus.succeeded)
        elif event.kind == "step_failed":
            self._step(event, RunStatus.failed)
        elif event.kind in ("run_finished", "run_failed"):
            self.lineage = (event.data or {}).get("lineage")
            status = RunStatus.succeeded if event.kind == "run_finished" else RunStatus.failed
            self._finish(status, event.seconds, event.error)

    def _start(self, run_id: str, parameters: dict[str, Any], status: RunStatus = RunStatus.running) -> None:
        self.run_id = run_id
        flow = self.store.save_flow(self.spec)
        with self.store.session.begin() as session:
            session.add(
                Run(
                    id=run_id,
                    kind=self.kind,
                    name=self.spec.flow,
                    flow_id=flow.id,
                    parameters=plain(parameters),
                    status=status,
                    created_by=_user(),
                    parent_run_id=self.parent,
                )
            )

    def failed_before_start(self, parameters: dict[str, Any], error: Exception) -> str:
        """Record a run that failed in planning (bad parameters, unreachable source): it is history too."""
        run_id = uuid.uuid4().hex[:12]
        self._start(run_id, {k: str(v) for k, v in parameters.items()}, RunStatus.failed)
        step = getattr(error, "step", None)
        if step:
            self.steps[step] = {
                "step_id": step,
                "component": getattr(error, "component", None),
                "status": RunStatus.failed,
                "rows": None,
                "seconds": None,
                "error": str(error),
                "finished_at": utcnow(),
            }
        self._finish(RunStatus.failed, 0.0, str(error))
        return run_id

    def _step(self, event: Any, status: RunStatus) -> None:
        if event.step is None:
            return
        self.steps[event.step] = {
            "step_id": event.step,
            "component": event.component,
            "status": status,
            "rows": event.rows,
            "seconds": event.seconds,
            "error": event.error,
            "finished_at": dt.datetime.fromtimestamp(event.time, dt.UTC),
            "cached": bool(getattr(event, "cached", False)),
        }

    def _finish(self, status: RunStatus, seconds: float | None, error: str | None) -> None:
        if self.run_id is None:
            return
        # Plain bulk statements, not ORM objects: recording is per-step overhead on every run.
        with self.store.session.begin() as session:
            found = session.execute(
                update(Run)
                .where(Run.id == self.run_id)
                .values(status=status, seconds=seconds, error=error, finished_at=utcnow())
            )
            if found.rowcount == 0:  # pragma: no cover - the row was deleted mid-run
                return
            self._insert_steps(session)

    def _insert_steps(self, session: Any) -> None:
        """The step rows and the lineage document, written in the transaction of the run's outcome (job
        runs, whose outcome the worker writes, call this alone)."""
        if self.steps:
            session.execute(
                insert(StepRun), [{**step, "run_id": self.run_id} for step in self.steps.values()]
            )
        if self.lineage is not None:
            session.execute(insert(RunLineage), [{"run_id": self.run_id, "document": self.lineage}])


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return None
