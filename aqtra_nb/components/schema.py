"""JSON Schema of flow files, generated from the pydantic models and every registered component's params."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import Field, create_model

from ..spec.models import FlowSpec, ParameterSpec, SpecModel, StepSpec
from .registry import ComponentRegistry
from .registry import registry as default_registry


def flow_json_schema(registry: ComponentRegistry | None = None) -> dict[str, Any]:
    """A schema in which `steps[*].with` is checked against the chosen component's parameters."""
    registry = registry or default_registry
    step_models = []
    for component in registry:
        model = create_model(
            f"Step_{component.name}",
            __base__=SpecModel,
            __doc__=component.summary(),
            id=(str, Field(description=StepSpec.model_fields["id"].description)),
            # A Literal of a name known at run time: no static type.
            component=(Literal[component.name], Field(description=component.summary())),  # type: ignore[arg-type]
            input=(str | None, Field(None, description="The one input step's id.")),
            inputs=(list[str] | None, Field(None, description="Input step ids.")),
            with_=(component.Params, Field(default_factory=dict, alias="with")),
            description=(str, ""),
            ui=(dict[str, Any] | None, None),
        )
        step_models.append(model)
    # A Union of models made at run time: no static type.
    steps_type: Any = list[Union[tuple(step_models)]]  # type: ignore[misc]  # noqa: UP007
    document = create_model(
        "FlowFile",
        __base__=SpecModel,
        __doc__=FlowSpec.__doc__,
        flow=(str, Field(description="Flow name.")),
        description=(str, ""),
        parameters=(dict[str, ParameterSpec], Field(default_factory=dict)),
        steps=(steps_type, Field(default_factory=list)),
    )
    schema = document.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "aqtra-nb flow"
    return schema
