"""Pydantic models of a `*.workflow.yaml`: a state machine of steps over one entity record.

Each step names its kind (`kind: if`) and where to go next (`next`, or the branches of `if`, `switch`,
`ask_confirmation`). Every path ends in a `finish` step; `check.py` proves that when the file is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ..notify import Notify
from ..spec.models import LocatedSpec, ParameterSpec, SpecModel, check_step_id

FINISH_STATUSES = ("succeeded", "rejected", "failed", "cancelled")


class BaseStep(SpecModel):
    id: str = Field(description="Unique step id; other steps name it in `next` and branches.")
    description: str = Field("", description="What this step is for.")

    _id_is_name = field_validator("id")(check_step_id)

    def targets(self) -> dict[str, str]:
        """Where this step may go next: {field: step id}. Empty for `finish`."""
        return {}

    def result_keys(self) -> tuple[str, ...]:
        """The names this step's result offers to later expressions and templates (`step.key`)."""
        return ()


class LinearStep(BaseStep):
    next: str | None = Field(None, description="The step after this one (default: the next in the file).")

    def targets(self) -> dict[str, str]:
        return {"next": self.next} if self.next else {}


class RunFlowStep(LinearStep):
    """Run a flow file (recorded in the run store like `aqtra-nb run`)."""

    kind: Literal["run_flow"]
    flow: str = Field(description="The flow file, relative to the workflow file.")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Flow parameters; `${name}` allowed."
    )

    def result_keys(self) -> tuple[str, ...]:
        return ("status", "run_id", "rows")


class RunNotebookStep(LinearStep):
    """Run a notebook with papermill; its output notebook is kept beside the workflow's other outputs."""

    kind: Literal["run_notebook"]
    notebook: str = Field(description="The notebook, relative to the workflow file.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Values for its parameters cell.")
    kernel: str | None = Field(None, description="Kernel name (default: the notebook's).")
    timeout: float | None = Field(None, gt=0, description="Seconds for the whole notebook.")

    def result_keys(self) -> tuple[str, ...]:
        return ("status", "output_path", "error")


class IfStep(BaseStep):
    """Branch on a condition over the record, the parameters (`@name`) and earlier results."""

    kind: Literal["if"]
    condition: str = Field(description="An expression that is true or false, e.g. `amount > @limit`.")
    then: str = Field(description="The step when the condition is true.")
    else_: str = Field(alias="else", description="The step when it is false or null.")

    def targets(self) -> dict[str, str]:
        return {"then": self.then, "else": self.else_}

    def result_keys(self) -> tuple[str, ...]:
        return ("value",)


class SwitchStep(BaseStep):
    """Branch on the value of an expression."""

    kind: Literal["switch"]
    value: str = Field(description="An expression; its value picks a case.")
    cases: dict[str, str] = Field(description="Value → step id.", min_length=1)
    default: str | None = Field(None, description="The step when no case matches (else the workflow fails).")

    @field_validator("cases", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {case_key(k): v for k, v in value.items()}
        return value

    def targets(self) -> dict[str, str]:
        found = {f"cases.{key}": target for key, target in self.cases.items()}
        return found | ({"default": self.default} if self.default else {})

    def result_keys(self) -> tuple[str, ...]:
        return ("value",)


def case_key(value: Any) -> str:
    """Case keys as text: YAML reads `1:` as an int and `true:` as a bool; values are matched the same way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class UpdateRecordStep(LinearStep):
    """Set fields of the workflow's record (validated by its entity, written in one transaction)."""

    kind: Literal["update_record"]
    set: dict[str, Any] = Field(default_factory=dict, description="Field → value; `${name}` allowed in text.")
    compute: dict[str, str] = Field(default_factory=dict, description="Field → expression.")

    @model_validator(mode="after")
    def _something_to_set(self) -> UpdateRecordStep:
        if not self.set and not self.compute:
            raise ValueError("give `set` (values) or `compute` (expressions) for at least one field")
        both = sorted(set(self.set) & set(self.compute))
        if both:
            raise ValueError(f"field {both[0]!r} is in both `set` and `compute`")
        return self


class AskConfirmationStep(BaseStep):
    """A human task: the workflow waits until someone approves (possibly picking an option) or rejects."""

    kind: Literal["ask_confirmation"]
    title: str = Field(description="What is asked; `${name}` allowed.")
    message: str = Field("", description="Details for the person deciding; `${name}` allowed.")
    assignee: str | None = Field(None, description="Who should decide (a user or role name).")
    approve: str | None = Field(None, description="The step after an approval without an option.")
    options: dict[str, str] = Field(default_factory=dict, description="Option → the step after picking it.")
    reject: str = Field(description="The step after a rejection.")

    @model_validator(mode="after")
    def _a_way_forward(self) -> AskConfirmationStep:
        if not self.approve and not self.options:
            raise ValueError("give `approve` (the step after an approval) or `options` (option → step)")
        return self

    def targets(self) -> dict[str, str]:
        found = {"approve": self.approve} if self.approve else {}
        found |= {f"options.{key}": target for key, target in self.options.items()}
        return found | {"reject": self.reject}

    def result_keys(self) -> tuple[str, ...]:
        return ("decision", "option", "by", "comment")


class NotifyStep(LinearStep):
    """Send an email and/or a webhook POST (see `aqtra_nb.notify`)."""

    kind: Literal["notify"]
    email: list[str] = Field(default_factory=list, description="Recipient addresses.")
    webhook: str | None = Field(None, description="URL to POST JSON to; may hold references.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Webhook headers (secrets as references)."
    )
    smtp: str | None = Field(None, description="An `smtp` connection name (default: $AQTRA_SMTP_URL).")
    subject: str = Field(description="Subject; `${name}` allowed.")
    body: str = Field("", description="Text; `${name}` allowed.")

    @model_validator(mode="after")
    def _a_target(self) -> NotifyStep:
        if not self.email and not self.webhook:
            raise ValueError("give `email` (addresses) or `webhook` (a URL)")
        # the same checks as job notifications (addresses, no clear credentials); `${field}` in an
        # address is filled in when the step runs, and checked then
        later = "https://checked.later/" if self.webhook and self.webhook.startswith("${") else self.webhook
        self.notify_settings([a if "${" not in a else "checked.later@example.com" for a in self.email], later)
        return self

    def notify_settings(self, email: list[str], webhook: str | None) -> Notify:
        return Notify(email=email, webhook=webhook, headers=self.headers, smtp=self.smtp)

    @field_validator("email", mode="before")
    @classmethod
    def _one_address(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def result_keys(self) -> tuple[str, ...]:
        return ("sent", "delivered")


class FinishStep(BaseStep):
    """The end of a path: the workflow's final status and message."""

    kind: Literal["finish"]
    status: Literal["succeeded", "rejected", "failed", "cancelled"] = Field(
        "succeeded",
        description="Final status: `rejected` for a path a person said no to (`cancelled` is for workflows "
        "stopped with `workflows cancel`).",
    )
    message: str = Field("", description="Shown with the workflow; `${name}` allowed.")


StepKind = Annotated[
    RunFlowStep
    | RunNotebookStep
    | IfStep
    | SwitchStep
    | UpdateRecordStep
    | AskConfirmationStep
    | NotifyStep
    | FinishStep,
    Field(discriminator="kind"),
]
STEP_KINDS: dict[str, type[BaseStep]] = {
    "run_flow": RunFlowStep,
    "run_notebook": RunNotebookStep,
    "if": IfStep,
    "switch": SwitchStep,
    "update_record": UpdateRecordStep,
    "ask_confirmation": AskConfirmationStep,
    "notify": NotifyStep,
    "finish": FinishStep,
}


class WorkflowSpec(LocatedSpec):
    """A workflow: typed parameters, the entity of its record, and its steps (the first one starts)."""

    workflow: str = Field(description="Workflow name.")
    description: str = Field("", description="What the workflow does.")
    entity: str | None = Field(
        None, description="The entity of the record it works on (a name or 'module:Class')."
    )
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict, description="Typed parameters.")
    steps: list[StepKind] = Field(min_length=1, description="The steps; execution starts at the first.")

    @property
    def base_dir(self) -> Path:
        """The folder that flow and notebook paths are relative to."""
        return self._base_dir or Path.cwd()

    def step(self, step_id: str) -> BaseStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def next_in_file(self, step_id: str) -> str | None:
        """The step written after `step_id` (where a step without `next` goes)."""
        ids = [s.id for s in self.steps]
        position = ids.index(step_id)
        return ids[position + 1] if position + 1 < len(ids) else None

    def successors(self, step: BaseStep) -> dict[str, str]:
        """{field: step id} of where `step` may go, with the implicit `next` filled in."""
        found = step.targets()
        if isinstance(step, LinearStep) and step.next is None:
            following = self.next_in_file(step.id)
            if following is not None:
                found["next"] = following
        return found

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_defaults=True, mode="json") | {
            "steps": [
                s.model_dump(by_alias=True, exclude_defaults=True, mode="json") | {"kind": s.kind}
                for s in self.steps
            ]
        }
