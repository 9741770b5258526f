"""`App`: components bound to flows. A parameter change or a button press re-runs a flow in the background;
the components showing its steps' outputs update; an error shows as a message in the app."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..errors import AqtraError, ParameterError, did_you_mean
from ..flow import Flow
from ..spec import FlowSpec
from ..spec.params import convert_value
from .actions import Button, RunFlow
from .chart import Chart
from .datagrid import DataGrid
from .display import Metric
from .form import Form
from .layout import Page, Panel
from .runner import FlowRunner, as_flow
from .status import RunStatusView

logger = logging.getLogger(__name__)


class App:
    """One or more flows with a form, a Run button, a status line and components bound to their steps.

    ```python
    app = App(flow, title="Sales")                      # a form for the flow's parameters, Run, status
    app.grid("report"); app.chart("report", kind="bar", x="region", y="revenue")
    app                                                 # shows it and starts the first run
    ```
    `auto_run=True` re-runs on every valid form change instead of waiting for the button.
    """

    def __init__(
        self,
        flow: Flow | FlowSpec | str | Path | None = None,
        *,
        flows: Mapping[str, Flow | FlowSpec | str | Path] | None = None,
        title: str = "",
        form: bool | Sequence[str] = True,
        run_on_start: bool = True,
        auto_run: bool = False,
        record: Any = True,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        if flow is not None and flows is not None:
            raise AqtraError("give an App one flow, or `flows={name: flow, ...}`, not both")
        if flow is not None:
            loaded = as_flow(flow)
            flows = {loaded.spec.flow: loaded}
        self.title = title
        self.run_on_start = run_on_start
        self.runners: dict[str, FlowRunner] = {
            name: FlowRunner(f, record=record) for name, f in (flows or {}).items()
        }
        self.base_parameters: dict[str, dict[str, Any]] = {name: {} for name in self.runners}
        if parameters:
            self.base_parameters[self._flow_name(None)] = dict(parameters)
        self.forms: dict[str, Form] = {}
        self.buttons: dict[str, Button] = {}
        self.statuses: dict[str, RunStatusView] = {}
        self.components: list[tuple[Any, str, str]] = []  # (component, flow name, step)
        self.layout: w.Widget | None = None
        self.widgets: dict[str, Any] = {}  # by id, for apps built from a spec
        self.folder = Path.cwd()  # an app spec's folder: its relative paths resolve against it
        self._view: w.Widget | None = None
        self._started = False
        for name, runner in self.runners.items():
            runner.observe(lambda change, name=name: self._show_result(name, change["new"]), names="result")
            if form:
                fields = None if form is True else list(form)
                self.add_form(Form.from_parameters(runner.flow, fields, live=auto_run), flow=name)
            self.statuses[name] = RunStatusView(runner)
            action = RunFlow(runner, self.forms.get(name))
            action.parameters = self.base_parameters[name]  # the same dict: set_parameters reaches it
            self.buttons[name] = Button("Run", action)
        self.auto_run = auto_run

    # -- flows and forms -----------------------------------------------------------------------------------
    def _flow_name(self, flow: str | None) -> str:
        if flow is None:
            if not self.runners:
                raise AqtraError("this app has no flows")
            if len(self.runners) != 1:
                raise AqtraError(
                    f"this app has several flows ({', '.join(self.runners)}); say which: flow=..."
                )
            return next(iter(self.runners))
        if flow not in self.runners:
            raise AqtraError(
                f"no flow {flow!r} in this app.{did_you_mean(flow, self.runners)} Flows: {', '.join(self.runners)}",
                field="flow",
            )
        return flow

    @property
    def flow(self) -> Flow | None:
        """The app's flow when it has exactly one (else None: say which with `runners[name].flow`)."""
        return next(iter(self.runners.values())).flow if len(self.runners) == 1 else None

    @property
    def runner(self) -> FlowRunner:
        """The runner of the app's only flow."""
        return self.runners[self._flow_name(None)]

    @property
    def form(self) -> Form | None:
        return self.forms.get(self._flow_name(None))

    def add_form(self, form: Form, *, flow: str | None = None) -> Form:
        """Use `form`'s values as the flow's parameters (a valid change re-runs when the form is live)."""
        name = self._flow_name(flow)
        self.forms[name] = form
        action = self.buttons[name].action if name in self.buttons else None
        if isinstance(action, RunFlow):  # (made after the forms the app builds itself)
            action.form = form
        form.observe(lambda change, name=name: self._form_changed(name), names="value")
        return form

    def _form_changed(self, name: str) -> None:
        form = self.forms[name]
        if form.live and self._started:
            self.runners[name].submit({**self.base_parameters[name], **form.value})

    def set_parameters(self, values: Mapping[str, Any], *, flow: str | None = None) -> dict[str, Any]:
        """Check values (e.g. from a URL's query string) against the flow's typed parameters and put them
        into its form; raises ParameterError naming the field. Returns the converted values."""
        name = self._flow_name(flow)
        specs = self.runners[name].flow.spec.parameters
        converted = {}
        for key, value in values.items():
            if key not in specs:
                raise ParameterError(
                    f"unknown parameter {key!r}.{did_you_mean(key, specs)} The flow's parameters are: "
                    f"{', '.join(specs) or 'none'}",
                    field=key,
                )
            converted[key] = convert_value(key, specs[key], value)
        form = self.forms.get(name)
        if form is not None:
            form.set_values({k: v for k, v in converted.items() if k in form.inputs})
            extra = {k: v for k, v in converted.items() if k not in form.inputs}
        else:
            extra = converted
        self.base_parameters[name].update(extra)
        return converted

    # -- components ----------------------------------------------------------------------------------------
    def bind(self, component: Any, step: str | None = None, *, flow: str | None = None) -> Any:
        """Show `step`'s output in `component` after every run (its `data` is set)."""
        step = step or getattr(component, "step", None)
        if not step:
            raise AqtraError(f"say which step the {type(component).__name__} shows: step=...", field="step")
        name = self._flow_name(flow or getattr(component, "flow", None))
        runner = self.runners[name]
        steps = [s.id for s in runner.flow.spec.steps]
        if step not in steps:
            raise AqtraError(
                f"flow {name!r} has no step {step!r}.{did_you_mean(step, steps)} Steps: {', '.join(steps)}",
                field="step",
            )
        runner.want(step)
        component.step, component.flow = step, name
        self.components.append((component, name, step))
        if runner.result is not None and runner.status == "succeeded":
            component.data = runner.result[step]
        return component

    def grid(self, step: str, *, flow: str | None = None, **options: Any) -> DataGrid:
        return self.bind(DataGrid(**options), step, flow=flow)

    def chart(self, step: str, *, flow: str | None = None, **options: Any) -> Chart:
        return self.bind(Chart(**options), step, flow=flow)

    def metric(self, label: str, value: str, *, step: str, flow: str | None = None, **options: Any) -> Metric:
        return self.bind(Metric(label, value, **options), step, flow=flow)

    def run_button(self, *, flow: str | None = None) -> Button:
        return self.buttons[self._flow_name(flow)]

    def status(self, *, flow: str | None = None) -> RunStatusView:
        return self.statuses[self._flow_name(flow)]

    def _show_result(self, name: str, result: Any) -> None:
        if result is None:
            return
        problems = []
        for component, flow, step in self.components:
            if flow != name:
                continue
            try:
                if isinstance(component, DataGrid):
                    component.show(result[step], params=dict(result.parameters))
                else:
                    component.data = result[step]
            except AqtraError as exc:
                problems.append(f"{type(component).__name__} of step {step!r}: {exc}")
        if problems:
            raise AqtraError("; ".join(problems))

    # -- running -------------------------------------------------------------------------------------------
    def run(self, flow: str | None = None, /, **parameters: Any) -> None:
        """Start a run in the background with the form's values overlaid by `parameters`."""
        name = self._flow_name(flow)
        form = self.forms.get(name)
        values: dict[str, Any] = dict(self.base_parameters[name])
        if form is not None:
            checked = form.validate()
            if checked is None:
                raise AqtraError(f"the form has errors: {form.errors}")
            values.update(checked)
        values.update(parameters)
        self._started = True
        self.runners[name].submit(values)

    def wait(self, timeout: float | None = 120) -> None:
        """Block until every flow's runs are done (for scripts and tests; the app itself never blocks)."""
        for runner in self.runners.values():
            runner.wait(timeout)

    def start(self) -> None:
        """The first run of every flow (done when the app is first shown, if `run_on_start`)."""
        self._started = True
        for name in self.runners:
            form = self.forms.get(name)
            if form is not None and form.validate() is None:
                continue  # required parameters without defaults: wait for the user
            self.run(name)

    # -- display -------------------------------------------------------------------------------------------
    @property
    def view(self) -> w.Widget:
        """The app's widget: its `layout`, or a page with each flow's form, Run button and status, then the
        components in the order they were bound."""
        if self._view is None:
            self._view = self.layout or self._default_layout()
            self._view.add_class("aqtra-app")
            if isinstance(self._view, w.Box):
                from .resync import Resync

                self._view.children = (*self._view.children, Resync(self._view))
        return self._view

    def _default_layout(self) -> w.Widget:
        controls = []
        for name in self.runners:
            parts = [self.forms[name]] if name in self.forms else []
            parts += [self.buttons[name], self.statuses[name]]
            title = "Parameters" if len(self.runners) == 1 else name
            controls.append(Panel(parts, title=title))
        return Page([*controls, *(c for c, _, _ in self.components)], title=self.title)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view)
        if self.run_on_start and not self._started:
            self.start()

    # -- files ---------------------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path, **options: Any) -> App:
        """Build the app an `*.app.yaml` file describes (see docs/ui.md)."""
        from .build import build_app
        from .spec import load_app_spec

        return build_app(load_app_spec(path), **options)
