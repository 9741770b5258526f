"""Type checks of an expression against its input's column dtypes, at plan time.

Planning runs a step on empty frames, where `region >= 5` over a text column raises nothing (there is no
row to compare); the run then fails on the first partition. Here each operand gets a kind (number,
text, boolean, date, or unknown) from the dtypes, literals and parameter values, and comparisons,
arithmetic and function arguments whose kinds cannot go together are an error naming both operands and
their kinds. An unknown kind (an `object` column, a null) is never an error: only certain mismatches are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pandas.api import types as ptypes

from ..errors import ExpressionError
from .parse import Aggregation, BinOp, BoolOp, Call, Column, Compare, In, Literal, Negate, Node, Not, Param

NUMBER, TEXT, BOOLEAN, DATE = "number", "text", "boolean", "date"
ORDERING = ("<", "<=", ">", ">=")

# what each function's arguments take (None: anything) and what it gives (functions.py)
_TAKES: dict[str, tuple[str | None, ...]] = {
    **dict.fromkeys(("lower", "upper", "strip", "len"), (TEXT,)),
    **dict.fromkeys(("contains", "startswith", "endswith"), (TEXT, TEXT)),
    "replace": (TEXT, TEXT, TEXT),
    "substring": (TEXT, NUMBER, NUMBER),
    **dict.fromkeys(("abs", "floor", "ceil", "sqrt", "log", "exp"), (NUMBER,)),
    **dict.fromkeys(("round", "pow"), (NUMBER, NUMBER)),
    **dict.fromkeys(("year", "month", "day", "weekday"), (DATE,)),
    "date": (TEXT,),
    "date_trunc": (TEXT, DATE),
    "add_days": (DATE, NUMBER),
    "days_between": (DATE, DATE),
    "if_else": (BOOLEAN, None, None),
}
_GIVES = {
    **dict.fromkeys(("lower", "upper", "strip", "replace", "substring", "concat"), TEXT),
    **dict.fromkeys(("len", "abs", "round", "floor", "ceil", "sqrt", "log", "exp", "pow"), NUMBER),
    **dict.fromkeys(("year", "month", "day", "weekday", "days_between"), NUMBER),
    **dict.fromkeys(("date", "date_trunc", "add_days"), DATE),
    **dict.fromkeys(("is_null", "not_null", "contains", "startswith", "endswith"), BOOLEAN),
}


def kind_of_dtype(dtype: Any) -> str | None:
    """number, text, boolean, date, or None (an object column may hold anything)."""
    if ptypes.is_bool_dtype(dtype):
        return BOOLEAN
    if ptypes.is_numeric_dtype(dtype):
        return NUMBER
    if ptypes.is_datetime64_any_dtype(dtype):
        return DATE
    if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        return TEXT
    return None


def kind_of_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, dt.date):
        return DATE
    return None


# what each aggregate (and each window function over a column) takes; absent: any kind. Dates cannot be
# summed; text has neither a sum, a mean, a median nor a deviation (pandas would join the texts for `sum`).
AGGREGATE_TAKES: dict[str, tuple[str, ...]] = {
    "sum": (NUMBER, BOOLEAN),
    **dict.fromkeys(("mean", "median", "std"), (NUMBER, BOOLEAN, DATE)),
}
WINDOW_TAKES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("cumsum", "rolling_mean", "rolling_sum"), (NUMBER, BOOLEAN)),
    **dict.fromkeys(("cummax", "cummin"), (NUMBER, BOOLEAN, DATE)),
}


def either(kinds: tuple[str, ...]) -> str:
    """'number, boolean or date'."""
    return " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else list(kinds))


def check_types(node: Node, dtypes: Mapping[str, Any], params: Mapping[str, Any], source: str) -> str | None:
    """Raise ExpressionError at the first operation whose operands' kinds cannot go together; else the
    expression's kind (None when not known)."""
    return _Checker(dtypes, params, source).kind(node)


def check_aggregation(aggregation: Aggregation, dtypes: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """The aggregate's argument checked like a row expression, then its kind against what the aggregate
    takes (`sum(region)` on a text column). Errors point into the whole aggregation's text."""
    argument = aggregation.argument
    if argument is None:
        return
    text = aggregation.source
    offset = text.index(argument.source, text.index("(") + 1)
    try:
        kind = check_types(argument.node, dtypes, params, argument.source)
    except ExpressionError as exc:
        exc.source = text
        if exc.position is not None:
            exc.position += offset
        exc.args = (exc._render(),)
        raise
    wanted = AGGREGATE_TAKES.get(aggregation.function)
    if wanted is None or kind is None or kind in wanted:
        return
    shown = _Checker(dtypes, params, argument.source).shown(argument.node, kind)
    raise ExpressionError(
        f"{aggregation.function}() takes {either(wanted)}, not {shown}; "
        f"min, max, first, last, count and count_distinct take any kind",
        source=text,
        position=offset + 1,
    )


def _compatible(a: str, b: str, op: str) -> bool:
    pair = {a, b}
    if a == b or pair == {NUMBER, BOOLEAN}:
        return True
    return pair == {DATE, TEXT}  # ISO text compared with dates is parsed as a date


class _Checker:
    def __init__(self, dtypes: Mapping[str, Any], params: Mapping[str, Any], source: str) -> None:
        self.dtypes, self.params, self.source = dtypes, params, source

    def error(self, message: str, node: Node) -> ExpressionError:
        return ExpressionError(message, source=self.source, position=getattr(node, "position", None) or None)

    def shown(self, node: Node, kind: str | None) -> str:
        match node:
            case Column(name=name):
                what = f"column {name!r}"
            case Param(name=name):
                what = f"@{name} = {self.params.get(name)!r}"
            case Literal(value=value):
                what = repr(value)
            case Call(name=name):
                what = f"{name}(...)"
            case _:
                what = "the value"
        return f"{what} ({kind})"

    def kind(self, node: Node) -> str | None:
        match node:
            case Column(name=name):
                return kind_of_dtype(self.dtypes[name]) if name in self.dtypes else None
            case Literal(value=value):
                return kind_of_value(value)
            case Param(name=name):
                return kind_of_value(self.params.get(name))
            case Negate(operand=operand):
                kind = self.kind(operand)
                if kind in (TEXT, DATE):
                    raise self.error(f"cannot negate {self.shown(operand, kind)}: '-' needs a number", node)
                return NUMBER if kind is not None else None
            case BinOp():
                return self.arithmetic(node)
            case Compare():
                return self.compare(node)
            case BoolOp(operands=operands):
                for operand in operands:
                    self.truth(operand, node.op)
                return BOOLEAN
            case Not(operand=operand):
                self.truth(operand, "not")
                return BOOLEAN
            case In():
                return self.membership(node)
            case Call():
                return self.call(node)
        return None

    def arithmetic(self, node: BinOp) -> str | None:
        a, b = self.kind(node.left), self.kind(node.right)
        if a is None or b is None:
            return None
        numeric = {NUMBER, BOOLEAN}
        if a in numeric and b in numeric:
            return NUMBER
        if node.op == "+" and a == b == TEXT:
            return TEXT
        if node.op == "*" and {a, b} == {TEXT, NUMBER}:
            return TEXT  # repeated (limits.py bounds the length)
        if node.op == "-" and a == b == DATE:
            return None  # a duration
        hint = " (join text with concat(a, b))" if node.op == "+" and TEXT in (a, b) else ""
        raise self.error(
            f"cannot compute {self.shown(node.left, a)} {node.op} {self.shown(node.right, b)}{hint}", node
        )

    def compare(self, node: Compare) -> str:
        kinds = [self.kind(operand) for operand in node.operands]
        for index, op in enumerate(node.ops):
            a, b = kinds[index], kinds[index + 1]
            if a is None or b is None or _compatible(a, b, op):
                continue
            left, right = node.operands[index], node.operands[index + 1]
            verb = "is never equal to" if op in ("==", "!=") else "cannot be ordered against"
            raise self.error(
                f"{self.shown(left, a)} {verb} {self.shown(right, b)} ('{op}' needs two values of one kind; "
                "cast one of them, or quote a text value)",
                node,
            )
        return BOOLEAN

    def truth(self, operand: Node, op: str) -> None:
        kind = self.kind(operand)
        if kind in (TEXT, DATE):
            raise self.error(f"'{op}' needs true/false values, not {self.shown(operand, kind)}", operand)

    def membership(self, node: In) -> str:
        kind = self.kind(node.operand)
        for option in node.options:
            values = self.params.get(option.name) if isinstance(option, Param) else option.value
            for value in values if isinstance(values, list | tuple) else [values]:
                other = kind_of_value(value)
                if kind is not None and other is not None and not _compatible(kind, other, "in"):
                    raise self.error(
                        f"{self.shown(node.operand, kind)} is never equal to {value!r} ({other}) in the list of "
                        "`in`: the values must be of the column's kind",
                        node,
                    )
        return BOOLEAN

    def call(self, node: Call) -> str | None:
        from .functions import FUNCTIONS

        kinds = [self.kind(arg) for arg in node.args]
        function = FUNCTIONS.get(node.name)
        if function is None:
            return None
        names = [p.strip(" []") for p in function.signature.partition("(")[2].rstrip(")").split(",")]
        for position, wanted in enumerate(_TAKES.get(node.name, ())):
            if position >= len(node.args) or wanted is None:
                continue
            kind = kinds[position]
            if kind is None or _compatible(kind, wanted, "call"):
                continue
            raise self.error(
                f"{node.name}() takes {wanted} as its argument {names[position]!r}, not "
                f"{self.shown(node.args[position], kind)}",
                node.args[position],
            )
        if node.name == "case":  # case(c1, v1, c2, v2, ..., [default]): conditions true/false
            pairs = len(node.args) // 2 * 2
            for position, condition in enumerate(node.args[:pairs:2]):
                if kinds[position * 2] in (TEXT, DATE):
                    raise self.error(
                        f"case() takes true/false conditions, not {self.shown(condition, kinds[position * 2])}",
                        condition,
                    )
            known = {k for k in [*kinds[1:pairs:2], *kinds[pairs:]] if k is not None}
            return known.pop() if len(known) == 1 else None
        if node.name in _GIVES:
            return _GIVES[node.name]
        if node.name in ("coalesce", "if_else"):
            known = {k for k in (kinds[1:] if node.name == "if_else" else kinds) if k is not None}
            return known.pop() if len(known) == 1 else None
        return None
