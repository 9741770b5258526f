"""Translate a filter of the expression language into a SQLAlchemy WHERE clause, from the parsed tree.

Values (literals and @parameters) become bound parameters typed by the column they meet; nothing is spliced
into the SQL text. SQL and the pandas evaluator agree on nulls: a comparison with null is unknown and keeps
the row out, also under `not`. Parts without an SQL equivalent of the same meaning raise an error that
suggests filtering after reading instead.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import ColumnElement, Table

from ..errors import ExpressionError, UnknownColumn, did_you_mean
from ..expr import parse_expression
from ..expr.evaluate import COMPARISONS
from ..expr.parse import BinOp, BoolOp, Call, Column, Compare, In, Literal, Negate, Node, Not, Param

ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
FILTERABLE = ("string", "uri", "integer", "reference", "number", "boolean", "date", "datetime", "time")
TEXT_FUNCTIONS = ("lower", "upper", "len", "contains", "startswith", "endswith")
SUPPORTED_FUNCTIONS = ("is_null", "not_null", "coalesce", "abs", "date", *TEXT_FUNCTIONS)
_LISTS = (list, tuple, set, frozenset)


@dataclass(frozen=True)
class _Value:
    """A literal or parameter value, bound once the column it meets (and so its SQL type) is known."""

    value: Any


def where_clause(
    text: str, table: Table, kinds: Mapping[str, str], params: Mapping[str, Any], dialect: str
) -> ColumnElement[bool]:
    """The filter `text` as a condition on `table`; `kinds` gives each column's field kind."""
    expression = parse_expression(text)
    translator = _Translator(text, table, kinds, params, dialect)
    return translator.condition(expression.node)


class _Translator:
    def __init__(
        self, source: str, table: Table, kinds: Mapping[str, str], params: Mapping[str, Any], dialect
    ):
        self.source, self.table, self.kinds, self.params, self.dialect = source, table, kinds, params, dialect

    def error(self, message: str, node: Node) -> ExpressionError:
        return ExpressionError(message, source=self.source, position=node.position)

    def unsupported(self, what: str, node: Node) -> ExpressionError:
        return self.error(
            f"{what} cannot be translated to SQL; use a filter step after reading (the data is then "
            "filtered in pandas)",
            node,
        )

    def condition(self, node: Node) -> ColumnElement[bool]:
        value = self.sql(node)
        if isinstance(value, _Value):
            if not isinstance(value.value, bool):
                raise self.error(f"a filter must be true or false, not {value.value!r}", node)
            return sa.true() if value.value else sa.false()
        if not isinstance(value.type, sa.Boolean):
            raise self.error("a filter must be a condition such as amount > 100, not a value", node)
        return value

    def sql(self, node: Node) -> ColumnElement[Any] | _Value:
        match node:
            case Literal(value=value):
                return _Value(value)
            case Param(name=name):
                return _Value(self.param(name, node))
            case Column(name=name):
                return self.column(name, node)
            case Compare(ops=ops, operands=operands):
                values = [self.sql(o) for o in operands]
                links = [
                    self.compare(op, values[i], values[i + 1], operands[i], operands[i + 1])
                    for i, op in enumerate(ops)
                ]
                return links[0] if len(links) == 1 else sa.and_(*links)
            case BoolOp(op=op, operands=operands):
                parts = [self.condition(o) for o in operands]
                return sa.and_(*parts) if op == "and" else sa.or_(*parts)
            case Not(operand=operand):
                return sa.not_(self.condition(operand))
            case In(operand=operand, options=options, negated=negated):
                return self.member(operand, options, negated, node)
            case BinOp(op=op, left=left, right=right):
                if op not in ARITHMETIC:
                    raise self.unsupported(f"operator {op!r}", node)
                return self.arithmetic(op, self.sql(left), self.sql(right), left, right)
            case Negate(operand=operand):
                value = self.sql(operand)
                return _Value(-value.value) if isinstance(value, _Value) else -value
            case Call():
                return self.call(node)
        raise self.unsupported(type(node).__name__, node)  # pragma: no cover - the tree has no other nodes

    # -- leaves ---------------------------------------------------------------------------------------------
    def column(self, name: str, node: Node) -> ColumnElement[Any]:
        if name not in self.kinds:
            names = list(self.kinds)
            raise UnknownColumn(
                f"unknown field {name!r} in filter {self.source!r}.{did_you_mean(name, names)} "
                f"Fields: {', '.join(names)}"
            )
        if self.kinds[name] not in FILTERABLE:
            raise self.unsupported(f"field {name!r} (a {self.kinds[name]} field)", node)
        return self.table.c[name]

    def param(self, name: str, node: Node) -> Any:
        if name not in self.params:
            names = [str(n) for n in self.params]
            raise self.error(f"no value given for parameter @{name}.{did_you_mean(name, names)}", node)
        value = self.params[name]
        if isinstance(value, _LISTS):
            raise self.error(f"parameter @{name} is a list; a list is only allowed after 'in'", node)
        return _plain(value)

    def kind_of(self, node: Node) -> str | None:
        return self.kinds.get(node.name) if isinstance(node, Column) else None

    def bind(self, value: _Value, kind: str | None, other: Any, node: Node) -> ColumnElement[Any]:
        """A value as a bound parameter of the SQL type of what it meets (dates given as text are parsed)."""
        type_ = other.type if isinstance(other, ColumnElement) else None
        python = _coerce(value.value, kind or _kind_of_type(type_), self, node)
        if python is None:
            return sa.null() if type_ is None else sa.cast(sa.null(), type_)
        return sa.literal(python, type_) if type_ is not None else sa.literal(python)

    # -- operators ----------------------------------------------------------------------------------------
    def compare(self, op: str, left: Any, right: Any, left_node: Node, right_node: Node) -> Any:
        if isinstance(left, _Value) and isinstance(right, _Value):
            return sa.literal(_compare_values(op, left.value, right.value, self, left_node))
        if isinstance(left, _Value):
            left = self.bind(left, self.kind_of(right_node), right, left_node)
        if isinstance(right, _Value):
            right = self.bind(right, self.kind_of(left_node), left, right_node)
        return COMPARISONS[op](left, right)

    def arithmetic(self, op: str, left: Any, right: Any, left_node: Node, right_node: Node) -> Any:
        if isinstance(left, _Value) and isinstance(right, _Value):
            try:
                return _Value(ARITHMETIC[op](left.value, right.value))
            except (TypeError, ArithmeticError) as exc:
                raise self.error(f"operator {op!r} failed: {exc}", left_node) from None
        kinds = {self.kind_of(left_node), self.kind_of(right_node)}
        if kinds & {"date", "datetime", "time", "boolean"}:
            raise self.unsupported(
                f"arithmetic on {'/'.join(sorted(k for k in kinds if k))} values", left_node
            )
        if isinstance(left, _Value):
            left = self.bind(left, None, right, left_node)
        if isinstance(right, _Value):
            right = self.bind(right, None, left, right_node)
        return ARITHMETIC[op](left, right)

    def member(self, operand: Node, options: tuple[Any, ...], negated: bool, node: Node) -> Any:
        target = self.sql(operand)
        if isinstance(target, _Value):
            raise self.unsupported("'in' on a constant", node)
        kind = self.kind_of(operand)
        values: list[Any] = []
        for option in options:
            if isinstance(option, Param):
                if option.name not in self.params:
                    raise self.error(f"no value given for parameter @{option.name}", option)
                raw = self.params[option.name]
                items = list(raw) if isinstance(raw, _LISTS) else [raw]
            else:
                items = [option.value]
            values.extend(_coerce(_plain(v), kind, self, option) for v in items)
        return target.not_in(values) if negated else target.in_(values)

    def call(self, node: Call) -> Any:
        name, args = node.name, node.args
        if name not in SUPPORTED_FUNCTIONS:
            raise self.unsupported(
                f"function {name}() (translated functions: {', '.join(SUPPORTED_FUNCTIONS)})", node
            )
        if name == "date":
            value = self.sql(args[0])
            if not isinstance(value, _Value):
                raise self.unsupported("date() of a field", node)
            return _Value(_coerce(value.value, "date", self, node))
        values = [self.sql(a) for a in args]
        first = values[0]
        if name in ("is_null", "not_null"):
            if isinstance(first, _Value):
                return sa.literal((first.value is None) == (name == "is_null"))
            return first.is_(None) if name == "is_null" else first.is_not(None)
        if isinstance(first, _Value):
            raise self.unsupported(f"{name}() of a constant", node)
        if name == "coalesce":
            rest = [
                self.bind(v, self.kind_of(args[0]), first, a) if isinstance(v, _Value) else v
                for v, a in zip(values[1:], args[1:], strict=True)
            ]
            return sa.func.coalesce(first, *rest, type_=first.type)
        if name == "abs":
            return sa.func.abs(first, type_=first.type)
        if self.kind_of(args[0]) not in ("string", "uri", None) or not isinstance(
            first.type, sa.String | sa.Text
        ):
            raise self.error(f"{name}() needs text, e.g. {name}(title)", node)
        if name in ("lower", "upper"):
            return getattr(sa.func, name)(first, type_=sa.Text())
        if name == "len":
            return sa.func.length(first, type_=sa.Integer())
        return self.text_test(name, first, values[1], node)

    def text_test(self, name: str, text: Any, part: Any, node: Node) -> Any:
        """contains/startswith/endswith, case-sensitive on both backends (LIKE is not, on SQLite)."""
        if not isinstance(part, _Value) or not isinstance(part.value, str):
            raise self.error(f"the second argument of {name}() must be text", node)
        piece = sa.literal(part.value, sa.Text())
        if name == "contains":
            position = sa.func.instr(text, piece) if self.dialect == "sqlite" else sa.func.strpos(text, piece)
            return position > 0
        length = sa.literal(len(part.value), sa.Integer())
        if name == "startswith":
            return sa.func.substr(text, 1, length, type_=sa.Text()) == piece
        if not part.value:
            return text.is_not(None)
        if self.dialect == "sqlite":
            return sa.func.substr(text, -length, type_=sa.Text()) == piece
        return sa.func.right(text, length, type_=sa.Text()) == piece


def _plain(value: Any) -> Any:
    """A parameter value as a plain Python scalar (pandas and numpy scalars unwrapped, nulls as None)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _coerce(value: Any, kind: str | None, translator: _Translator, node: Node) -> Any:
    """Text compared with a date, datetime or time field is parsed as ISO 8601; dates stay dates."""
    if value is None or kind is None:
        return value
    try:
        if kind == "date":
            if isinstance(value, str):
                return dt.date.fromisoformat(value)
            if isinstance(value, dt.datetime):
                if value.time() != dt.time(0):
                    raise ValueError(f"{value} is not a date (it has a time of day)")
                return value.date()
        elif kind == "datetime":
            if isinstance(value, str):
                return dt.datetime.fromisoformat(value)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                return dt.datetime.combine(value, dt.time(0))
        elif kind == "time" and isinstance(value, str):
            return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise translator.error(f"{value!r} is not a {kind}: {exc}", node) from None
    return value


def _kind_of_type(type_: Any) -> str | None:
    """The field kind whose values an SQL type holds, where values given as text need parsing."""
    if isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.DateTime):
        return "datetime"
    if isinstance(type_, sa.Date):
        return "date"
    if isinstance(type_, sa.Time):
        return "time"
    return None


def _compare_values(op: str, left: Any, right: Any, translator: _Translator, node: Node) -> bool:
    if left is None or right is None:
        return False
    try:
        return bool(COMPARISONS[op](left, right))
    except TypeError as exc:
        raise translator.error(f"cannot compare {left!r} and {right!r}: {exc}", node) from None


def predicate_clause(bound: Any, predicate: Any) -> ColumnElement[bool]:
    """A simple `column <op> value` (or `in`) condition the planner pushed down from a filter step."""
    column = bound.table.c[predicate.column]
    kind = bound.kind(predicate.column)
    translator = _Translator(str(predicate), bound.table, bound.kinds, {}, bound.store.dialect)
    node = Column(predicate.column)
    if predicate.op == "in":
        return column.in_([_coerce(_plain(v), kind, translator, node) for v in predicate.value])
    value = sa.literal(_coerce(_plain(predicate.value), kind, translator, node), column.type)
    return COMPARISONS[predicate.op](column, value)
