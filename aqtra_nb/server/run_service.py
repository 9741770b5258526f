"""Runs started through the API: recorded in the store at once, executed by a pool of supervisor
threads, each run in a process of its own (the same run process and supervision as scheduled jobs:
heartbeat, cancel, outcome), never on the Tornado thread.

The run row is the truth: it is inserted `queued` and claimed by this server (`worker`), so no scheduler
takes it; the supervisor marks it `running` when a pool thread is free. A server that stops while runs
are going leaves rows that the next server start settles (`recover`): queued runs are started again, a
run whose process left an outcome is recorded with it, the others are marked `crashed` with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ..jobs.claims import finish_run, new_run_id
from ..jobs.worker import Heartbeat, Supervision, run_files, run_task
from ..private_files import private_file, private_folder
from ..resources import Resources
from ..spec import FlowSpec
from ..spec.status import RunStatus
from ..store.models import Run, utcnow
from ..store.orm import affected_rows

logger = logging.getLogger(__name__)

WORKER_PREFIX = "server:"


class RunLauncher:
    """Starts flow runs for the API and settles what a previous server left behind."""

    def __init__(self, resources: Resources, workers: int = 2, heartbeat_interval: float = 2.0) -> None:
        self.resources = resources
        self.worker = f"{WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}"
        self.supervision = Supervision(heartbeat_interval=heartbeat_interval, launcher="spawn")
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="aqtra-run")

    @property
    def store(self) -> Any:
        return self.resources.store

    def start(self, spec: FlowSpec, parameters: dict[str, Any], *, user: str | None = None) -> str:
        """Check the flow and its parameters (an AqtraError if they do not plan), record the run as
        queued, and hand it to the pool; returns the run id."""
        from ..engine import plan_flow

        plan_flow(spec, parameters)  # a misspelt parameter or column is a 400 now, not a failed run later
        version = self.store.save_flow(spec)
        run_id = new_run_id()
        folder = self.resources.runs_dir() / run_id
        private_folder(folder)
        private_file(folder / "run.log")
        target = folder / f"{spec.flow}.flow.json"
        target.write_text(json.dumps(spec.to_document(), indent=1), encoding="utf-8")
        now = utcnow()
        with self.store.session.begin() as session:
            session.add(
                Run(
                    id=run_id,
                    kind="flow",
                    name=spec.flow,
                    flow_id=version.id,
                    parameters=dict(parameters),
                    status=RunStatus.queued.value,
                    started_at=now,
                    queued_at=now,
                    worker=self.worker,
                    created_by=user,
                )
            )
        task = self._task(run_id, target, spec)
        (folder / "task.json").write_text(json.dumps(task), encoding="utf-8")  # for `recover`
        self.pool.submit(self._execute, task)
        return run_id

    def _task(self, run_id: str, target: Path, spec: FlowSpec) -> dict[str, Any]:
        folder = target.parent
        return {
            "run_id": run_id,
            "job": None,
            "kind": "flow",
            "target": str(target),
            "source": spec.source,
            "base_dir": str(spec.base_dir or Path.cwd()),
            "parameters": None,  # read from the row when the run starts
            "timeout": None,
            "cwd": str(spec.base_dir or Path.cwd()),
            "output": None,
            **run_files(folder, events=True),
            "store_url": self.resources.store_url,
        }

    def _execute(self, task: dict[str, Any]) -> str | None:
        """In a pool thread: claim the queued run (unless it was cancelled meanwhile) and supervise it."""
        run_id = task["run_id"]
        try:
            with self.store.session.begin() as session:
                claimed = affected_rows(
                    session.execute(
                        update(Run)
                        .where(Run.id == run_id, Run.status == RunStatus.queued.value)
                        .values(status=RunStatus.running.value, started_at=utcnow(), heartbeat_at=utcnow())
                    )
                )
                parameters = session.scalar(select(Run.parameters).where(Run.id == run_id))
            if not claimed:
                return None
            task["parameters"] = dict(parameters or {})
            beat = Heartbeat(self.store, run_id, self.supervision.heartbeat_interval)
            try:
                return run_task(self.store, task, self.supervision, beat)
            finally:
                beat.stop()
        except Exception as exc:  # never lose a run silently
            logger.exception("run %s could not be supervised", run_id)
            finish_run(self.store, run_id, RunStatus.crashed, seconds=None, error=f"cannot run: {exc}")
            return RunStatus.crashed.value

    def recover(self) -> dict[str, list[str]]:
        """Settle the runs of earlier servers on this host: restart queued ones, record or mark the rest."""
        mine = f"{WORKER_PREFIX}{socket.gethostname()}:%"
        settled: dict[str, list[str]] = {"restarted": [], "recorded": [], "crashed": []}
        with self.store.session() as session:
            rows = session.execute(
                select(Run.id, Run.status).where(
                    Run.worker.like(mine),
                    Run.worker != self.worker,
                    Run.status.in_([RunStatus.queued.value, RunStatus.running.value]),
                )
            ).all()
        for run_id, status in rows:
            settled[self._settle(run_id, status)].append(run_id)
        if any(settled.values()):
            logger.info("runs left by an earlier server: %s", settled)
        return settled

    def _settle(self, run_id: str, status: str) -> str:
        folder = self.resources.runs_dir() / run_id
        task = _read_json(folder / "task.json")
        if status == RunStatus.queued.value and task is not None:
            with self.store.session.begin() as session:
                session.execute(update(Run).where(Run.id == run_id).values(worker=self.worker))
            self.pool.submit(self._execute, task)
            return "restarted"
        outcome = _read_json(folder / "result.json")
        with self.store.session.begin() as session:
            session.execute(update(Run).where(Run.id == run_id).values(status=RunStatus.running.value))
        if outcome is not None:
            finish_run(
                self.store,
                run_id,
                RunStatus(outcome["status"]),
                seconds=outcome.get("seconds"),
                error=outcome.get("error"),
                artifacts={"log": folder / "run.log"},
            )
            return "recorded"
        finish_run(
            self.store,
            run_id,
            RunStatus.crashed,
            seconds=None,
            error="the Jupyter server stopped while the run was going; start it again",
            artifacts={"log": folder / "run.log"} if (folder / "run.log").exists() else None,
        )
        return "crashed"

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_lineage(store: Any, run_id: str) -> dict[str, Any]:
    """A run's lineage as `models.RunLineage` (its id or unique prefix); NotFound for an unknown run and
    for runs without lineage (recorded before it was kept, or failed before they started)."""
    from ..errors import NotFound
    from .models import RunLineage

    found = store.run_lineage(run_id)
    if found["lineage"] is None:
        raise NotFound(
            f"run {found['run_id']} has no lineage: it was recorded before lineage was kept, or failed "
            "before it started"
        )
    return RunLineage.model_validate({"run_id": found["run_id"], **found["lineage"]}).model_dump(mode="json")
