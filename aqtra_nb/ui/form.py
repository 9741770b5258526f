"""`Form`: inputs generated from a flow's parameters, a pydantic model or an entity; validated on submit,
with each message next to its field."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
import traitlets as t
from pydantic import BaseModel

from ..errors import AqtraError, did_you_mean
from ..spec import FlowSpec, ParameterSpec
from . import dom
from .fields import (
    FormField,
    as_text,
    check_model,
    check_parameters,
    fields_from_model,
    fields_from_parameters,
)


def error_html(text: str) -> str:
    """A message in the theme's error colour (JupyterLab's variable; red where there is no theme)."""
    return (
        '<span class="aqtra-error" role="alert" style="color:var(--jp-error-color1,#b00020)">'
        f"{html.escape(text)}</span>"
    )


class FormError(AqtraError):
    """A form names a field its source does not have."""


class Form(dom.VBox):
    """Inputs for a set of fields; `value` is the last valid value (a dict), `errors` the current messages.

    Build one with `Form.from_parameters(flow)`, `Form.from_model(Model)` or `Form.from_entity(Entity)`.
    Submitting (the form's button, `submit()`, or a `RunFlow`/`SaveRecord` action) validates all fields,
    shows messages next to the bad ones and, when all are valid, sets `value` and calls `on_submit`
    callbacks. With `live=True` every valid change sets `value` too.

    DOM hooks: `.aqtra-form`; per field `.aqtra-form-field.aqtra-field-<name>` holding `.aqtra-form-label`,
    the input (`.aqtra-form-input`) and `.aqtra-form-error`; the button `.aqtra-form-submit`.
    """

    value = t.Dict()
    errors = t.Dict()
    valid = t.Bool(True)

    def __init__(
        self,
        fields: Sequence[FormField],
        *,
        parameters: Mapping[str, ParameterSpec] | None = None,
        model: type[BaseModel] | None = None,
        submit_label: str | None = None,
        live: bool = False,
        title: str = "",
    ) -> None:
        self.fields = list(fields)
        self.parameters = dict(parameters or {})
        self.model = model
        self.instance: BaseModel | None = None
        self.live = live
        self._callbacks: list[Callable[[dict[str, Any]], Any]] = []
        self.inputs: dict[str, w.Widget] = {}
        self.messages: dict[str, w.HTML] = {}
        self._touched: set[str] = set()
        rows: list[w.Widget] = []
        if title:
            heading = dom.HTML(f"<b>{html.escape(title)}</b>", _dom_classes=("aqtra-form-title",))
            rows.append(heading)
        rows.extend(self._row(field) for field in self.fields)
        self.submit_button: w.Button | None = None
        if submit_label:
            self.submit_button = dom.Button(
                description=submit_label, button_style="primary", _dom_classes=("aqtra-form-submit",)
            )
            self.submit_button.on_click(lambda _: self.submit())
            rows.append(self.submit_button)
        super().__init__(rows, _dom_classes=("aqtra-form",))
        values, errors = self._check()
        if not errors:
            self.value = values

    # -- construction --------------------------------------------------------------------------------------
    @classmethod
    def from_parameters(cls, flow: Any, fields: Sequence[str] | None = None, **kwargs: Any) -> Form:
        """A form for a flow's parameters (a Flow, FlowSpec or a mapping of ParameterSpec)."""
        parameters = _parameters_of(flow)
        _check_names(fields, parameters, "flow parameters")
        return cls(fields_from_parameters(parameters, fields), parameters=parameters, **kwargs)

    @classmethod
    def from_model(cls, model: type[BaseModel], fields: Sequence[str] | None = None, **kwargs: Any) -> Form:
        """A form for a pydantic model (or an entity: the fields the store sets are left out)."""
        form_fields = fields_from_model(model, None)
        _check_names(fields, {f.name: f for f in form_fields}, f"fields of {model.__name__}")
        if fields is not None:
            by_name = {f.name: f for f in form_fields}
            form_fields = [by_name[name] for name in fields]
        return cls(form_fields, model=model, **kwargs)

    from_entity = from_model

    def _row(self, field: FormField) -> w.Widget:
        marker = ' <span class="aqtra-required" title="required">*</span>' if field.required else ""
        label = dom.HTML(
            f"{html.escape(field.label)}{marker}",
            layout=w.Layout(width="150px"),
            _dom_classes=("aqtra-form-label",),
        )
        widget = _input(field)
        widget.observe(lambda change, name=field.name: self._changed(name), names="value")
        message = dom.HTML("", _dom_classes=("aqtra-form-error",))
        self.inputs[field.name] = widget
        self.messages[field.name] = message
        row = dom.VBox(
            [dom.HBox([label, widget]), message],
            _dom_classes=("aqtra-form-field", f"aqtra-field-{field.name}"),
        )
        return row

    # -- values --------------------------------------------------------------------------------------------
    def raw(self) -> dict[str, Any]:
        """What the inputs hold now (text as typed; lists split at commas)."""
        values = {}
        for field in self.fields:
            value = self.inputs[field.name].value
            if field.kind == "list" and isinstance(value, str) and field.choices is None:
                value = [part.strip() for part in value.split(",") if part.strip()]
            values[field.name] = value
        return values

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Put values into the inputs (unknown names are an error)."""
        _check_names(list(values), self.inputs, "form fields")
        for name, value in values.items():
            widget = self.inputs[name]
            if isinstance(widget, w.Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, w.DatePicker):
                widget.value = dt.date.fromisoformat(value) if isinstance(value, str) else value
            elif isinstance(widget, w.Dropdown):
                widget.value = value
            else:
                widget.value = as_text(value)

    def validate(self) -> dict[str, Any] | None:
        """Check every field and show the messages; the value when all are valid, else None."""
        values, errors = self._check()
        self._touched.update(self.inputs)
        self._show(errors)
        if errors:
            return None
        self.value = values
        return values

    def submit(self) -> dict[str, Any] | None:
        """Validate; when valid, call the `on_submit` callbacks with the value."""
        values = self.validate()
        if values is not None:
            for callback in list(self._callbacks):
                callback(values)
        return values

    def on_submit(self, callback: Callable[[dict[str, Any]], Any]) -> None:
        self._callbacks.append(callback)

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Show messages found elsewhere (e.g. the store refused a record), next to their fields."""
        self._touched.update(errors)
        self._show({**self.errors, **errors})

    def clear(self) -> None:
        """Back to the defaults, no messages."""
        for field in self.fields:
            widget = self.inputs[field.name]
            if field.default is not None:
                self.set_values({field.name: field.default})
            elif isinstance(widget, w.Checkbox):
                widget.value = False
            elif isinstance(widget, w.DatePicker):
                widget.value = None
            elif isinstance(widget, w.Dropdown):
                widget.value = widget.options[0][1]
            else:
                widget.value = ""
        self._touched.clear()
        self._show({})

    def _check(self) -> tuple[dict[str, Any], dict[str, str]]:
        raw = self.raw()
        if self.model is not None:
            values, errors, instance = check_model(self.fields, self.model, raw)
            self.instance = instance
            return values, errors
        return check_parameters(self.fields, self.parameters, raw)

    def _changed(self, name: str) -> None:
        self._touched.add(name)
        values, errors = self._check()
        self._show(errors)
        if self.live and not errors:
            self.value = values

    def _show(self, errors: Mapping[str, str]) -> None:
        shown = {name: message for name, message in errors.items() if name in self._touched}
        with self.hold_sync():
            for name, message in self.messages.items():
                text = shown.get(name, "")
                message.value = error_html(text) if text else ""
                row_input = self.inputs[name]
                (row_input.add_class if text else row_input.remove_class)("aqtra-invalid")
        self.errors = dict(shown)
        self.valid = not errors


def _input(field: FormField) -> w.Widget:
    """The field's input widget (DOM hook `.aqtra-form-input`, its description as the tooltip)."""
    layout = w.Layout(width="260px")
    common: dict[str, Any] = {"layout": layout, "_dom_classes": ("aqtra-form-input",)}
    if field.description:
        common["tooltip"] = field.description
    if field.kind == "boolean":
        return dom.Checkbox(value=bool(field.default), indent=False, **common)
    if field.choices is not None:
        options: list[Any] = [(as_text(c), c) for c in field.choices]
        if not field.required and field.default is None:
            options.insert(0, ("—", None))
        default = field.default if field.default in field.choices else options[0][1]
        return dom.Dropdown(options=options, value=default, **common)
    if field.kind == "date":
        default = dt.date.fromisoformat(field.default) if isinstance(field.default, str) else field.default
        return dom.DatePicker(value=default, **common)
    placeholder = {"integer": "a whole number", "number": "a number", "list": "comma-separated values"}
    return dom.Text(value=as_text(field.default), placeholder=placeholder.get(field.kind, ""), **common)


def _parameters_of(flow: Any) -> dict[str, ParameterSpec]:
    spec = getattr(flow, "spec", flow)
    if isinstance(spec, FlowSpec):
        return dict(spec.parameters)
    if isinstance(spec, Mapping):
        return {
            name: ParameterSpec.model_validate(p) if isinstance(p, Mapping) else p for name, p in spec.items()
        }
    raise FormError(f"cannot make a form from {type(flow).__name__}; give a Flow, a FlowSpec or parameters")


def _check_names(names: Sequence[str] | None, known: Mapping[str, Any], what: str) -> None:
    for name in names or ():
        if name not in known:
            raise FormError(
                f"no field {name!r} among the {what}.{did_you_mean(name, known)} Known: {', '.join(known) or 'none'}",
                field=name,
            )
