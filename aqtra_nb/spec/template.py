"""`${name}` substitution in string values of step parameters (expressions use `@name` instead)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError, did_you_mean

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(value: Any, params: Mapping[str, Any], *, field: str = "") -> Any:
    """Replace `${name}` in strings (recursively in lists/dicts). A whole-string placeholder keeps the type."""
    if isinstance(value, str):
        return _substitute_text(value, params, field)
    if isinstance(value, list):
        return [substitute(item, params, field=f"{field}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            key: substitute(item, params, field=f"{field}.{key}" if field else key)
            for key, item in value.items()
        }
    return value


def refuse_placeholders(with_: Mapping[str, Any], verbatim: Mapping[str, str]) -> None:
    """`${name}` in a key that must stay verbatim (SQL text) is an error that says what to do instead."""
    for key, instead in verbatim.items():
        names = sorted(placeholders(with_.get(key)))
        if names:
            raise ParameterError(
                f"`${{{names[0]}}}` is not substituted in `{key}`: {instead}", field=f"with.{key}"
            )


def placeholders(value: Any) -> set[str]:
    """Names used as `${name}` anywhere in a value."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    return set()


def _substitute_text(text: str, params: Mapping[str, Any], field: str) -> Any:
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return _lookup(whole.group(1), params, field)

    def replace(match: re.Match[str]) -> str:
        value = _lookup(match.group(1), params, field)
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    return PLACEHOLDER.sub(replace, text)


def _lookup(name: str, params: Mapping[str, Any], field: str) -> Any:
    if name not in params:
        raise ParameterError(
            f"`${{{name}}}` refers to no flow parameter.{did_you_mean(name, params)}", field=field or None
        )
    return params[name]
