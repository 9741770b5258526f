"""Workflows (start, list, show, cancel) and their human tasks (list, approve, reject).

A start or a decision is recorded at once; the workflow's steps then go on in a background thread of
the server (they may run flows and notebooks), so the reply is `202` and the client reads the workflow."""

from __future__ import annotations

import logging
from typing import Any

from ...workflows import engine
from ..api import AqtraHandler, operation
from ..flow_service import under_root
from ..models import CancelWorkflow, Decision, StartWorkflow, TaskList, WorkflowInfo, WorkflowList

logger = logging.getLogger(__name__)


def go_on(workflow_id: str, store: Any) -> None:
    """In a server thread: run the workflow's steps until it waits or ends (failures are stored on it)."""
    try:
        engine.resume(workflow_id, store=store)
    except Exception:
        logger.exception("workflow %s could not go on", workflow_id)


def task_info(task: Any) -> dict[str, Any]:
    options = (task.options or {}).get("options") or []
    return {
        "id": task.id,
        "workflow_id": task.workflow_id,
        "step_id": task.step_id,
        "title": task.title,
        "message": task.message,
        "options": list(options),
        "assignee": task.assignee,
        "status": task.status,
        "decision": task.decision,
        "option": task.option,
        "decided_by": task.decided_by,
        "comment": task.comment,
        "created_at": task.created_at,
        "decided_at": task.decided_at,
    }


def workflow_info(instance: Any, store: Any, *, detail: bool = False) -> dict[str, Any]:
    info = {
        "id": instance.id,
        "name": instance.name,
        "status": instance.status,
        "current_step": instance.current_step,
        "entity": instance.entity,
        "record_id": instance.record_id,
        "parameters": instance.parameters or {},
        "results": instance.results or {},
        "message": instance.message,
        "error": instance.error,
        "created_by": instance.created_by,
        "created_at": instance.created_at,
        "finished_at": instance.finished_at,
    }
    if detail:
        task = engine.open_task(store, instance)
        info["open_task"] = task_info(task) if task is not None else None
        info["history"] = [
            {"step": s.step_id, "kind": s.kind, "status": s.status, "error": s.error, "epoch": s.epoch}
            for s in engine.history(instance.id, store=store)
        ]
    return info


class WorkflowsHandler(AqtraHandler):
    @operation("Workflows newest first (filter by status or name).", response=WorkflowList,
               query=("status", "name", "limit"))  # fmt: skip
    async def get(self) -> None:
        store = self.services.resources.store
        found = await self.blocking(
            engine.instances,
            store=store,
            status=self.get_query_argument("status", None),
            name=self.get_query_argument("name", None),
            limit=self.query_int("limit", 50, low=1, high=500),
        )
        self.reply({"workflows": [workflow_info(w, store) for w in found]})

    @operation("Start a workflow on a record; its steps go on in the background.", action="execute",
               body=StartWorkflow, response=WorkflowInfo, status=202)  # fmt: skip
    async def post(self) -> None:
        request = self.body(StartWorkflow)
        store = self.services.resources.store
        path = under_root(self.services.root_dir, request.path)
        instance = await self.blocking(
            engine.start, path, request.parameters, record=request.record, store=store, run=False,
            by=self.user_name,
        )  # fmt: skip
        self.services.executor.submit(go_on, instance.id, store)
        self.reply(workflow_info(instance, store), status=202)


class WorkflowHandler(AqtraHandler):
    @operation("One workflow: status, results, its open task and step history.", response=WorkflowInfo)
    async def get(self, workflow_id: str) -> None:
        store = self.services.resources.store
        instance = await self.blocking(engine.get, workflow_id, store=store)
        self.reply(await self.blocking(workflow_info, instance, store, detail=True))


class CancelWorkflowHandler(AqtraHandler):
    @operation("Cancel a workflow for good (its open task too; history kept).", action="execute",
               body=CancelWorkflow, response=WorkflowInfo)  # fmt: skip
    async def post(self, workflow_id: str) -> None:
        request = self.body(CancelWorkflow)
        store = self.services.resources.store
        instance = await self.blocking(
            engine.cancel, workflow_id, reason=request.reason, by=self.user_name, store=store
        )
        self.reply(workflow_info(instance, store))


class TasksHandler(AqtraHandler):
    @operation("Human tasks, oldest first (default: the open ones).", response=TaskList,
               query=("status", "assignee"))  # fmt: skip
    async def get(self) -> None:
        status = self.get_query_argument("status", "open")
        found = await self.blocking(
            engine.list_tasks,
            store=self.services.resources.store,
            status=None if status == "all" else status,
            assignee=self.get_query_argument("assignee", None),
        )
        self.reply({"tasks": [task_info(t) for t in found]})


class DecisionHandler(AqtraHandler):
    decision = "approved"

    async def decide(self, task_id: str) -> None:
        request = self.body(Decision)
        store = self.services.resources.store
        options = {"by": self.user_name, "comment": request.comment, "store": store, "run": False}
        if self.decision == "approved":
            options["option"] = request.option
        instance = await self.blocking(engine.decide, task_id, self.decision, **options)
        self.services.executor.submit(go_on, instance.id, store)
        self.reply(workflow_info(instance, store), status=202)


class ApproveHandler(DecisionHandler):
    @operation("Approve a task (picking `option` if it offers options); the workflow goes on.",
               action="execute", body=Decision, response=WorkflowInfo, status=202)  # fmt: skip
    async def post(self, task_id: str) -> None:
        await self.decide(task_id)


class RejectHandler(DecisionHandler):
    decision = "rejected"

    @operation("Reject a task; the workflow takes its reject branch.", action="execute", body=Decision,
               response=WorkflowInfo, status=202)  # fmt: skip
    async def post(self, task_id: str) -> None:
        await self.decide(task_id)


ROUTES = [
    (r"workflows", WorkflowsHandler),
    (r"workflows/(?P<workflow_id>[^/]+)", WorkflowHandler),
    (r"workflows/(?P<workflow_id>[^/]+)/cancel", CancelWorkflowHandler),
    (r"tasks", TasksHandler),
    (r"tasks/(?P<task_id>[^/]+)/approve", ApproveHandler),
    (r"tasks/(?P<task_id>[^/]+)/reject", RejectHandler),
]
