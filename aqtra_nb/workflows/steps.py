"""What each kind of step does when the workflow reaches it. Each returns the step's result and the next
step; the engine persists both before moving on. `ask_confirmation` and `finish` are handled by the engine
(they change the workflow's status rather than do work)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AqtraError, did_you_mean
from . import context
from .spec import (
    IfStep,
    NotifyStep,
    RunFlowStep,
    RunNotebookStep,
    SwitchStep,
    UpdateRecordStep,
    WorkflowSpec,
    case_key,
)

logger = logging.getLogger(__name__)


class WorkflowStepFailed(AqtraError):
    """A step of a running workflow failed; the workflow is `failed` and `resume` retries that step."""


@dataclass
class Outcome:
    next_step: str
    result: dict[str, Any] = field(default_factory=dict)
    record_changed: bool = False


@dataclass
class WorkflowStepContext:
    """What a step sees: the spec, the record (live values), earlier results, parameters, and where to
    keep its files."""

    spec: WorkflowSpec
    workflow_id: str
    record: dict[str, Any]
    results: dict[str, dict[str, Any]]
    params: dict[str, Any]
    entity: Any  # the Entity class, or None
    record_id: int | None
    output_dir: Path
    epoch: int

    @property
    def values(self) -> dict[str, Any]:
        return context.names(self.record, self.results) | context.workflow_names(
            self.workflow_id, self.spec.workflow, self.output_dir
        )

    def evaluate(self, text: str) -> Any:
        return context.evaluate(context.parse(text), self.record, self.results, self.params)

    def render(self, text: str) -> str:
        return context.render(text, self.values, self.params)

    def successor(self, step: Any) -> str:
        return self.spec.successors(step)["next"]


def run_step(step: Any, ctx: WorkflowStepContext) -> Outcome:
    match step:
        case IfStep():
            return _if(step, ctx)
        case SwitchStep():
            return _switch(step, ctx)
        case UpdateRecordStep():
            return _update_record(step, ctx)
        case RunFlowStep():
            return _run_flow(step, ctx)
        case RunNotebookStep():
            return _run_notebook(step, ctx)
        case NotifyStep():
            return _notify(step, ctx)
    raise AqtraError(f"step kind {step.kind!r} is not run by run_step")  # pragma: no cover


def _if(step: IfStep, ctx: WorkflowStepContext) -> Outcome:
    value = ctx.evaluate(step.condition)
    if value is not None and not isinstance(value, bool):
        raise WorkflowStepFailed(
            f"condition {step.condition!r} gave {value!r}, not true or false", field="condition"
        )
    return Outcome(step.then if value else step.else_, {"value": bool(value)})


def _switch(step: SwitchStep, ctx: WorkflowStepContext) -> Outcome:
    value = ctx.evaluate(step.value)
    key = case_key(value)
    if key in step.cases:
        return Outcome(step.cases[key], {"value": value})
    if step.default is not None:
        return Outcome(step.default, {"value": value})
    raise WorkflowStepFailed(
        f"no case for value {key!r} of {step.value!r} and no `default`.{did_you_mean(key, step.cases)} "
        f"Cases: {', '.join(step.cases)}",
        field="cases",
    )


def _update_record(step: UpdateRecordStep, ctx: WorkflowStepContext) -> Outcome:
    from ..entities import acting_as

    changes = {name: context.substitute(value, ctx.values, ctx.params) for name, value in step.set.items()}
    changes |= {name: ctx.evaluate(text) for name, text in step.compute.items()}
    if ctx.entity is None or ctx.record_id is None:
        raise WorkflowStepFailed("update_record: this workflow was started without a record (--record)")
    with acting_as(f"workflow:{ctx.spec.workflow}"):
        ctx.entity.update(ctx.record_id, **changes)
    return Outcome(ctx.successor(step), {}, record_changed=True)


def _target(ctx: WorkflowStepContext, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else ctx.spec.base_dir / path


def _run_flow(step: RunFlowStep, ctx: WorkflowStepContext) -> Outcome:
    from ..recording import run_flow
    from ..spec import load_flow

    flow = load_flow(_target(ctx, step.flow))
    parameters = context.substitute(step.parameters, ctx.values, ctx.params)
    result = run_flow(flow, parameters, progress=False)
    last = flow.steps[-1].id if flow.steps else None
    rows = result.steps[last].rows if last in result.steps else None
    return Outcome(ctx.successor(step), {"status": result.status, "run_id": result.run_id, "rows": rows})


def _run_notebook(step: RunNotebookStep, ctx: WorkflowStepContext) -> Outcome:
    from ..jobs.notebook import execute_notebook

    path = _target(ctx, step.notebook)
    output = ctx.output_dir / f"{step.id}-{ctx.epoch}.ipynb"
    parameters = context.substitute(step.parameters, ctx.values, ctx.params)
    outcome = execute_notebook(path, parameters, output_path=output, kernel=step.kernel, timeout=step.timeout)
    result = {"status": str(outcome.status), "output_path": str(outcome.output_path), "error": outcome.error}
    if not outcome.ok:
        raise WorkflowStepFailed(
            f"notebook {path.name} {outcome.status}: {outcome.error or 'see ' + str(outcome.output_path)}"
        )
    return Outcome(ctx.successor(step), result)


def _notify(step: NotifyStep, ctx: WorkflowStepContext) -> Outcome:
    from ..notify import send

    subject, body = ctx.render(step.subject), ctx.render(step.body)
    payload = {
        "workflow": ctx.spec.workflow,
        "workflow_id": ctx.workflow_id,
        "step": step.id,
        "entity": ctx.spec.entity,
        "record_id": ctx.record_id,
        "record": context.jsonable(ctx.record),
    }
    try:
        settings = step.notify_settings(
            [ctx.render(address) for address in step.email],
            ctx.render(step.webhook) if step.webhook else None,
        )
    except ValueError as exc:  # an address filled in from the record is not one
        raise WorkflowStepFailed(str(exc).splitlines()[-1].strip(), field="email") from None
    delivered = send(settings, subject=subject, body=body, payload=payload)
    return Outcome(ctx.successor(step), {"sent": True, "delivered": delivered})
