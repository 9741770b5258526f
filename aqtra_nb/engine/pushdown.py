"""Translate the simple parts of a filter condition into an Arrow dataset filter for Parquet readers.

Only conjuncts of the form `column <op> literal|@param` and `column in (...)` on numeric, string and
boolean columns are pushed; the filter step still applies the whole condition, so pushing a subset is
always safe. Row groups whose statistics exclude the condition are then never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..expr import Expression
from ..expr.parse import BoolOp, Column, Compare, In, Literal, Param

OPS = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def arrow_filter(expr: Expression, params: Mapping[str, Any], schema: pa.Schema) -> pc.Expression | None:
    """The pushable part of `expr` as an Arrow expression, or None if nothing can be pushed."""
    parts = [p for p in (_translate(n, params, schema) for n in _conjuncts(expr.node)) if p is not None]
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, BoolOp) and node.op == "and":
        return [c for operand in node.operands for c in _conjuncts(operand)]
    return [node]


def _pushable(schema: pa.Schema, name: str) -> bool:
    if name not in schema.names:
        return False
    kind = schema.field(name).type
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
    )


def _value(node: Any, params: Mapping[str, Any]) -> tuple[bool, Any]:
    if isinstance(node, Literal):
        value = node.value
    elif isinstance(node, Param) and node.name in params:
        value = params[node.name]
    else:
        return False, None
    ok = isinstance(value, bool | int | float | str) and value is not None
    return ok, value


def _compatible(schema: pa.Schema, name: str, value: Any) -> bool:
    kind = schema.field(name).type
    if isinstance(value, str):
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if isinstance(value, bool):
        return pa.types.is_boolean(kind)
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _translate(node: Any, params: Mapping[str, Any], schema: pa.Schema) -> pc.Expression | None:
    if isinstance(node, Compare) and len(node.ops) == 1:
        left, right = node.operands
        op = node.ops[0]
        if isinstance(right, Column) and not isinstance(left, Column):
            left, right, op = right, left, FLIP[op]
        if not isinstance(left, Column) or op not in OPS or not _pushable(schema, left.name):
            return None
        ok, value = _value(right, params)
        if not ok or not _compatible(schema, left.name, value):
            return None
        return getattr(pc.field(left.name), OPS[op])(value)
    if isinstance(node, In) and not node.negated and isinstance(node.operand, Column):
        name = node.operand.name
        if not _pushable(schema, name):
            return None
        values: list[Any] = []
        for option in node.options:
            raw = params.get(option.name) if isinstance(option, Param) else option.value
            items = raw if isinstance(raw, list) else [raw]
            for item in items:
                if item is None or not isinstance(item, bool | int | float | str):
                    return None
                if not _compatible(schema, name, item):
                    return None
                values.append(item)
        return pc.field(name).isin(values) if values else None
    return None
