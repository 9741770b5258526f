"""Turn a checked `AppSpec` into an `App`: widgets for its components, bindings, actions and layout."""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as w

from ..errors import AqtraError
from ..flow import Flow
from .actions import Button, Refresh, RunFlow, SaveRecord, StartWorkflow
from .app import App
from .chart import Chart
from .datagrid import DataGrid
from .display import Markdown, Metric
from .form import Form
from .layout import Grid, Page, Panel, Tabs
from .spec import (
    AppSpec,
    ButtonSpec,
    ChartSpec,
    DataGridSpec,
    FormSpec,
    GridLayout,
    MarkdownSpec,
    MetricSpec,
    PageLayout,
    PanelLayout,
    StatusSpec,
    TabsLayout,
    importable,
)

logger = logging.getLogger(__name__)


def build_app(spec: AppSpec, **options: Any) -> App:
    """The app the spec describes; `options` go to `App` (e.g. `record=False`, `run_on_start=False`)."""
    if spec.sample_data is not None:
        _make_sample_data(spec)
    flows = {name: Flow.load(spec.folder / ref.path) for name, ref in spec.flows.items()}
    options.setdefault("run_on_start", spec.run_on_start)
    record = options.pop("record", None)
    app = App(flows=flows, title=spec.title, form=False, **options)
    for name, ref in spec.flows.items():
        app.runners[name].record = ref.record if record is None else record
        app.base_parameters[name].update(ref.parameters)
    app.folder = spec.folder  # paths in the spec (workflows) resolve against the app file's folder
    with importable(spec.folder):
        widgets: dict[str, Any] = {}
        for cid, component in spec.components.items():  # forms first: buttons refer to them
            if isinstance(component, FormSpec):
                widgets[cid] = _form(app, component)
        for cid, component in spec.components.items():
            if cid not in widgets:
                widgets[cid] = _component(app, component, widgets)
    app.widgets = widgets
    app.layout = _layout(spec, spec.layout, widgets) if spec.layout is not None else None
    if app.layout is None:
        app.layout = Page(list(widgets.values()), title=spec.title)
    elif not isinstance(spec.layout, PageLayout) and spec.title:
        app.layout = Page([app.layout], title=spec.title)
    return app


def _make_sample_data(spec: AppSpec) -> None:
    from .. import datasets

    sample = spec.sample_data
    assert sample is not None
    folder = spec.folder / sample.folder
    if datasets.ensure_sales(folder, scale=sample.scale, seed=sample.seed, formats=sample.formats):
        logger.info("made the sample data of app %s in %s", spec.app, folder)


def _entity(name: str) -> Any:
    from ..entities import registry

    return registry.get(name)


def _form(app: App, spec: FormSpec) -> Form:
    options = {"live": spec.live, "submit_label": spec.submit_label, "title": spec.title}
    if spec.entity is not None:
        return Form.from_entity(_entity(spec.entity), spec.fields, **options)
    name = app._flow_name(spec.flow)
    form = Form.from_parameters(app.runners[name].flow, spec.fields, **options)
    app.add_form(form, flow=name)
    return form


def _component(app: App, spec: Any, widgets: dict[str, Any]) -> Any:
    if isinstance(spec, DataGridSpec):
        options: dict[str, Any] = {
            "title": spec.title,
            "page_size": spec.page_size,
            "filters": spec.filters,
            "columns": spec.columns,
            "show_filter": spec.show_filter,
            "selection_mode": spec.selection,
            "formats": spec.formats,
        }
        if spec.entity is not None:
            return DataGrid(_entity(spec.entity).frame, **options)
        return app.bind(DataGrid(**options), spec.step, flow=spec.flow)
    if isinstance(spec, ChartSpec):
        chart = Chart(kind=spec.kind, x=spec.x, y=spec.y, title=spec.title, height=spec.height)
        return app.bind(chart, spec.step, flow=spec.flow)
    if isinstance(spec, MetricSpec):
        metric = Metric(spec.label, spec.value, format=spec.format, caption=spec.caption)
        return app.bind(metric, spec.step, flow=spec.flow)
    if isinstance(spec, StatusSpec):
        return app.status(flow=spec.flow)
    if isinstance(spec, MarkdownSpec):
        return Markdown(spec.text)
    if isinstance(spec, ButtonSpec):
        return Button(spec.label, _action(app, spec, widgets), style=spec.style)
    raise TypeError(f"unknown component spec {type(spec).__name__}")  # pragma: no cover - the union is closed


def _action(app: App, spec: ButtonSpec, widgets: dict[str, Any]) -> Any:
    action = spec.action
    form = widgets.get(action.form) if action.form else None
    # components named in `refresh` may come later in the file: look them up when pressed
    targets = _Later(widgets, action.refresh)
    if action.do == "run_flow":
        name = app._flow_name(action.flow)
        run = RunFlow(app.runners[name], form or app.forms.get(name))
        run.parameters = app.base_parameters[name]
        return run
    if action.do == "save_record":
        assert form is not None  # the app spec's check: save_record names a form
        return SaveRecord(_entity(_entity_of(form)), form, refresh=targets)
    if action.do == "start_workflow":
        record = _selected_record(widgets, action.record) if action.record else None
        assert action.workflow is not None  # the app spec's check: start_workflow names one
        return StartWorkflow(app.folder / action.workflow, form, record=record)
    return _RefreshLater(targets)


def _selected_record(widgets: dict[str, Any], grid_id: str) -> Any:
    """A function giving the id of the record selected in a grid of entity records (asked when pressed)."""

    def record() -> int:
        selected = widgets[grid_id].selected
        if selected.empty or "id" not in selected.columns:
            raise AqtraError("Select a record in the list first.", field=grid_id)
        return int(selected["id"].iloc[0])

    return record


def _entity_of(form: Form) -> str:
    return form.model.entity_name  # type: ignore[union-attr]


class _Later:
    """The widgets named by ids, resolved when iterated (all widgets exist by then)."""

    def __init__(self, widgets: dict[str, Any], ids: list[str]) -> None:
        self.widgets, self.ids = widgets, ids

    def __iter__(self):
        return iter([self.widgets[i] for i in self.ids])


class _RefreshLater(Refresh):
    def __init__(self, targets: _Later) -> None:
        self.later = targets

    def __call__(self) -> str | None:
        self.targets = tuple(self.later)
        return super().__call__()


def _layout(spec: AppSpec, node: Any, widgets: dict[str, Any]) -> w.Widget:
    if isinstance(node, str):
        return widgets[node]
    if isinstance(node, TabsLayout):
        return Tabs({title: _layout(spec, child, widgets) for title, child in node.tabs.items()})
    children = [_layout(spec, child, widgets) for child in node.children]
    if isinstance(node, PageLayout):
        return Page(children, title=node.title or spec.title)
    if isinstance(node, PanelLayout):
        return Panel(children, title=node.title)
    assert isinstance(node, GridLayout)
    return Grid(children, columns=node.columns)
