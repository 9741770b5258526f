"""Running workflows: start, advance step by step with the state written after each, wait for people,
resume after a crash, reset to draft, cancel.

A step is written as `running` before it runs and `finished` (with its result and the next step) in one
transaction after, so a crash can only interrupt the one step that was running: `resume` runs that step
again and never one that had finished. Every write of a workflow's state checks and bumps its `version`,
so two processes cannot both advance it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from ..errors import AqtraError, did_you_mean
from ..resources import current, store_or_current
from ..store import Store
from ..store.models import utcnow
from ..store.orm import affected_rows
from ..store.store import by_id_prefix
from ..store.workflow_models import WorkflowInstance, WorkflowStepRun, WorkflowTask
from . import context
from .load import load_workflow, workflow_from_document
from .spec import FINISH_STATUSES, AskConfirmationStep, FinishStep, WorkflowSpec
from .steps import WorkflowStepContext, run_step

logger = logging.getLogger(__name__)

ACTIVE = ("running", "waiting")
FINISHED = FINISH_STATUSES
_ENDED = {
    "succeeded": "has already succeeded",
    "rejected": "was rejected",
    "failed": "has already failed",
    "cancelled": "was cancelled",
}


class WorkflowError(AqtraError):
    """A workflow or task is unknown, or the asked change does not fit its state."""


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process that owns a workflow still runs (only knowable on the same host)."""
    if not owner or owner == _owner():
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: assume it is alive
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    import psutil

    try:
        return psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# -- looking up -----------------------------------------------------------------------------------------


def get(workflow_id: str, *, store: Store | None = None) -> WorkflowInstance:
    """A workflow instance by id or unique id prefix."""
    store = store_or_current(store)
    with store.session() as session:
        return by_id_prefix(
            session,
            select(WorkflowInstance),
            WorkflowInstance.id,
            workflow_id,
            what="workflow",
            missing=f"no workflow with id {workflow_id!r}; see `aqtra-nb workflows list`",
            error=WorkflowError,
        )


def instances(
    *, store: Store | None = None, status: str | None = None, name: str | None = None, limit: int = 50
) -> list[WorkflowInstance]:
    """Newest first."""
    store = store_or_current(store)
    query = select(WorkflowInstance).order_by(WorkflowInstance.created_at.desc()).limit(limit)
    if status:
        query = query.where(WorkflowInstance.status == status)
    if name:
        query = query.where(WorkflowInstance.name == name)
    with store.session() as session:
        return list(session.scalars(query))


def history(workflow_id: str, *, store: Store | None = None) -> list[WorkflowStepRun]:
    """Every step execution of a workflow, in order (all epochs)."""
    store = store_or_current(store)
    with store.session() as session:
        query = select(WorkflowStepRun).where(WorkflowStepRun.workflow_id == workflow_id)
        return list(session.scalars(query.order_by(WorkflowStepRun.id)))


def spec_of(instance: WorkflowInstance) -> WorkflowSpec:
    """The workflow as it was when started (a later edit of the file does not change running instances)."""
    base = Path(instance.base_dir) if instance.base_dir else None
    return workflow_from_document(instance.document, source=instance.source, base_dir=base, check=False)


def workflow_folder(workflow_id: str) -> Path:
    """A workflow's own folder (`HOME/workflows/ID`): notebook outputs, and files its steps are told to
    write there (`${workflow.folder}`), never the folder of the workflow file."""
    return current().settings.home_path / "workflows" / workflow_id


# -- starting -------------------------------------------------------------------------------------------


def parse_record(text: str) -> tuple[str | None, int]:
    """`ENTITY:ID` or `ID` (the workflow's own entity); 'module:Class:ID' is allowed too."""
    entity, _, raw = text.rpartition(":")
    try:
        return (entity or None), int(raw)
    except ValueError:
        raise WorkflowError(f"--record {text!r}: write ENTITY:ID (e.g. Requisition:7) or ID") from None


def _record_of(spec: WorkflowSpec, record: Any) -> tuple[Any, int | None, dict[str, Any]]:
    """(entity class, record id, snapshot) for what the caller passed as the record."""
    from ..entities import Entity

    if record is None:
        if spec.entity is not None:
            raise WorkflowError(
                f"workflow {spec.workflow!r} works on a {spec.entity} record: give one (--record ID)",
                field="record",
            )
        return None, None, {}
    if isinstance(record, Entity):
        if record.id is None:
            raise WorkflowError(
                f"the {type(record).__name__} record is not saved yet: save() it, then start the workflow",
                field="record",
            )
        entity, record_id = type(record), record.id
    else:
        name, record_id = parse_record(record) if isinstance(record, str) else (None, _record_id(record))
        name = name or spec.entity
        if name is None:
            raise WorkflowError("the workflow declares no `entity`: write --record ENTITY:ID", field="record")
        entity = context.entity_class(name, spec._base_dir)
    if spec.entity is not None:
        declared = context.entity_class(spec.entity, spec._base_dir)
        if declared.entity_name != entity.entity_name:
            raise WorkflowError(
                f"the workflow works on {declared.entity_name} records, not {entity.entity_name}",
                field="record",
            )
    live = entity.get(record_id)
    return entity, record_id, context.jsonable(live.model_dump())


def _record_id(record: Any) -> int:
    """An id from an int (numpy's too) or a row with `id` (a dict, a grid's selected row)."""
    value: Any = record.get("id") if isinstance(record, Mapping) else record
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WorkflowError(
            f"record {record!r}: give 'Entity:ID', an id, an Entity record or a row with `id`", field="record"
        ) from None


def start(
    workflow: str | Path | WorkflowSpec,
    parameters: dict[str, Any] | None = None,
    *,
    record: Any = None,
    store: Store | None = None,
    run: bool = True,
    by: str | None = None,
) -> WorkflowInstance:
    """Start a workflow on a record (`"Entity:ID"`, an id, or an Entity instance). With `run`, steps run
    in this process until the workflow finishes or waits for a person; else it is left as a draft."""
    from ..entities import current_user
    from ..spec import resolve_parameters
    from .check import check_notifications, check_workflow

    spec = workflow if isinstance(workflow, WorkflowSpec) else load_workflow(workflow)
    if isinstance(workflow, WorkflowSpec):
        check_workflow(spec)
    if run:
        check_notifications(spec)
    try:
        params = resolve_parameters(spec.parameters, parameters or {})
    except AqtraError as exc:
        raise exc.at(file=spec.source) from None
    _, record_id, snapshot = _record_of(spec, record)
    store = store_or_current(store)
    instance = WorkflowInstance(
        id=uuid.uuid4().hex,
        name=spec.workflow,
        source=spec.source,
        base_dir=str(spec.base_dir),
        document=spec.to_document(),
        parameters=context.jsonable(params),
        entity=spec.entity,
        record_id=record_id,
        record=snapshot,
        results={},
        current_step=spec.steps[0].id,
        status="running" if run else "draft",
        epoch=1,
        version=1,
        owner=_owner() if run else None,
        created_by=by or current_user(),
    )
    with store.session.begin() as session:
        session.add(instance)
    logger.info("started workflow %s (%s)", spec.workflow, instance.id)
    return Runner(store, instance.id).run() if run else instance


def resume(workflow_id: str, *, store: Store | None = None, force: bool = False) -> WorkflowInstance:
    """Continue a workflow that crashed, failed (its failed step runs again), or is a draft."""
    store = store_or_current(store)
    instance = get(workflow_id, store=store)
    if instance.status in FINISHED and instance.status != "failed":
        raise WorkflowError(f"workflow {instance.id} {_ENDED[instance.status]}; `reset` it to run it again")
    if instance.status == "waiting":
        task = open_task(store, instance)
        raise WorkflowError(
            f"workflow {instance.id} waits for task {task.id if task else '?'} ({instance.current_step}); "
            "approve or reject it (`aqtra-nb tasks approve|reject`)"
        )
    if instance.status == "running" and _owner_alive(instance.owner) and not force:
        raise WorkflowError(
            f"workflow {instance.id} is running in process {instance.owner}; --force takes it over"
        )
    _claim(store, instance, status="running", error=None)
    return Runner(store, instance.id).run()


def reset(workflow_id: str, *, store: Store | None = None, force: bool = False) -> WorkflowInstance:
    """Back to draft: the first step, no results, open tasks cancelled (history kept, `epoch` + 1).
    `resume` then runs it from the start on the record as it is now."""
    store = store_or_current(store)
    instance = get(workflow_id, store=store)
    if instance.status == "running" and _owner_alive(instance.owner) and not force:
        raise WorkflowError(f"workflow {instance.id} is running in process {instance.owner}; wait or --force")
    spec = spec_of(instance)
    with store.session.begin() as session:
        _cancel_open_tasks(session, instance)
    _claim(
        store,
        instance,
        status="draft",
        owner=None,
        current_step=spec.steps[0].id,
        results={},
        error=None,
        message=None,
        finished_at=None,
        epoch=instance.epoch + 1,
    )
    return get(instance.id, store=store)


def cancel(
    workflow_id: str,
    *,
    reason: str | None = None,
    by: str | None = None,
    store: Store | None = None,
    force: bool = False,
) -> WorkflowInstance:
    """Stop a workflow for good: status `cancelled`, its open task cancelled (history and results kept).
    A workflow a live process is running is refused unless `force`: that process then stops after its
    current step (its next write finds the workflow changed)."""
    from ..entities import current_user

    store = store_or_current(store)
    instance = get(workflow_id, store=store)
    if instance.status in FINISHED:
        ended = _ENDED[instance.status].replace("was cancelled", "was already cancelled")
        raise WorkflowError(f"workflow {instance.id} {ended}; nothing to cancel")
    if instance.status == "running" and _owner_alive(instance.owner) and not force:
        raise WorkflowError(
            f"workflow {instance.id} is running in process {instance.owner}; wait, or --force to cancel it"
        )
    by = by or current_user()
    now = utcnow()
    with store.session.begin() as session:
        _cancel_open_tasks(session, instance, decided_by=by, comment=reason)
        changed = affected_rows(
            session.execute(
                update(WorkflowInstance)
                .where(WorkflowInstance.id == instance.id, WorkflowInstance.version == instance.version)
                .values(
                    version=instance.version + 1,
                    status="cancelled",
                    owner=None,
                    message="cancelled" + (f" by {by}" if by else "") + (f": {reason}" if reason else ""),
                    finished_at=now,
                    updated_at=now,
                )
            )
        )
        if not changed:  # raising rolls the task update back too
            raise WorkflowError(f"workflow {instance.id} was changed by another process meanwhile; try again")
    logger.info("workflow %s cancelled by %s", instance.id, by)
    return get(instance.id, store=store)


def _cancel_open_tasks(session: Any, instance: WorkflowInstance, **values: Any) -> None:
    """Mark the workflow's open task (if any) cancelled, in the caller's transaction."""
    session.execute(
        update(WorkflowTask)
        .where(WorkflowTask.workflow_id == instance.id, WorkflowTask.status == "open")
        .values(status="cancelled", decided_at=utcnow(), **values)
    )


def _claim(store: Store, instance: WorkflowInstance, **values: Any) -> None:
    """Change a workflow's state if nobody else changed it since `instance` was read."""
    values.setdefault("owner", _owner())
    with store.session.begin() as session:
        changed = affected_rows(
            session.execute(
                update(WorkflowInstance)
                .where(WorkflowInstance.id == instance.id, WorkflowInstance.version == instance.version)
                .values(version=instance.version + 1, updated_at=utcnow(), **values)
            )
        )
    if not changed:
        raise WorkflowError(f"workflow {instance.id} was changed by another process meanwhile; try again")


def open_task(store: Store, instance: WorkflowInstance) -> WorkflowTask | None:
    with store.session() as session:
        return session.scalar(
            select(WorkflowTask).where(
                WorkflowTask.workflow_id == instance.id,
                WorkflowTask.epoch == instance.epoch,
                WorkflowTask.step_id == instance.current_step,
                WorkflowTask.status == "open",
            )
        )


# -- running --------------------------------------------------------------------------------------------


class Runner:
    """Advances one workflow until it finishes, fails or waits for a person."""

    def __init__(self, store: Store, workflow_id: str) -> None:
        self.store, self.workflow_id = store, workflow_id

    def run(self) -> WorkflowInstance:
        while True:
            instance = get(self.workflow_id, store=self.store)
            if instance.status != "running":
                return instance
            if not self.advance(instance):
                return get(self.workflow_id, store=self.store)

    def context(self, instance: WorkflowInstance, spec: WorkflowSpec) -> WorkflowStepContext:
        entity, record = None, dict(instance.record)
        if instance.entity and instance.record_id is not None:
            entity = context.entity_class(instance.entity, spec._base_dir)
            record = entity.get(instance.record_id).model_dump()  # as it is now, typed
        folder = workflow_folder(instance.id)
        names = context.workflow_names(instance.id, spec.workflow, folder)
        return WorkflowStepContext(
            spec=spec,
            workflow_id=instance.id,
            record=record,
            results=dict(instance.results),
            params=context.with_workflow_names(instance.parameters, names),
            entity=entity,
            record_id=instance.record_id,
            output_dir=folder,
            epoch=instance.epoch,
        )

    def advance(self, instance: WorkflowInstance) -> bool:
        """Run the current step and write the outcome; False when the workflow stops here."""
        spec = spec_of(instance)
        assert instance.current_step is not None  # set when started and by each step, never cleared
        step = spec.step(instance.current_step)
        try:
            ctx = self.context(instance, spec)
        except AqtraError as exc:
            self.fail(instance, None, exc, step.id)
            return False
        if isinstance(step, FinishStep):
            return self.finish(instance, step, ctx)
        if isinstance(step, AskConfirmationStep):
            return self.ask(instance, step, ctx)
        row = self.started(instance, step)
        try:
            outcome = run_step(step, ctx)
        except AqtraError as exc:
            self.fail(instance, row, exc, step.id)
            return False
        except Exception as exc:  # a bug or an unexpected library error: keep it with the workflow
            logger.exception("workflow %s: step %s raised", instance.id, step.id)
            self.fail(instance, row, AqtraError(f"{type(exc).__name__}: {exc}"), step.id)
            return False
        result = context.jsonable(outcome.result)
        record = (
            context.jsonable(ctx.entity.get(ctx.record_id).model_dump()) if outcome.record_changed else None
        )
        self.commit(instance, row, step.id, result, outcome.next_step, record)
        return True

    def started(self, instance: WorkflowInstance, step: Any) -> int:
        with self.store.session.begin() as session:
            row = WorkflowStepRun(
                workflow_id=instance.id,
                epoch=instance.epoch,
                step_id=step.id,
                kind=step.kind,
                status="running",
            )
            session.add(row)
            session.flush()
            return row.id

    def commit(
        self,
        instance: WorkflowInstance,
        row: int,
        step_id: str,
        result: dict[str, Any],
        next_step: str,
        record: dict[str, Any] | None,
    ) -> None:
        values: dict[str, Any] = {"results": {**instance.results, step_id: result}, "current_step": next_step}
        if record is not None:
            values["record"] = record
        with self.store.session.begin() as session:
            changed = affected_rows(
                session.execute(
                    update(WorkflowInstance)
                    .where(WorkflowInstance.id == instance.id, WorkflowInstance.version == instance.version)
                    .values(version=instance.version + 1, updated_at=utcnow(), **values)
                )
            )
            if not changed:
                raise WorkflowError(
                    f"workflow {instance.id} was changed by another process while step {step_id} ran"
                )
            session.execute(
                update(WorkflowStepRun)
                .where(WorkflowStepRun.id == row)
                .values(status="finished", result=result, finished_at=utcnow())
            )

    def fail(self, instance: WorkflowInstance, row: int | None, exc: AqtraError, step_id: str) -> None:
        from ..secrets import redact

        # An error from inside (a flow's file and step) keeps its own location, after the workflow's step
        inner = exc.step is not None or exc.file is not None
        message = redact(f"step {step_id!r}: {exc}" if inner else str(exc.at(step=step_id)))
        logger.warning("workflow %s failed: %s", instance.id, message)
        with self.store.session.begin() as session:
            if row is not None:
                session.execute(
                    update(WorkflowStepRun)
                    .where(WorkflowStepRun.id == row)
                    .values(status="failed", error=message, finished_at=utcnow())
                )
        _claim(self.store, instance, status="failed", error=message, finished_at=utcnow())

    def finish(self, instance: WorkflowInstance, step: FinishStep, ctx: WorkflowStepContext) -> bool:
        try:
            message = ctx.render(step.message) if step.message else None
        except AqtraError as exc:
            self.fail(instance, None, exc, step.id)
            return False
        now = utcnow()
        with self.store.session.begin() as session:
            session.add(
                WorkflowStepRun(
                    workflow_id=instance.id,
                    epoch=instance.epoch,
                    step_id=step.id,
                    kind=step.kind,
                    status="finished",
                    result={"status": step.status},
                    started_at=now,
                    finished_at=now,
                )
            )
        _claim(self.store, instance, status=step.status, message=message, finished_at=now, owner=None)
        logger.info("workflow %s %s at %s", instance.id, step.status, step.id)
        return False

    def ask(self, instance: WorkflowInstance, step: AskConfirmationStep, ctx: WorkflowStepContext) -> bool:
        if open_task(self.store, instance) is None:
            try:
                title, message = ctx.render(step.title), ctx.render(step.message)
            except AqtraError as exc:
                self.fail(instance, None, exc, step.id)
                return False
            with self.store.session.begin() as session:
                session.add(
                    WorkflowTask(
                        id=uuid.uuid4().hex[:12],
                        workflow_id=instance.id,
                        epoch=instance.epoch,
                        step_id=step.id,
                        title=title,
                        message=message or None,
                        options={"options": list(step.options), "approve": step.approve is not None},
                        assignee=step.assignee,
                        status="open",
                    )
                )
                session.add(
                    WorkflowStepRun(
                        workflow_id=instance.id,
                        epoch=instance.epoch,
                        step_id=step.id,
                        kind=step.kind,
                        status="waiting",
                    )
                )
        _claim(self.store, instance, status="waiting", owner=None)
        return False


# -- human tasks ----------------------------------------------------------------------------------------


def list_tasks(
    *, store: Store | None = None, status: str | None = "open", assignee: str | None = None, limit: int = 100
) -> list[WorkflowTask]:
    """Human tasks, oldest first (default: the open ones)."""
    store = store_or_current(store)
    query = select(WorkflowTask).order_by(WorkflowTask.created_at).limit(limit)
    if status:
        query = query.where(WorkflowTask.status == status)
    if assignee:
        query = query.where(WorkflowTask.assignee == assignee)
    with store.session() as session:
        return list(session.scalars(query))


def get_task(task_id: str, *, store: Store | None = None) -> WorkflowTask:
    store = store_or_current(store)
    with store.session() as session:
        return by_id_prefix(
            session,
            select(WorkflowTask),
            WorkflowTask.id,
            task_id,
            what="task",
            missing=f"no task with id {task_id!r}; see `aqtra-nb tasks list`",
            error=WorkflowError,
        )


def decide(
    task_id: str,
    decision: str,
    *,
    option: str | None = None,
    by: str | None = None,
    comment: str | None = None,
    store: Store | None = None,
    run: bool = True,
) -> WorkflowInstance:
    """Approve (maybe with an option) or reject a task; the workflow goes on down the matching branch, in
    this process when `run`."""
    from ..entities import current_user

    store = store_or_current(store)
    found = get_task(task_id, store=store)
    if found.status != "open":
        who = f" by {found.decided_by}" if found.decided_by else ""
        raise WorkflowError(f"task {found.id} is already {found.status}{who}")
    instance = get(found.workflow_id, store=store)
    step = spec_of(instance).step(found.step_id)
    if not isinstance(step, AskConfirmationStep) or instance.epoch != found.epoch:
        raise WorkflowError(f"task {found.id} no longer belongs to a waiting step of workflow {instance.id}")
    next_step = _branch(found, step, decision, option)
    by = by or current_user()
    now = utcnow()
    result = {"decision": decision, "option": option, "by": by, "comment": comment}
    with store.session.begin() as session:
        changed = affected_rows(
            session.execute(
                update(WorkflowInstance)
                .where(
                    WorkflowInstance.id == instance.id,
                    WorkflowInstance.version == instance.version,
                    WorkflowInstance.status == "waiting",
                )
                .values(
                    version=instance.version + 1,
                    status="running",
                    owner=_owner() if run else None,
                    current_step=next_step,
                    results={**instance.results, step.id: result},
                    updated_at=now,
                )
            )
        )
        closed = affected_rows(
            session.execute(
                update(WorkflowTask)
                .where(WorkflowTask.id == found.id, WorkflowTask.status == "open")
                .values(status=decision, option=option, decided_by=by, comment=comment, decided_at=now)
            )
        )
        if not changed or not closed:  # raising rolls the transaction back
            raise WorkflowError(
                f"task {found.id} was decided or its workflow changed meanwhile; see `tasks list`"
            )
        session.execute(
            update(WorkflowStepRun)
            .where(
                WorkflowStepRun.workflow_id == instance.id,
                WorkflowStepRun.step_id == step.id,
                WorkflowStepRun.epoch == instance.epoch,
                WorkflowStepRun.status == "waiting",
            )
            .values(status="finished", result=result, finished_at=now)
        )
    return Runner(store, instance.id).run() if run else get(instance.id, store=store)


def _branch(found: WorkflowTask, step: AskConfirmationStep, decision: str, option: str | None) -> str:
    if decision == "rejected":
        if option is not None:
            raise WorkflowError(
                f"task {found.id}: options are for approving; reject takes none", field="option"
            )
        return step.reject
    if option is None:
        if step.approve is None:
            raise WorkflowError(
                f"task {found.id}: pick an option to approve (--option): {', '.join(step.options)}",
                field="option",
            )
        return step.approve
    if option not in step.options:
        raise WorkflowError(
            f"task {found.id} has no option {option!r}.{did_you_mean(option, step.options)} "
            f"Options: {', '.join(step.options) or 'none (approve without --option)'}",
            field="option",
        )
    return step.options[option]


def approve(task_id: str, *, option: str | None = None, **options: Any) -> WorkflowInstance:
    """Approve a task (picking `option` if it offers options); returns the workflow after it went on."""
    return decide(task_id, "approved", option=option, **options)


def reject(task_id: str, **options: Any) -> WorkflowInstance:
    """Reject a task; the workflow takes its `reject` branch."""
    return decide(task_id, "rejected", **options)


def age(moment: dt.datetime | None) -> str:
    """'3 min ago' style, for listings."""
    if moment is None:
        return ""
    seconds = (utcnow() - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"
