"""Evaluate a parsed expression against a pandas DataFrame, with vectorized operations only.

Scalars combine with Series by broadcasting. An operation on scalars alone runs on one-row Series and is
unwrapped again, so that a constant part of an expression behaves exactly like a per-row one.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from aqtra_nb.errors import AqtraError, ExpressionError, did_you_mean
from aqtra_nb.expr import limits, numeric
from aqtra_nb.expr.functions import FUNCTIONS, INT64, Function, align_datetimes, as_bool, power
from aqtra_nb.expr.parse import (
    BinOp,
    BoolOp,
    Call,
    Column,
    Compare,
    Expression,
    In,
    Literal,
    Negate,
    Node,
    Not,
    Param,
    walk,
)

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": power,
}
#: the comparison operators, also used where expressions are translated to SQL
COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_LOGIC = {"and": operator.and_, "or": operator.or_}
#: what pandas, numpy and pyarrow raise for values that do not fit an operation
_DATA_ERRORS = (TypeError, ValueError, ArithmeticError, AttributeError, LookupError, NotImplementedError)
_LISTS = (list, tuple, set, frozenset)


def evaluate(expression: Expression, frame: pd.DataFrame, params: Mapping[str, Any]) -> Any:
    """A Series aligned to ``frame.index``, or a scalar when the expression refers to no column."""
    expression.check_columns(frame.columns)
    with np.errstate(all="ignore"):
        result = _Evaluator(expression.source, frame, params).value(expression.node)
    if not expression.columns:
        return result
    if not isinstance(result, pd.Series):
        return pd.Series(result, index=frame.index)
    return result if result.name is None else result.rename(None)


class _Evaluator:
    def __init__(self, source: str, frame: pd.DataFrame, params: Mapping[str, Any]) -> None:
        self.source = source
        self.frame = frame
        self.params = params
        self._text_budget: int | None = None

    def error(self, message: str, node: Node) -> ExpressionError:
        return ExpressionError(message, source=self.source, position=node.position)

    def value(self, node: Node) -> Any:
        try:
            return self._value(node)
        except AqtraError:
            raise
        except _DATA_ERRORS as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise self.error(f"{_describe(node)} failed: {reason}", node) from exc

    def _value(self, node: Node) -> Any:
        match node:
            case Literal(value=value):
                return value
            case Column(name=name):
                return self._column(node, name)
            case Param():
                return self._param(node, lists=False)
            case BinOp(op=op, left=left, right=right):
                a, b = self.value(left), self.value(right)
                fast = numeric.arithmetic(op, a, b)
                if fast is not None:
                    return fast
                self._check_text_operator(op, a, b)
                return _vectorized(_ARITHMETIC[op], a, b)
            case Negate(operand=operand):
                value = self.value(operand)
                fast = numeric.negate(value)
                return fast if fast is not None else _vectorized(operator.neg, value)
            case Not(operand=operand):
                return _vectorized(_invert, self.value(operand))
            case BoolOp(op=op, operands=operands):
                return _vectorized(functools.partial(_combine, _LOGIC[op]), *map(self.value, operands))
            case Compare(ops=ops, operands=operands):
                values = [self.value(o) for o in operands]
                links = [_vectorized(_compare(op), values[i], values[i + 1]) for i, op in enumerate(ops)]
                return links[0] if len(links) == 1 else _vectorized(_combine_and, *links)
            case In(operand=operand, options=options, negated=negated):
                return self._in(self.value(operand), options, negated)
            case Call(name=name, args=args):
                values = [self.value(a) for a in args]
                self._check_text_function(name, values)
                return _call(FUNCTIONS[name], values)
        raise self.error(f"cannot evaluate {type(node).__name__}", node)  # pragma: no cover

    @property
    def text_budget(self) -> int:
        if self._text_budget is None:
            self._text_budget = limits.text_budget(self.frame)
        return self._text_budget

    def _check_text_operator(self, op: str, a: Any, b: Any) -> None:
        """Refuse `+` and `*` on text whose result would exceed the limits (`limits.py`)."""
        if op == "+" and (limits.is_text(a) or limits.is_text(b)):
            limits.check_concatenation([a, b], self.text_budget)
        elif op == "*" and limits.is_text(a):
            limits.check_repetition(a, b, self.text_budget)
        elif op == "*" and limits.is_text(b):
            limits.check_repetition(b, a, self.text_budget)

    def _check_text_function(self, name: str, args: list[Any]) -> None:
        if name == "concat":
            limits.check_concatenation(args, self.text_budget)
        elif name == "replace" and len(args) == 3:
            limits.check_replacement(args[0], args[1], args[2], self.text_budget)

    def _column(self, node: Column, name: str) -> pd.Series:
        values = self.frame[name]
        if isinstance(values, pd.DataFrame):
            raise self.error(f"column {name!r} appears more than once in the data", node)
        return values

    def _param(self, node: Param, *, lists: bool) -> Any:
        if node.name not in self.params:
            names = [str(name) for name in self.params]
            raise self.error(
                f"no value given for parameter @{node.name}.{did_you_mean(node.name, names)}", node
            )
        value = self.params[node.name]
        if isinstance(value, _LISTS):
            if lists:
                return [_scalar(v) for v in value]
            raise self.error(f"parameter @{node.name} is a list; a list is only allowed after 'in'", node)
        return _scalar(value)

    def _in(self, operand: Any, options: tuple[Literal | Param, ...], negated: bool) -> Any:
        values: list[Any] = []
        for option in options:
            value = self._param(option, lists=True) if isinstance(option, Param) else option.value
            values.extend(value if isinstance(value, list) else [value])
        return _vectorized(lambda series: _unknown_where_null(series.isin(values) ^ negated, series), operand)


def _describe(node: Node) -> str:
    match node:
        case BinOp(op=op):
            return f"operator {op!r}"
        case Negate():
            return "negation '-'"
        case Compare(ops=ops):
            return f"comparison {ops[0]!r}"
        case BoolOp(op=op):
            return f"{op!r}"
        case Not():
            return "'not'"
        case In(negated=negated):
            return "'not in'" if negated else "'in'"
        case Call(name=name):
            return f"{name}()"
        case Column(name=name):
            return f"column {name!r}"
    return "expression"


def _scalar(value: Any) -> Any:
    """A parameter value as the evaluator's scalars: pandas timestamps, None for null."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime.date, np.datetime64)):
        return pd.Timestamp(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        return float(value)
    return value


def _vectorized(operation: Callable[..., Any], *values: Any) -> Any:
    """Apply ``operation`` to Series and scalars; on scalars alone, via one-row Series."""
    if any(isinstance(v, pd.Series) for v in values):
        return operation(*values)
    return _unwrap(operation(*(pd.Series([v]) for v in values)))


def _unwrap(result: Any) -> Any:
    return result.tolist()[0] if isinstance(result, pd.Series) else result


def _call(function: Function, args: list[Any]) -> Any:
    varying = [i for i in range(len(args)) if i not in function.constant_args]
    series = [args[i] for i in varying if isinstance(args[i], pd.Series)]
    if not series:
        for i in varying:
            args[i] = pd.Series([args[i]])
        return _unwrap(function.implementation(*args))
    index = series[0].index
    if function.scalars:
        return function.implementation(*args)
    for i in varying:
        if not isinstance(args[i], pd.Series) and not (args[i] is None and function.null_scalars):
            args[i] = pd.Series(args[i], index=index)
    return function.implementation(*args)


def _compare(op: str) -> Callable[[Any, Any], pd.Series]:
    def compare(left: Any, right: Any) -> pd.Series:
        return _unknown_where_null(as_bool(COMPARISONS[op](*align_datetimes(left, right))), left, right)

    return compare


def _unknown_where_null(result: pd.Series, *operands: Any) -> pd.Series:
    """As in SQL, comparing with null gives null (unknown), not false; so ``not`` keeps such rows out.

    Whether the result is nullable depends on the operands' dtypes only, never on their values.
    """
    nulls = [_nulls(operand, result.index) for operand in operands]
    present = [mask for mask in nulls if mask is not None]
    if not present:
        return result
    return result.astype("boolean").mask(functools.reduce(operator.or_, present))


def _nulls(operand: Any, index: pd.Index) -> pd.Series | None:
    """Where ``operand`` is null, or None when its type cannot hold a null."""
    if isinstance(operand, pd.Series):
        dtype = operand.dtype
        return None if isinstance(dtype, np.dtype) and dtype.kind in "iub" else operand.isna()
    return pd.Series(True, index=index) if pd.isna(operand) else None


def _invert(values: pd.Series) -> pd.Series:
    return ~as_bool(values)


def _combine(logic: Callable[[Any, Any], Any], *values: Any) -> pd.Series:
    """``and``/``or`` with nulls as unknown (Kleene logic); scalars broadcast."""
    index = next(v.index for v in values if isinstance(v, pd.Series))
    return functools.reduce(logic, (_bool_series(v, index) for v in values))


def _combine_and(*values: Any) -> pd.Series:
    return _combine(operator.and_, *values)


def _bool_series(value: Any, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        return as_bool(value)
    if value is None or value is pd.NA:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    if isinstance(value, (bool, np.bool_)):
        return pd.Series(bool(value), index=index)
    raise TypeError(f"expected true/false values, got {value!r}")


def constant(node: Node, params: Mapping[str, Any]) -> tuple[bool, Any]:
    """(True, value) when `node` refers to no column and evaluates (parameters given, no error) to a
    non-null scalar, the value the evaluator would use for it in every row; (False, None) otherwise. The
    planner folds such parts (`date('1998-12-01')`, `add_days(@day, -90)`) once instead of per row."""
    if any(isinstance(n, Column) for n in walk(node)):
        return False, None
    if isinstance(node, Literal):
        return node.value is not None, node.value
    try:
        with np.errstate(all="ignore"):
            value = _Evaluator("", pd.DataFrame(), params).value(node)
    except (AqtraError, *_DATA_ERRORS):
        return False, None
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA or isinstance(value, pd.Series | list):
        return False, None
    return True, value
