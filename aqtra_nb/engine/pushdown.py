"""Find the simple parts of a filter condition that a reader can apply at its source.

The planner offers them to a reader that supports filters (`InputComponent.push_filter`): the Parquet
reader turns them into an Arrow dataset filter (row groups whose statistics exclude it are never read),
the SQL reader into a WHERE clause with bound parameters. Only conjuncts of the form
`column <op> value` and `column in (...)` are offered, where a value is anything computable from literals and
parameters (`date('1994-01-01')`, `add_days(date('1998-12-01'), -90)`, `@low * 2`: folded here, once); a
chained comparison gives one per link (`date('1995-01-01') <= shipped <= @end`: SQL's BETWEEN), and
`is_null(column)`, `not_null(column)` and their negations are offered to readers that take null tests
(`InputComponent.null_tests`), and comparisons of two columns of the row (`l_commitdate < l_receiptdate`,
the value an `OtherColumn`) to readers that compare columns (`InputComponent.column_comparisons`). The reader keeps those it can apply to its column types, and the filter step
still applies the whole condition, so pushing a subset is always safe. When every conjunct was translated
and the reader applies them all exactly (`InputComponent.applies_all`), the filter step passes its input on
(`PlannedStep.applied_at_source`) instead of evaluating the condition again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..components.base import NULL_TESTS, OtherColumn, Predicate
from ..expr import Expression
from ..expr.evaluate import constant
from ..expr.parse import BoolOp, Call, Column, Compare, In, Not, Param

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
VALUE_TYPES = (bool, int, float, str, dt.date)  # dt.datetime is a dt.date


def predicates(
    expr: Expression, params: Mapping[str, Any], *, null_tests: bool = False, columns: bool = False
) -> tuple[list[Predicate], bool]:
    """The predicates found in the conjuncts of `expr` (joined by `and`), and whether they say all that
    `expr` says (every conjunct translated whole); null tests and column-against-column comparisons only
    when the reader takes them."""
    found: list[Predicate] = []
    whole = True
    for node in conjuncts(expr.node):
        translated = _translate(node, params, null_tests, columns)
        whole = whole and translated is not None and None not in translated
        found.extend(p for p in translated or () if p is not None)
    return found, whole


def conjuncts(node: Any) -> list[Any]:
    """The operands of a top-level `and` (nested ones flattened); the node itself otherwise."""
    if isinstance(node, BoolOp) and node.op == "and":
        return [c for operand in node.operands for c in conjuncts(operand)]
    return [node]


def constant_value(node: Any, params: Mapping[str, Any]) -> tuple[bool, Any]:
    """A parameter's value as given (readers know `datetime.date`), else the value of a part without
    columns as the evaluator computes it (dates as timestamps)."""
    if isinstance(node, Param):
        value = params.get(node.name)
        return isinstance(value, VALUE_TYPES), value
    ok, value = constant(node, params)
    if isinstance(value, pd.Timestamp):  # readers get the standard library's types
        ok, value = ok and not value.nanosecond, value.to_pydatetime()
    return ok and isinstance(value, VALUE_TYPES), value


def _translate(
    node: Any, params: Mapping[str, Any], null_tests: bool, columns: bool
) -> list[Predicate | None] | None:
    """The predicates one conjunct says (None for a part that is not one), or None for none at all."""
    if isinstance(node, Compare):  # a chain `a < b <= c` holds where every link does
        links = zip(node.operands, node.ops, node.operands[1:], strict=False)
        return [_comparison(left, op, right, params, columns) for left, op, right in links]
    test = _null_test(node)
    if test is not None:
        return [test] if null_tests else None
    return [_membership(node, params)]


def _comparison(left: Any, op: str, right: Any, params: Mapping[str, Any], columns: bool) -> Predicate | None:
    if isinstance(right, Column) and not isinstance(left, Column):
        left, right, op = right, left, FLIP.get(op, op)
    if not isinstance(left, Column) or op not in FLIP:
        return None
    if isinstance(right, Column):
        return Predicate(left.name, op, OtherColumn(right.name)) if columns else None
    ok, value = constant_value(right, params)
    return Predicate(left.name, op, value) if ok else None


def _null_test(node: Any) -> Predicate | None:
    """`is_null(column)`, `not_null(column)`, either under any number of `not`s (exact: a null test is
    never null itself)."""
    negated = False
    while isinstance(node, Not):
        node, negated = node.operand, not negated
    if not (isinstance(node, Call) and node.name in NULL_TESTS and len(node.args) == 1):
        return None
    if not isinstance(node.args[0], Column):
        return None
    op = NULL_TESTS[1 - NULL_TESTS.index(node.name)] if negated else node.name
    return Predicate(node.args[0].name, op, None)


def _membership(node: Any, params: Mapping[str, Any]) -> Predicate | None:
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
