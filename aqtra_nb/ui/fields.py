"""Form fields as plain data, from a flow's parameters, a pydantic model or an entity; and their checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import AqtraError
from ..spec import ParameterSpec
from ..spec.params import convert_value


@dataclass(frozen=True)
class FormField:
    """One input of a form: its kind picks the widget, `required` and `choices` are checked on submit."""

    name: str
    label: str
    kind: str = "string"  # string, integer, number, boolean, date, datetime, time, list, uri, reference, ...
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    description: str = ""


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def fields_from_parameters(
    parameters: Mapping[str, ParameterSpec], names: Sequence[str] | None = None
) -> list[FormField]:
    """One field per flow parameter (or per name in `names`), typed like the parameter."""
    chosen = list(names) if names is not None else list(parameters)
    fields = []
    for name in chosen:
        spec = parameters[name]
        fields.append(
            FormField(
                name=name,
                label=_label(name),
                kind=spec.type,
                required=spec.required,
                default=spec.default,
                choices=tuple(spec.choices) if spec.choices is not None else None,
                description=spec.description,
            )
        )
    return fields


def fields_from_model(model: type[BaseModel], names: Sequence[str] | None = None) -> list[FormField]:
    """One field per model field; entities leave out the fields the store sets (id, created_at, ...)."""
    from ..entities import Entity
    from ..entities.fields import describe

    if issubclass(model, Entity):
        described = dict(model.entity_fields)
    else:
        described = {}
        for name, info in model.model_fields.items():
            try:
                described[name] = describe(model.__name__, name, info)
            except AqtraError:  # a type entities cannot store: a text input, checked by the model
                described[name] = None
    fields = []
    for name in names if names is not None else list(described):
        spec = described[name]
        info = model.model_fields[name]
        label = info.title or _label(name)
        if spec is None:
            fields.append(
                FormField(name, label, "string", info.is_required(), None, None, info.description or "")
            )
            continue
        default = None if spec.required else spec.default
        fields.append(
            FormField(
                name=name,
                label=label,
                kind=spec.kind,
                required=spec.required,
                default=default,
                choices=spec.choices,
                description=spec.description or "",
            )
        )
    return fields


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_parameters(
    fields: Sequence[FormField], parameters: Mapping[str, ParameterSpec], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values converted to the parameters' types, and a message per bad field. Empty optional fields are
    left out (the flow uses the parameter's default)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        value = raw.get(field.name)
        if empty(value):
            if field.required:
                errors[field.name] = "Required."
            continue
        try:
            values[field.name] = convert_value(field.name, parameters[field.name], value)
        except AqtraError as exc:
            text = exc.message.replace(f"parameter {field.name!r} ", "")
            errors[field.name] = _sentence(re.sub(r" \([^()]*\)$", "", text))  # without Python's own detail
    return values, errors


def check_model(
    fields: Sequence[FormField], model: type[BaseModel], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], BaseModel | None]:
    """The model's validation of the non-empty fields: values, a message per bad field, the instance."""
    given = {f.name: raw.get(f.name) for f in fields if not empty(raw.get(f.name))}
    errors: dict[str, str] = {}
    try:
        instance = model.model_validate(given)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            target = name if any(f.name == name for f in fields) else (fields[0].name if fields else "")
            message = "Required." if error["type"] == "missing" else _sentence(error["msg"])
            errors.setdefault(target, message)
        return {}, errors, None
    values = {f.name: getattr(instance, f.name) for f in fields}
    return values, errors, instance


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def as_text(value: Any) -> str:
    """A value as the text of an input box."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)
