"""Typed flow parameters: convert run-time values (from Python, CLI strings or forms) and fail loudly."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError, did_you_mean
from .models import ParameterSpec, ParameterType

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def infer_parameter(value: Any) -> ParameterSpec:
    """A ParameterSpec from a plain default value (the Python builder's `parameters={"x": 1.0}`)."""
    if isinstance(value, ParameterSpec):
        return value
    if isinstance(value, Mapping):
        return ParameterSpec.model_validate(value)
    kind: ParameterType
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, int):
        kind = "integer"
    elif isinstance(value, float):
        kind = "number"
    elif isinstance(value, dt.date):
        kind = "date"
        value = value.isoformat()
    elif isinstance(value, list | tuple):
        kind, value = "list", list(value)
    else:
        kind = "string"
        value = None if value is None else str(value)
    return ParameterSpec(type=kind, default=value)


def convert_value(name: str, spec: ParameterSpec, value: Any) -> Any:
    """Convert one value to the parameter's type; strings are parsed (they come from CLIs and URLs)."""
    try:
        converted = _convert(spec.type, value)
    except (ValueError, TypeError) as exc:
        # Our own reasons only ("beyond the 64-bit range"), never Python's ("invalid literal for int()")
        detail = f" ({short(exc, 200)})" if str(exc) and not isinstance(exc, _PythonsOwn) else ""
        article = "an" if spec.type[0] in "aeiou" else "a"
        raise ParameterError(
            f"parameter {name!r} expects {article} {spec.type}, got {short(value)}{detail}", field=name
        ) from None
    if spec.choices is not None and converted not in spec.choices:
        raise ParameterError(
            f"parameter {name!r} must be one of {short(spec.choices)}, got {short(converted)}", field=name
        )
    return converted


#: integers beyond 64 bits are no parameter a flow can use (and 10,000-digit text costs to parse)
MAX_DIGITS = 20


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text.lstrip("+-")) > MAX_DIGITS:
            raise ValueError(f"more than {MAX_DIGITS} digits")
        value = _parse(int, text)
    if not isinstance(value, int):
        raise TypeError("not an integer")
    if not -(2**63) <= value < 2**63:
        raise ValueError("beyond the 64-bit range")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64:
            raise ValueError("too long for a number")
        value = _parse(float, text)
    elif isinstance(value, int):
        if abs(value) > 2**1023:
            raise ValueError("too large")
        value = float(value)
    if not isinstance(value, float):
        raise TypeError("not a number")
    if not math.isfinite(value):
        raise ValueError("not a finite number (nan and infinity are refused)")
    return value


class _PythonsOwn(ValueError):
    """A parser's own complaint (`invalid literal for int() with base 10`): not shown to users."""


def _parse(parser: Any, text: str) -> Any:
    try:
        return parser(text)
    except ValueError as exc:
        raise _PythonsOwn(str(exc)) from None


def _convert(kind: str, value: Any) -> Any:
    if kind == "string":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise TypeError("not a string")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("use true or false")
    if kind == "integer":
        return _integer(value)
    if kind == "number":
        return _number(value)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return _parse(dt.date.fromisoformat, value.strip())
        raise TypeError("not a date (use YYYY-MM-DD)")
    if kind == "list":
        if isinstance(value, list | tuple):
            return list(value)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                parsed = _parse(json.loads, text)
                if isinstance(parsed, list):
                    return parsed
            return [part.strip() for part in text.split(",") if part.strip()]
        raise TypeError("not a list")
    raise ValueError(f"unknown parameter type {kind!r}")


def resolve_parameters(specs: Mapping[str, ParameterSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with given values, each converted; unknown or missing names are errors."""
    for name in given:
        if name not in specs:
            known = ", ".join(specs) or "none"
            raise ParameterError(
                f"unknown parameter {name!r}.{did_you_mean(name, specs)} The flow's parameters are: {known}",
                field=name,
            )
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            values[name] = convert_value(name, spec, given[name])
        elif spec.default is not None:
            values[name] = convert_value(name, spec, spec.default)
        else:
            raise ParameterError(f"parameter {name!r} has no default and was not given", field=name)
    return values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` strings from a command line into a dict (values stay strings until typed)."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"parameter {pair!r} must be written NAME=VALUE")
        result[name.strip()] = value
    return result


def short(value: object, limit: int = 80) -> str:
    """`repr(value)` cut to about `limit` characters without building the whole text: a value may be
    huge (a document's aliases expand to millions of items; a URL parameter may be megabytes)."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxlist, shortener.maxdict = 3, 8, 8
    shortener.maxstring = shortener.maxother = limit
    text = shortener.repr(value) if not isinstance(value, BaseException) else shortener.repr(str(value))
    return text if len(text) <= limit + 20 else text[:limit] + "...'"


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "list": {"type": "array", "items": {"type": "string"}},
}


def parameters_json_schema(specs: Mapping[str, ParameterSpec]) -> dict[str, Any]:
    """A flow's parameters as a JSON Schema object: the form an editor or an app shows for a run (the
    values are still converted and checked by `resolve_parameters` when the run starts)."""
    properties: dict[str, Any] = {}
    for name, spec in specs.items():
        field: dict[str, Any] = {"title": name, **_JSON_TYPES[spec.type]}
        if spec.description:
            field["description"] = spec.description
        if spec.default is not None:
            field["default"] = _json_value(spec.default)
        if spec.choices:
            field["enum"] = [_json_value(choice) for choice in spec.choices]
        properties[name] = field
    required = [name for name, spec in specs.items() if spec.required]
    return {"type": "object", "properties": properties, "required": required}


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value
