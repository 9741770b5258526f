"""Form fields as plain data, from a flow's parameters, a pydantic model or an entity; and their checks."""

from __future__ import annotations

import datetime as dt
import math
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
    from ..entities.fields import FieldSpec, describe

    described: dict[str, FieldSpec | None]
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
        spec = parameters[field.name]
        try:
            values[field.name] = convert_value(field.name, spec, value)
        except AqtraError:
            errors[field.name] = _plain_problem(spec.type, value, spec)
    return values, errors


#: what a field of each kind wants, said to the person filling in the form
WANTED = {
    "integer": "a whole number",
    "number": "a number",
    "date": "a date as YYYY-MM-DD",
    "datetime": "a date and time as YYYY-MM-DD HH:MM",
    "time": "a time as HH:MM",
    "boolean": "yes or no",
    "list": "values separated by commas",
    "string": "text",
}


def _shown(value: Any) -> str:
    text = str(value).strip()
    return repr(text if len(text) <= 40 else text[:39] + "…")


def _plain_problem(kind: str, value: Any, parameter: ParameterSpec | None = None) -> str:
    """Why a value does not fit a field of `kind` (of `parameter`, for a flow's form), in plain words (no
    Python type names or tracebacks)."""
    if parameter is not None and parameter.choices is not None:
        try:
            convert_value("value", ParameterSpec(type=parameter.type), value)  # the kind fits: not a choice
        except AqtraError:
            pass
        else:
            return f"Choose one of {', '.join(str(c) for c in parameter.choices)}."
    if kind in ("integer", "number"):
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            number = None
        if number is not None and not math.isfinite(number):
            return f"Enter a finite number (not {_shown(value)})."
        if number is not None and kind == "integer" and not number.is_integer():
            return f"Enter a whole number (not {_shown(value)})."
        if number is not None:
            return f"{_shown(value)} is too large."
    return f"Enter {WANTED.get(kind, kind)} (not {_shown(value)})."


#: pydantic's error types, in the words of a form (the rest: pydantic's message, without "Input")
MODEL_PROBLEMS = {
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_parsing": "number",
    "float_type": "number",
    "bool_parsing": "boolean",
    "bool_type": "boolean",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
    "date_type": "date",
    "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
    "datetime_type": "datetime",
    "time_parsing": "time",
    "time_type": "time",
}
LIMITS = {
    "greater_than": "Must be more than {gt}.",
    "greater_than_equal": "Must be at least {ge}.",
    "less_than": "Must be less than {lt}.",
    "less_than_equal": "Must be at most {le}.",
    "string_too_short": "Needs at least {min_length} characters.",
    "string_too_long": "Takes at most {max_length} characters.",
    "too_short": "Needs at least {min_length} values.",
    "too_long": "Takes at most {max_length} values.",
    "string_pattern_mismatch": "Is not in the expected form.",
    "literal_error": "Choose one of {expected}.",
    "enum": "Choose one of {expected}.",
}


def _limit(value: Any) -> Any:
    return f"{value:,g}" if isinstance(value, float) else value


def _model_problem(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "Required."
    if kind in MODEL_PROBLEMS:
        return _plain_problem(MODEL_PROBLEMS[kind], error.get("input"))
    if kind in LIMITS:
        ctx = {key: _limit(value) for key, value in error.get("ctx", {}).items()}
        try:
            return LIMITS[kind].format(**ctx)
        except (KeyError, IndexError):
            pass
    text = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _sentence(re.sub(r"^Input should be\b", "Must be", text))


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
            errors.setdefault(target, _model_problem(error))
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
