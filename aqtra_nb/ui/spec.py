"""App specs: `*.app.yaml` files (components, layout, bindings to flows by step id) as pydantic models.

Unknown keys are errors; every error names the file, the field path and the YAML line. References
between parts (a component's flow and step, a form's fields, a layout's component ids, a button's form)
are checked when the file is loaded, before anything is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from ..errors import AqtraError, ExpressionError, did_you_mean
from ..expr import parse_aggregation, parse_expression
from ..spec.io import line_of, parse_yaml, read_spec_file


class AppSpecError(AqtraError):
    """An app spec is not valid: the message names the file, the field path and the line."""


class AppModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FlowRef(AppModel):
    """A flow the app runs."""

    path: str = Field(description="The flow file, relative to the app file.")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values the app always passes (the form's values win)."
    )
    record: bool = Field(True, description="Record the app's runs in the run store.")


SampleFormat = Literal["parquet", "csv"]


def _parquet_only() -> list[SampleFormat]:
    return ["parquet"]


class SampleDataSpec(AppModel):
    """The synthetic sales tables (`aqtra_nb.datasets`) an example app reads, made when they are missing."""

    folder: str = Field("data", description="Where the tables go, relative to the app file.")
    scale: float = Field(0.05, gt=0, le=10, description="1 = a million orders.")
    seed: int = Field(42, description="The same scale and seed give the same data.")
    formats: list[SampleFormat] = Field(
        default_factory=_parquet_only, min_length=1, description="File formats to write."
    )


class Bound(AppModel):
    flow: str | None = Field(
        None, description="The flow's name in `flows` (may be left out if there is one)."
    )
    step: str = Field(description="The step whose output the component shows.")


class DataGridSpec(AppModel):
    """A paged, sortable, filterable table of a step's output or an entity's records."""

    type: Literal["datagrid"]
    flow: str | None = Field(
        None, description="The flow's name in `flows` (may be left out if there is one)."
    )
    step: str | None = Field(None, description="The step whose output the grid shows.")
    entity: str | None = Field(
        None, description="Show an entity's records instead of a step (name or module:Class)."
    )
    title: str = ""
    page_size: int = Field(20, ge=1, le=10_000)
    columns: list[str] | None = Field(None, description="Columns to show (default: all).")
    filters: list[str] = Field(
        default_factory=list, description="Fixed filters (expressions; all must hold)."
    )
    show_filter: bool = Field(True, description="Let users type a filter.")
    selection: Literal["none", "single", "multiple"] = "single"
    formats: dict[str, str] = Field(default_factory=dict, description="Column → format, e.g. '{:,.0f}'.")


class ChartSpec(Bound):
    """A chart of a step's output."""

    type: Literal["chart"]
    kind: Literal["bar", "hbar", "line", "pie", "donut", "scatter"] = "bar"
    x: str = Field(description="Category (or label) column.")
    y: str | list[str] = Field(description="Value column(s).")
    title: str = ""
    height: int = Field(360, ge=100, le=2000)


class MetricSpec(Bound):
    """A KPI card."""

    type: Literal["metric"]
    label: str
    value: str = Field(description="An aggregation (`sum(revenue)`) or a column of a one-row step.")
    format: str | None = Field(None, description="Python format of the number (default: 1,234 or 1,234.50).")
    caption: str = ""


class FormSpec(AppModel):
    """A form for a flow's parameters (its values become the flow's parameters) or for an entity."""

    type: Literal["form"]
    flow: str | None = Field(None, description="Whose parameters (may be left out if there is one flow).")
    entity: str | None = Field(None, description="An entity to create records of (name or module:Class).")
    fields: list[str] | None = Field(None, description="Fields to show (default: all).")
    live: bool = Field(False, description="Re-run the flow on every valid change.")
    submit_label: str | None = Field(None, description="A submit button of the form itself.")
    title: str = ""


class ActionSpec(AppModel):
    """What a button does."""

    do: Literal["run_flow", "refresh", "save_record", "start_workflow"]
    flow: str | None = Field(None, description="run_flow: the flow's name.")
    form: str | None = Field(None, description="The form whose values are used.")
    refresh: list[str] = Field(
        default_factory=list, description="Components to refresh afterwards (or refresh)."
    )
    workflow: str | None = Field(
        None, description="start_workflow: the workflow file, relative to the app file."
    )
    record: str | None = Field(
        None,
        description="start_workflow: a datagrid of entity records; the workflow works on its selected row.",
    )


class ButtonSpec(AppModel):
    type: Literal["button"]
    label: str
    action: ActionSpec
    style: Literal["primary", "success", "info", "warning", "danger", ""] = "primary"


class StatusSpec(AppModel):
    """A flow's progress bar and its last outcome or error message."""

    type: Literal["status"]
    flow: str | None = None


class MarkdownSpec(AppModel):
    type: Literal["markdown"]
    text: str


Component = Annotated[
    DataGridSpec | ChartSpec | MetricSpec | FormSpec | ButtonSpec | StatusSpec | MarkdownSpec,
    Field(discriminator="type"),
]


class PageLayout(AppModel):
    type: Literal["page"]
    title: str = ""
    children: list[LayoutNode] = Field(default_factory=list)


class PanelLayout(AppModel):
    type: Literal["panel"]
    title: str = ""
    children: list[LayoutNode] = Field(default_factory=list)


class GridLayout(AppModel):
    type: Literal["grid"]
    columns: int = Field(2, ge=1, le=12)
    children: list[LayoutNode] = Field(default_factory=list)


class TabsLayout(AppModel):
    type: Literal["tabs"]
    tabs: dict[str, LayoutNode] = Field(description="Tab title → content.")


LayoutNode = Annotated[
    str | Annotated[PageLayout | PanelLayout | GridLayout | TabsLayout, Field(discriminator="type")],
    Field(description="A component id, or a layout container."),
]


class AppSpec(AppModel):
    """An app: flows, components bound to their steps, and a layout."""

    app: str = Field(description="App name.")
    title: str = ""
    description: str = ""
    run_on_start: bool = Field(True, description="Run every flow when the app is shown.")
    flows: dict[str, FlowRef] = Field(default_factory=dict)
    sample_data: SampleDataSpec | None = Field(
        None,
        description="Make the sample sales tables when the app is built, if they are not there yet "
        "(for examples that must run on a fresh clone).",
    )
    components: dict[str, Component] = Field(default_factory=dict)
    layout: LayoutNode | None = Field(None, description="Default: a page with every component in order.")

    _source: str | None = PrivateAttr(None)
    _folder: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def folder(self) -> Path:
        """Flow paths resolve against this folder (the app file's)."""
        return self._folder


for _model in (PageLayout, PanelLayout, GridLayout, TabsLayout, AppSpec):
    _model.model_rebuild()


def app_json_schema() -> dict[str, Any]:
    """The JSON Schema of `*.app.yaml` files, for editors."""
    schema = AppSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "aqtra-nb app"
    return schema


# -- loading -----------------------------------------------------------------------------------------------


def load_app_spec(path: str | Path) -> AppSpec:
    """Parse and check an `*.app.yaml` file, including its references to flows, steps and components."""
    path = Path(path)
    text = read_spec_file(path, "app", AppSpecError)
    return parse_app_spec(text, source=str(path), folder=path.parent)


def parse_app_spec(text: str, *, source: str | None = None, folder: Path | None = None) -> AppSpec:
    document = parse_yaml(text, source=source, error=AppSpecError)
    if not isinstance(document, dict):
        raise AppSpecError(
            "an app file must be a mapping with keys `app`, `flows`, `components`, `layout`", file=source
        )
    try:
        spec = AppSpec.model_validate(document)
    except ValidationError as exc:
        raise _located(exc, source, text, document) from None
    spec._source = source
    spec._folder = (folder or Path.cwd()).resolve()
    check_references(spec, text)
    return spec


def _located(exc: ValidationError, source: str | None, text: str, document: Any) -> AppSpecError:
    # a layout node is "an id or a container": when it is a mapping, the container's error is the real one
    errors = [e for e in exc.errors() if e["type"] != "string_type"] or exc.errors()
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = _document_path(document, first["loc"])
    field = ".".join(str(part) for part in loc) or None
    if first["type"] == "extra_forbidden":
        message = "unknown key; remove it or check its spelling."
    elif first["type"] == "missing":
        message = "required key is missing"
    else:
        message = first["msg"]
    line = line_of(text, loc)
    return AppSpecError(message, file=source, field=field, line=line)


def _document_path(document: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic puts the chosen union member into error locations (`chart`, `str`, ...), which the user
    never wrote: drop those, keep the parts that walk the document (and a missing key's name)."""
    path: list[Any] = []
    node, tag_skipped = document, False
    for part in loc:
        if isinstance(node, dict) and part == node.get("type") and not tag_skipped:
            tag_skipped = True
        elif part == "str" or (isinstance(part, str) and part.startswith(("function-", "tagged-union["))):
            continue
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node, tag_skipped = node[part], False
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node, tag_skipped = node[part], False
        else:
            path.append(part)
            node = None
    return tuple(path)


# -- references ---------------------------------------------------------------------------------------------


def check_references(spec: AppSpec, text: str | None = None) -> None:
    """Flows load, steps and parameters exist, ids refer to components, expressions parse."""
    from ..spec import load_flow

    def fail(message: str, *loc: Any) -> AppSpecError:
        line = line_of(text, loc) if text else None
        return AppSpecError(message, file=spec.source, field=".".join(str(p) for p in loc), line=line)

    flows = {}
    for name, ref in spec.flows.items():
        try:
            flows[name] = load_flow(spec.folder / ref.path)
        except AqtraError as exc:
            if exc.file is not None:  # a mistake inside the flow file: its message names that file
                raise
            raise fail(exc.message, "flows", name, "path") from None
        params = flows[name].parameters
        for key in ref.parameters:
            if key not in params:
                raise fail(
                    f"flow {name!r} has no parameter {key!r}.{did_you_mean(key, params)}",
                    "flows",
                    name,
                    "parameters",
                    key,
                )

    def flow_of(component_id: str, flow: str | None) -> str:
        if flow is None:
            if len(flows) == 1:
                return next(iter(flows))
            raise fail(
                f"say which flow (`flow:`); this app has {len(flows)} flows: {', '.join(flows) or 'none'}",
                "components",
                component_id,
            )
        if flow not in flows:
            raise fail(
                f"no flow {flow!r} in `flows`.{did_you_mean(flow, flows)} Flows: {', '.join(flows) or 'none'}",
                "components",
                component_id,
                "flow",
            )
        return flow

    for cid, component in spec.components.items():
        if isinstance(component, DataGridSpec) and component.entity is not None:
            if component.step is not None:
                raise fail("give a datagrid either `step` or `entity`, not both", "components", cid)
            _check_entity(component.entity, fail, cid, spec.folder)
        elif isinstance(component, DataGridSpec | ChartSpec | MetricSpec):
            if component.step is None:
                raise fail(
                    "say which step the component shows (`step:`) or, for a datagrid, `entity:`",
                    "components",
                    cid,
                )
            name = flow_of(cid, component.flow)
            steps = [s.id for s in flows[name].steps]
            if component.step not in steps:
                raise fail(
                    f"flow {name!r} has no step {component.step!r}.{did_you_mean(component.step, steps)} "
                    f"Steps: {', '.join(steps)}",
                    "components",
                    cid,
                    "step",
                )
        if isinstance(component, DataGridSpec):
            for index, condition in enumerate(component.filters):
                _check_expression(condition, fail, "components", cid, "filters", index)
        if isinstance(component, MetricSpec):
            try:
                parse_aggregation(component.value)
            except ExpressionError:
                _check_expression(component.value, fail, "components", cid, "value")
        if isinstance(component, FormSpec):
            if component.entity is not None:
                if component.flow is not None:
                    raise fail("give a form either `flow` or `entity`, not both", "components", cid)
                entity = _check_entity(component.entity, fail, cid, spec.folder)
                known = list(entity.entity_fields)
            else:
                name = flow_of(cid, component.flow)
                known = list(flows[name].parameters)
            for field in component.fields or ():
                if field not in known:
                    raise fail(
                        f"no field {field!r}.{did_you_mean(field, known)} Fields: {', '.join(known)}",
                        "components",
                        cid,
                        "fields",
                    )
        if isinstance(component, StatusSpec):
            flow_of(cid, component.flow)
        if isinstance(component, ButtonSpec):
            _check_action(spec, cid, component.action, fail, flow_of)

    placed: set[str] = set()
    if spec.layout is not None:
        _check_layout(spec, spec.layout, ("layout",), placed, fail)


def _check_expression(text: str, fail: Any, *loc: Any) -> None:
    try:
        parse_expression(text)
    except ExpressionError as exc:
        raise fail(f"not a valid expression: {exc}", *loc) from None


@contextmanager
def importable(folder: Path) -> Iterator[None]:
    """Entities named `module:Class` may live in a module beside the app file."""
    added = str(folder) not in sys.path
    if added:
        sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        if added and str(folder) in sys.path:
            sys.path.remove(str(folder))


def _check_entity(name: str, fail: Any, cid: str, folder: Path) -> Any:
    from ..entities import registry

    try:
        with importable(folder):
            return registry.get(name)
    except AqtraError as exc:
        raise fail(exc.message, "components", cid, "entity") from None


def _check_action(spec: AppSpec, cid: str, action: ActionSpec, fail: Any, flow_of: Any) -> None:
    loc = ("components", cid, "action")
    forms = [k for k, c in spec.components.items() if isinstance(c, FormSpec)]
    if action.form is not None and action.form not in forms:
        raise fail(
            f"no form {action.form!r}.{did_you_mean(action.form, forms)} Forms: {', '.join(forms) or 'none'}",
            *loc,
            "form",
        )
    for index, target in enumerate(action.refresh):
        if target not in spec.components:
            raise fail(
                f"no component {target!r}.{did_you_mean(target, spec.components)}", *loc, "refresh", index
            )
    if action.do == "run_flow":
        flow_of(cid, action.flow)
    elif action.do == "save_record":
        form = spec.components.get(action.form or "")
        if not isinstance(form, FormSpec) or form.entity is None:
            raise fail("save_record needs `form:` naming a form of an entity", *loc, "form")
    elif action.do == "start_workflow":
        if not action.workflow:
            raise fail("start_workflow needs `workflow:`", *loc, "workflow")
        if not (spec.folder / action.workflow).is_file():
            raise fail(f"workflow file not found: {spec.folder / action.workflow}", *loc, "workflow")
        grid = spec.components.get(action.record or "")
        if action.record is not None and not (isinstance(grid, DataGridSpec) and grid.entity):
            grids = [k for k, c in spec.components.items() if isinstance(c, DataGridSpec) and c.entity]
            raise fail(
                f"`record:` names a datagrid of entity records; those here: {', '.join(grids) or 'none'}",
                *loc,
                "record",
            )
    elif action.do == "refresh" and not action.refresh:
        raise fail("refresh needs `refresh: [component ids]`", *loc, "refresh")


def _check_layout(spec: AppSpec, node: Any, loc: tuple[Any, ...], placed: set[str], fail: Any) -> None:
    if isinstance(node, str):
        if node not in spec.components:
            raise fail(
                f"no component {node!r}.{did_you_mean(node, spec.components)} "
                f"Components: {', '.join(spec.components)}",
                *loc,
            )
        if node in placed:
            raise fail(f"component {node!r} is placed twice; a component appears once", *loc)
        placed.add(node)
        return
    if isinstance(node, TabsLayout):
        for title, child in node.tabs.items():
            _check_layout(spec, child, (*loc, "tabs", title), placed, fail)
        return
    for index, child in enumerate(node.children):
        _check_layout(spec, child, (*loc, "children", index), placed, fail)
