"""The component catalogue and the JSON Schemas of flow and app files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api import AqtraHandler, operation
from ..models import ComponentInfo, ComponentList, JsonSchema

if TYPE_CHECKING:
    from ...components.base import Component


def component_info(component: type[Component]) -> ComponentInfo:
    return ComponentInfo(
        name=component.name,
        group=component.group,
        description=component.summary(),
        min_inputs=component.min_inputs,
        max_inputs=component.max_inputs,
        sink=component.is_sink,
        parameters=component.Params.model_json_schema(by_alias=True),
    )


class ComponentsHandler(AqtraHandler):
    @operation(
        "Every registered component (plug-ins included): group, description, parameters schema.",
        response=ComponentList,
    )
    def get(self) -> None:
        from ...components import registry

        self.reply(ComponentList(components=[component_info(c) for c in registry]))


class FlowSchemaHandler(AqtraHandler):
    @operation("JSON Schema of flow files (`steps[*].with` checked per component).", response=JsonSchema)
    def get(self) -> None:
        from ...components.schema import flow_json_schema

        self.reply(flow_json_schema())


class AppSchemaHandler(AqtraHandler):
    @operation("JSON Schema of app files (`*.app.yaml`).", response=JsonSchema)
    def get(self) -> None:
        from ...ui.spec import app_json_schema

        self.reply(app_json_schema())


ROUTES = [
    (r"components", ComponentsHandler),
    (r"schema/flow", FlowSchemaHandler),
    (r"schema/app", AppSchemaHandler),
]
