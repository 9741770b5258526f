"""Find the simple parts of a filter condition that a reader can apply at its source.

The planner offers them to a reader that supports filters (`InputComponent.push_filter`): the Parquet
reader turns them into an Arrow dataset filter (row groups whose statistics exclude it are never read),
the SQL reader into a WHERE clause with bound parameters. Only conjuncts of the form
`column <op> value` and `column in (...)` are offered, where a value is anything computable from literals and
parameters (`date('1994-01-01')`, `add_days(date('1998-12-01'), -90)`, `@low * 2`: folded here, once); the reader keeps those it can apply to its
column types, and the filter step still applies the whole condition, so pushing a subset is always safe.
When the reader applies every conjunct exactly (`InputComponent.applies_all`), the filter step passes its
input on (`PlannedStep.applied_at_source`) instead of evaluating the condition again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..components.base import Predicate
from ..expr import Expression
from ..expr.evaluate import constant
from ..expr.parse import BoolOp, Column, Compare, In, Param

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
VALUE_TYPES = (bool, int, float, str, dt.date)  # dt.datetime is a dt.date


def predicates(expr: Expression, params: Mapping[str, Any]) -> list[Predicate]:
    """The conjuncts of `expr` (joined by `and`) that are simple comparisons of a column with a value."""
    found = [_translate(node, params) for node in conjuncts(expr.node)]
    return [p for p in found if p is not None]


def conjuncts(node: Any) -> list[Any]:
    """The operands of a top-level `and` (nested ones flattened); the node itself otherwise."""
    if isinstance(node, BoolOp) and node.op == "and":
        return [c for operand in node.operands for c in conjuncts(operand)]
    return [node]


def _value(node: Any, params: Mapping[str, Any]) -> tuple[bool, Any]:
    """A parameter's value as given (readers know `datetime.date`), else the value of a part without
    columns as the evaluator computes it (dates as timestamps)."""
    if isinstance(node, Param):
        value = params.get(node.name)
        return isinstance(value, VALUE_TYPES), value
    ok, value = constant(node, params)
    if isinstance(value, pd.Timestamp):  # readers get the standard library's types
        ok, value = ok and not value.nanosecond, value.to_pydatetime()
    return ok and isinstance(value, VALUE_TYPES), value


def _translate(node: Any, params: Mapping[str, Any]) -> Predicate | None:
    if isinstance(node, Compare) and len(node.ops) == 1:
        left, right = node.operands
        op = node.ops[0]
        if isinstance(right, Column) and not isinstance(left, Column):
            left, right, op = right, left, FLIP.get(op, op)
        if not isinstance(left, Column) or op not in FLIP:
            return None
        ok, value = _value(right, params)
        return Predicate(left.name, op, value) if ok else None
    if isinstance(node, In) and not node.negated and isinstance(node.operand, Column):
        values: list[Any] = []
        for option in node.options:
            raw = params.get(option.name) if isinstance(option, Param) else option.value
            items = raw if isinstance(raw, list | tuple) else [raw]
            for item in items:
                if not isinstance(item, VALUE_TYPES):
                    return None
                values.append(item)
        return Predicate(node.operand.name, "in", tuple(values)) if values else None
    return None
