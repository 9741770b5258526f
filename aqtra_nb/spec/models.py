"""Pydantic models of a flow document: the one shape shared by files, the Python builder and the editor."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

ParameterType = Literal["string", "integer", "number", "boolean", "date", "list"]

STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class SpecModel(BaseModel):
    """Base of user-facing specs: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def check_step_id(value: str) -> str:
    """A step id as written in files (flows and workflows): other steps and expressions name it."""
    if not STEP_ID.match(value):
        raise ValueError(
            f"step id {value!r} must start with a letter or '_' and hold only letters, digits, '_' or '-'"
        )
    return value


class LocatedSpec(SpecModel):
    """A spec that remembers the file it was loaded from and the folder its relative paths resolve against."""

    _source: str | None = PrivateAttr(None)
    _base_dir: Path | None = PrivateAttr(None)

    @property
    def source(self) -> str | None:
        """The file this spec was loaded from or saved to, if any (for error messages and relative paths)."""
        return self._source

    def located(self, source: str | None, base_dir: Path | None) -> Self:
        """Remember where this spec lives (for error messages and relative paths)."""
        self._source = source
        self._base_dir = base_dir.resolve() if base_dir is not None else None
        return self


class ParameterSpec(SpecModel):
    """A typed flow parameter. A parameter without a default must be given at run time."""

    # `default=` by keyword: mypy (without pydantic's plugin) takes a positional default for none
    type: ParameterType = Field(default="string", description="Value type; values are converted and checked.")
    default: Any = Field(default=None, description="Value used when the run does not set one.")
    description: str = Field(default="", description="Shown in forms and `aqtra-nb validate`.")
    choices: list[Any] | None = Field(default=None, description="Allowed values, if restricted.")

    @property
    def required(self) -> bool:
        return self.default is None


class StepCacheSpec(SpecModel):
    """How the step cache tells a step's source changed, when its own way is missing or not enough."""

    version: str | None = Field(
        None,
        description="Text that changes whenever the source's data does, e.g. `${as_of}` (after `${name}` "
        "substitution): for sources without a version of their own (SQL, HTTP).",
    )
    content: bool = Field(
        False,
        description="Hash the content of the source's local files instead of trusting their size and "
        "modification time (files copied with their times kept, clocks that go back).",
    )


class StepSpec(SpecModel):
    """One node of the flow: a component, its inputs (step ids) and its parameters (`with`)."""

    id: str = Field(description="Unique step id; other steps refer to it in `input`/`inputs`.")
    component: str = Field(description="Registered component name, e.g. `read_csv`, `filter`.")
    input: str | None = Field(None, description="The one input step's id.")
    inputs: list[str] | None = Field(None, description="Input step ids, for components with several inputs.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Component parameters.")
    description: str = Field("", description="What this step is for.")
    ui: dict[str, Any] | None = Field(
        None, description="Editor layout hints (position); ignored by the engine."
    )
    cache: bool | StepCacheSpec | None = Field(
        None,
        description="Step cache: false never caches this step; true caches a source that has no version "
        "of its own (SQL, HTTP, a script not declared pure) by its parameters alone; {version: ...} "
        "caches it while that text stays the same. Default: cached when the step's output is known to "
        "depend only on its parameters, inputs and source files.",
    )

    _id_is_name = field_validator("id")(check_step_id)

    @property
    def input_ids(self) -> list[str]:
        """Inputs in order, whichever of `input`/`inputs` was used."""
        if self.inputs is not None:
            return list(self.inputs)
        return [self.input] if self.input is not None else []


class FlowSpec(LocatedSpec):
    """A data flow: typed parameters and a DAG of steps (listed in any order)."""

    flow: str = Field(description="Flow name.")
    description: str = Field("", description="What the flow computes.")
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict, description="Typed parameters.")
    steps: list[StepSpec] = Field(default_factory=list, description="The steps; they form a DAG.")

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths resolve against: the flow file's, fixed when it was loaded or saved."""
        return self._base_dir

    def __eq__(self, other: object) -> bool:
        # The same flow wherever it was loaded from: the source path takes no part in equality.
        return isinstance(other, FlowSpec) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def to_document(self) -> dict[str, Any]:
        """Plain data for YAML/JSON, with defaults left out so files stay short."""
        doc = self.model_dump(by_alias=True, exclude_defaults=True, mode="json")
        doc.setdefault("steps", [])
        return doc


PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "date": (dt.date,),
    "list": (list, tuple),
}
