"""Checks of a workflow before it runs: references, every path ending in `finish`, expressions, record
fields, and the flows and notebooks it runs. Each error names the file, the step and the field."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from ..errors import AqtraError, ExpressionError, did_you_mean
from ..spec.io import line_of
from . import context
from .load import WorkflowValidationError
from .spec import (
    AskConfirmationStep,
    BaseStep,
    FinishStep,
    IfStep,
    LinearStep,
    NotifyStep,
    RunFlowStep,
    RunNotebookStep,
    SwitchStep,
    UpdateRecordStep,
    WorkflowSpec,
)


class _Checker:
    def __init__(self, spec: WorkflowSpec, text: str | None) -> None:
        self.spec, self.text = spec, text
        self.index = {step.id: i for i, step in enumerate(spec.steps)}

    def error(self, message: str, step: BaseStep | None = None, field: str | None = None) -> AqtraError:
        line = None
        if step is not None and self.text:
            loc: tuple[Any, ...] = ("steps", self.index.get(step.id, 0))
            if field:
                loc += tuple(field.split(".", 1)) if field.startswith(("cases.", "options.")) else (field,)
            line = line_of(self.text, loc)
        return WorkflowValidationError(
            message, file=self.spec.source, step=step.id if step else None, field=field, line=line
        )

    # -- structure -----------------------------------------------------------------------------------------
    def structure(self) -> None:
        seen: set[str] = set()
        for step in self.spec.steps:
            if step.id in seen:
                raise self.error(f"step id {step.id!r} is used twice; step ids must be unique", step, "id")
            seen.add(step.id)
        for step in self.spec.steps:
            for field, target in step.targets().items():
                if target not in self.index:
                    hint = did_you_mean(target, self.index)
                    raise self.error(
                        f"unknown step {target!r}.{hint} Steps: {', '.join(self.index)}", step, field
                    )
                if target == step.id:
                    raise self.error(f"step {step.id!r} goes to itself", step, field)
            if isinstance(step, LinearStep) and not self.spec.successors(step):
                raise self.error(
                    f"this branch does not end in `finish`: {step.id!r} is the last step and has no `next`; "
                    "add `next: <step>` or a `kind: finish` step after it",
                    step,
                    "next",
                )

    def reachable(self) -> None:
        graph = {s.id: list(self.spec.successors(s).values()) for s in self.spec.steps}
        start = self.spec.steps[0].id
        reached, stack = {start}, [start]
        while stack:
            for target in graph[stack.pop()]:
                if target not in reached:
                    reached.add(target)
                    stack.append(target)
        for step in self.spec.steps:
            if step.id not in reached:
                raise self.error(
                    f"step {step.id!r} cannot be reached from the first step {start!r}; "
                    "refer to it from a `next` or a branch, or remove it",
                    step,
                )
        finishing = {s.id for s in self.spec.steps if isinstance(s, FinishStep)}
        changed = True
        while changed:  # steps from which some `finish` can be reached
            changed = False
            for step_id, targets in graph.items():
                if step_id not in finishing and any(t in finishing for t in targets):
                    finishing.add(step_id)
                    changed = True
        stuck = [s for s in self.spec.steps if s.id not in finishing]
        if stuck:
            raise self.error(
                f"steps {', '.join(s.id for s in stuck)} loop without ever reaching a `finish` step",
                stuck[0],
            )

    # -- names ---------------------------------------------------------------------------------------------
    def record_fields(self) -> list[str] | None:
        if self.spec.entity is None:
            return None
        from ..entities.model import column_kinds

        try:
            cls = context.entity_class(self.spec.entity, self.spec._base_dir)
        except AqtraError as exc:
            raise WorkflowValidationError(exc.message, file=self.spec.source, field="entity") from None
        return list(column_kinds(cls))

    def check_names(self, step: BaseStep, field: str, used: list[str], parameters: list[str]) -> None:
        fields = self.fields
        for name in used:
            if name in context.WORKFLOW_NAMES:
                continue
            if "." in name:
                owner, key = name.split(".", 1)
                if owner not in self.index:
                    raise self.error(f"`{name}` names no step.{did_you_mean(owner, self.index)}", step, field)
                keys = self.spec.step(owner).result_keys()
                if key not in keys:
                    raise self.error(
                        f"step {owner!r} has no result {key!r}.{did_you_mean(key, keys)} "
                        f"Its results: {', '.join(keys) or 'none'}",
                        step,
                        field,
                    )
            elif fields is not None and name not in fields:
                raise self.error(
                    f"{name!r} is not a field of {self.spec.entity}.{did_you_mean(name, fields)} "
                    f"Fields: {', '.join(fields)}",
                    step,
                    field,
                )
        for name in parameters:
            if name not in self.spec.parameters:
                hint = did_you_mean(name, self.spec.parameters)
                raise self.error(f"no parameter @{name} in the workflow's `parameters`.{hint}", step, field)

    def expression(self, step: BaseStep, field: str, text: str) -> None:
        try:
            parsed = context.parse(text)
        except ExpressionError as exc:
            raise self.error(str(exc), step, field) from None
        self.check_names(step, field, sorted(parsed.columns), sorted(parsed.parameters))

    def template(self, step: BaseStep, field: str, text: str) -> None:
        used = context.template_names(text)
        self.check_names(step, field, [n for n in used if n not in self.spec.parameters], [])

    # -- steps ---------------------------------------------------------------------------------------------
    def steps(self) -> None:
        self.fields = self.record_fields()
        for step in self.spec.steps:
            match step:
                case IfStep():
                    self.expression(step, "condition", step.condition)
                case SwitchStep():
                    self.expression(step, "value", step.value)
                case UpdateRecordStep():
                    self.update_record(step)
                case AskConfirmationStep():
                    self.template(step, "title", step.title)
                    self.template(step, "message", step.message)
                case NotifyStep():
                    for address in step.email:
                        self.template(step, "email", address)
                    self.template(step, "webhook", step.webhook or "")
                    self.template(step, "subject", step.subject)
                    self.template(step, "body", step.body)
                case FinishStep():
                    self.template(step, "message", step.message)
                case RunFlowStep():
                    self.run_flow(step)
                case RunNotebookStep():
                    self.run_notebook(step)

    def update_record(self, step: UpdateRecordStep) -> None:
        if self.fields is None:
            raise self.error(
                "update_record needs the workflow's `entity` (the record's data model) at the top of the file",
                step,
                "set" if step.set else "compute",
            )
        writable = [
            f for f in self.fields if f not in ("id", "created_at", "updated_at", "created_by", "updated_by")
        ]
        for key in ("set", "compute"):
            for name, value in getattr(step, key).items():
                if name not in writable:
                    hint = did_you_mean(name, writable)
                    raise self.error(
                        f"{name!r} is not a field of {self.spec.entity} that can be set.{hint} "
                        f"Fields: {', '.join(writable)}",
                        step,
                        f"{key}.{name}",
                    )
                if key == "compute":
                    self.expression(step, f"compute.{name}", value)
                elif isinstance(value, str):
                    self.template(step, f"set.{name}", value)

    def target_file(self, step: BaseStep, field: str, name: str) -> Path:
        path = Path(name)
        path = path if path.is_absolute() else self.spec.base_dir / path
        if not path.is_file():
            raise self.error(f"file not found: {path}", step, field)
        return path

    def run_flow(self, step: RunFlowStep) -> None:
        from ..spec import load_flow

        path = self.target_file(step, "flow", step.flow)
        try:
            flow = load_flow(path)
        except AqtraError as exc:
            raise self.error(f"the flow is not valid: {exc}", step, "flow") from None
        self.declared_parameters(
            step, flow.parameters, f"the flow {flow.flow!r} has no parameter", "Its parameters", "none"
        )

    def run_notebook(self, step: RunNotebookStep) -> None:
        from ..jobs.notebook import notebook_parameters

        path = self.target_file(step, "notebook", step.notebook)
        try:
            declared = notebook_parameters(path)
        except AqtraError as exc:
            raise self.error(exc.message, step, "notebook") from None
        self.declared_parameters(
            step, declared, "the notebook declares no parameter", "Its parameters cell sets", "nothing"
        )

    def declared_parameters(
        self,
        step: RunFlowStep | RunNotebookStep,
        declared: Collection[str],
        unknown: str,
        listing: str,
        empty: str,
    ) -> None:
        """Every parameter the step passes is one the flow or notebook declares (else `unknown`, a
        did-you-mean and the `listing` of what it declares, or `empty`); string values are templates."""
        for name in step.parameters:
            if name not in declared:
                raise self.error(
                    f"{unknown} {name!r}.{did_you_mean(name, declared)} {listing}: {', '.join(declared) or empty}",
                    step,
                    f"parameters.{name}",
                )
        self.parameter_templates(step, step.parameters)

    def parameter_templates(self, step: BaseStep, parameters: dict[str, Any]) -> None:
        for name, value in parameters.items():
            if isinstance(value, str):
                self.template(step, f"parameters.{name}", value)


def check_workflow(spec: WorkflowSpec, *, text: str | None = None) -> None:
    """Raise WorkflowValidationError for the first problem found, naming file, step and field."""
    checker = _Checker(spec, text)
    checker.structure()
    checker.steps()
    checker.reachable()


def check_notifications(spec: WorkflowSpec) -> None:
    """Resolve now what the `notify` steps will need (the mail server or the outbox, the secrets their
    webhooks name), so a workflow whose settings are wrong fails when it starts, before any step ran."""
    from ..notify import email_transport
    from ..resources import current
    from ..secrets import REFERENCE

    stored: list[str] | None = None
    for step in spec.steps:
        if not isinstance(step, NotifyStep):
            continue
        if step.email:
            try:
                email_transport(step.smtp)
            except AqtraError as exc:
                raise WorkflowValidationError(
                    f"its email cannot be sent: {exc.message}", file=spec.source, step=step.id, field="smtp"
                ) from None
        for field, text in (
            ("webhook", step.webhook or ""),
            *((f"headers.{k}", v) for k, v in step.headers.items()),
        ):
            for kind, name in REFERENCE.findall(text):
                if kind != "secret":
                    continue
                stored = current().secrets.names() if stored is None else stored
                if name not in stored:
                    raise WorkflowValidationError(
                        f"secret {name!r} is not stored; `aqtra-nb secrets set {name}` stores it",
                        file=spec.source,
                        step=step.id,
                        field=field,
                    )
