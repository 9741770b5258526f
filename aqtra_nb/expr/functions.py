"""The function table: each name's arity and its vectorized pandas implementation.

Implementations receive pandas Series for ordinary arguments (the evaluator broadcasts scalars) and plain
scalars for the ``constant_args`` positions. With ``null_scalars`` a null scalar arrives as ``None``, so that
the function can keep the dtype of its other arguments; with ``scalars`` every scalar arrives as it is
(``coalesce`` fills with a scalar without making a column of it).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

INT64 = range(-(2**63), 2**63)  # integers outside it are handled as floats

#: aggregate name -> the pandas groupby reduction that computes it (``count()`` with no argument is "size")
AGGREGATE_FUNCTIONS = MappingProxyType(
    {
        "sum": "sum",
        "mean": "mean",
        "min": "min",
        "max": "max",
        "count": "count",
        "count_distinct": "nunique",
        "median": "median",
        "std": "std",
        "first": "first",
        "last": "last",
    }
)


@dataclass(frozen=True)
class Function:
    signature: str
    implementation: Callable[..., pd.Series]
    min_args: int
    max_args: int | None  # None: any number
    constant_args: frozenset[int] = frozenset()  # positions that must not refer to columns
    null_scalars: bool = False
    scalars: bool = False  # every scalar arrives as it is (implies null_scalars)

    @property
    def name(self) -> str:
        return self.signature.partition("(")[0]

    def accepts(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)


_TABLE: dict[str, Function] = {}


def _function(
    signature: str,
    arity: int | tuple[int, int | None],
    constant: tuple[int, ...] = (),
    null_scalars: bool = False,
    scalars: bool = False,
) -> Callable[[Callable[..., pd.Series]], Callable[..., pd.Series]]:
    """Register the decorated implementation under the name that starts ``signature``."""
    low, high = (arity, arity) if isinstance(arity, int) else arity

    def register(implementation: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        entry = Function(
            signature, implementation, low, high, frozenset(constant), null_scalars or scalars, scalars
        )
        _TABLE[entry.name] = entry
        return implementation

    return register


# --- shared helpers (also used by the evaluator) ---------------------------------------------------------


def as_bool(values: pd.Series) -> pd.Series:
    """Values as numpy ``bool`` when they have no nulls by type, else as nullable ``boolean``."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return values
    if ptypes.is_bool_dtype(dtype) or ptypes.is_object_dtype(dtype):
        return values.astype("boolean")
    raise TypeError(f"expected true/false values, got {dtype}")


def as_mask(values: pd.Series) -> pd.Series:
    """A condition as plain ``bool``; null counts as false."""
    return as_bool(values).fillna(False).astype(bool)


def as_datetime(values: pd.Series) -> pd.Series:
    """Dates and timestamps as numpy-backed datetime64 (tz kept); ISO 8601 text is parsed."""
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype) and dtype.kind == "M":
        return pd.to_datetime(values)
    if ptypes.is_datetime64_any_dtype(dtype):
        return values
    if ptypes.is_string_dtype(dtype):
        try:
            return pd.to_datetime(values, format="ISO8601")
        except ValueError as exc:
            reason = str(exc).partition(" You might")[0]  # drop pandas' advice on its own arguments
            raise ValueError(f"{reason} Write dates as ISO 8601 text, e.g. '2024-01-31'.") from exc
    raise TypeError(f"expected dates, got {dtype}")


def align_datetimes(left: Any, right: Any) -> tuple[Any, Any]:
    """Make two compared values comparable when dates are involved (Arrow dates, time zones)."""
    left, right = _numpy_datetime(left), _numpy_datetime(right)
    return _localize(left, right), _localize(right, left)


def _numpy_datetime(value: Any) -> Any:
    if isinstance(value, pd.Series) and isinstance(value.dtype, pd.ArrowDtype) and value.dtype.kind == "M":
        return pd.to_datetime(value)
    return value


def _localize(value: Any, other: Any) -> Any:
    """A naive timestamp compared with tz-aware values means wall time in their zone."""
    tz = getattr(getattr(other, "dtype", None), "tz", None)
    if isinstance(value, pd.Timestamp) and value.tz is None and tz is not None:
        return value.tz_localize(tz)
    return value


def power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``; integers are raised as floats so that negative exponents work."""
    if _is_integer(base) and _is_integer(exponent):
        base = base * 1.0
    return base**exponent


def _is_integer(value: Any) -> bool:
    if isinstance(value, pd.Series):
        return ptypes.is_integer_dtype(value.dtype)
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _index(values: tuple[Any, ...]) -> pd.Index:
    return next(v.index for v in values if isinstance(v, pd.Series))


def _text(values: pd.Series) -> Any:
    if not ptypes.is_string_dtype(values.dtype):
        raise TypeError(f"expected text, got {values.dtype}")
    return values.str


def _numbers(values: pd.Series) -> pd.Series:
    dtype = values.dtype
    if ptypes.is_object_dtype(dtype):  # e.g. a null scalar
        return pd.to_numeric(values)
    if ptypes.is_bool_dtype(dtype) or not ptypes.is_numeric_dtype(dtype):
        raise TypeError(f"expected numbers, got {dtype}")
    return values


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be text, got {value!r}")
    return value


def _integer(value: Any, what: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _choose(mask: pd.Series, value: pd.Series | None, other: pd.Series | None) -> pd.Series:
    """``value`` where ``mask``, else ``other``; None stands for null."""
    if value is None:
        if other is None:
            return pd.Series(None, index=mask.index, dtype=object)
        return other.mask(mask)
    return value.where(mask, other)


def _in_wall_time(values: pd.Series, compute: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a calendar computation to local wall time, so tz-aware values keep their zone."""
    tz = getattr(values.dtype, "tz", None)
    if tz is None:
        return compute(values)
    local = compute(values.dt.tz_localize(None))
    earlier = np.ones(len(local), dtype=bool)  # an ambiguous wall time means its first occurrence
    return local.dt.tz_localize(tz, ambiguous=earlier, nonexistent="shift_forward")


# --- nulls and conditions -------------------------------------------------------------------------------


@_function("is_null(x)", 1)
def _is_null(x: pd.Series) -> pd.Series:
    return x.isna()


@_function("not_null(x)", 1)
def _not_null(x: pd.Series) -> pd.Series:
    return x.notna()


@_function("coalesce(a, b, ...)", (2, None), scalars=True)
def _coalesce(*values: Any) -> pd.Series:
    index = _index(values)
    present = [v for v in values if v is not None]
    if not present:
        return pd.Series(None, index=index, dtype=object)
    result = present[0] if isinstance(present[0], pd.Series) else pd.Series(present[0], index=index)
    for value in present[1:]:
        if not isinstance(value, pd.Series) and not _fills_like_a_column(result.dtype, value):
            value = pd.Series(value, index=index)
        result = result.fillna(value)
    return result


def _fills_like_a_column(dtype: Any, value: Any) -> bool:
    """Whether ``fillna(value)`` gives what ``fillna`` with a column of ``value`` gives (and it is more than
    ten times faster: no index alignment). True for numpy dtypes and text filled with text; other
    extension dtypes differ in edge cases (a bool into Int64, a float into an Arrow integer)."""
    return isinstance(dtype, np.dtype) or (isinstance(dtype, pd.StringDtype) and isinstance(value, str))


@_function("if_else(cond, a, b)", 3, null_scalars=True)
def _if_else(cond: pd.Series | None, a: pd.Series | None, b: pd.Series | None) -> pd.Series:
    index = _index((cond, a, b))
    mask = pd.Series(False, index=index) if cond is None else as_mask(cond)
    return _choose(mask, a, b)


@_function("case(cond1, value1, cond2, value2, ..., [default])", (2, None), null_scalars=True)
def _case(*args: pd.Series | None) -> pd.Series:
    index = _index(args)
    result = args[-1] if len(args) % 2 else None
    for position in range(len(args) // 2 * 2 - 2, -1, -2):
        cond, value = args[position], args[position + 1]
        mask = pd.Series(False, index=index) if cond is None else as_mask(cond)
        result = _choose(mask, value, result)
    return result  # type: ignore[return-value]


# --- text -----------------------------------------------------------------------------------------------


@_function("lower(s)", 1)
def _lower(s: pd.Series) -> pd.Series:
    return _text(s).lower()


@_function("upper(s)", 1)
def _upper(s: pd.Series) -> pd.Series:
    return _text(s).upper()


@_function("strip(s)", 1)
def _strip(s: pd.Series) -> pd.Series:
    return _text(s).strip()


@_function("len(s)", 1)
def _len(s: pd.Series) -> pd.Series:
    return _text(s).len().astype("Int64")


@_function("contains(s, sub)", 2, constant=(1,))
def _contains(s: pd.Series, sub: str) -> pd.Series:
    return _text(s).contains(_string(sub, "sub"), regex=False)


@_function("startswith(s, prefix)", 2, constant=(1,))
def _startswith(s: pd.Series, prefix: str) -> pd.Series:
    return _text(s).startswith(_string(prefix, "prefix"))


@_function("endswith(s, suffix)", 2, constant=(1,))
def _endswith(s: pd.Series, suffix: str) -> pd.Series:
    return _text(s).endswith(_string(suffix, "suffix"))


@_function("replace(s, old, new)", 3, constant=(1, 2))
def _replace(s: pd.Series, old: str, new: str) -> pd.Series:
    return _text(s).replace(_string(old, "old"), _string(new, "new"), regex=False)


@_function("concat(a, b, ...)", (2, None), null_scalars=True)
def _concat(*values: pd.Series | None) -> pd.Series:
    index = _index(values)
    parts = [pd.Series(None, index=index, dtype="str") if v is None else v.astype("str") for v in values]
    return functools.reduce(operator.add, parts)


@_function("substring(s, start, [length])", (2, 3), constant=(1, 2))
def _substring(s: pd.Series, start: int, length: int | None = None) -> pd.Series:
    first = _integer(start, "start") - 1
    if first < 0:
        raise ValueError(f"start is 1-based and must be at least 1, got {start}")
    if length is not None and _integer(length, "length") < 0:
        raise ValueError(f"length must not be negative, got {length}")
    return _text(s).slice(first, None if length is None else first + int(length))


# --- numbers --------------------------------------------------------------------------------------------


@_function("abs(x)", 1)
def _abs(x: pd.Series) -> pd.Series:
    return _numbers(x).abs()


@_function("round(x, [digits])", (1, 2), constant=(1,))
def _round(x: pd.Series, digits: int = 0) -> pd.Series:
    return _numbers(x).round(_integer(digits, "digits"))


@_function("floor(x)", 1)
def _floor(x: pd.Series) -> pd.Series:
    return np.floor(_numbers(x))


@_function("ceil(x)", 1)
def _ceil(x: pd.Series) -> pd.Series:
    return np.ceil(_numbers(x))


@_function("sqrt(x)", 1)
def _sqrt(x: pd.Series) -> pd.Series:
    return np.sqrt(_numbers(x))


@_function("log(x)", 1)
def _log(x: pd.Series) -> pd.Series:
    return np.log(_numbers(x))


@_function("exp(x)", 1)
def _exp(x: pd.Series) -> pd.Series:
    return np.exp(_numbers(x))


@_function("pow(x, y)", 2)
def _pow(x: pd.Series, y: pd.Series) -> pd.Series:
    return power(_numbers(x), _numbers(y))


# --- dates ----------------------------------------------------------------------------------------------

_PERIODS = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


@_function("date(text)", 1)
def _date(text: pd.Series) -> pd.Series:
    return as_datetime(text)


@_function("year(d)", 1)
def _year(d: pd.Series) -> pd.Series:
    return as_datetime(d).dt.year.astype("Int64")


@_function("month(d)", 1)
def _month(d: pd.Series) -> pd.Series:
    return as_datetime(d).dt.month.astype("Int64")


@_function("day(d)", 1)
def _day(d: pd.Series) -> pd.Series:
    return as_datetime(d).dt.day.astype("Int64")


@_function("weekday(d)", 1)
def _weekday(d: pd.Series) -> pd.Series:
    return as_datetime(d).dt.day_of_week.astype("Int64")


@_function("date_trunc(unit, d)", 2, constant=(0,))
def _date_trunc(unit: str, d: pd.Series) -> pd.Series:
    if unit != "day" and unit not in _PERIODS:
        raise ValueError(f"unit must be one of 'day', {', '.join(map(repr, _PERIODS))}; got {unit!r}")

    def truncate(naive: pd.Series) -> pd.Series:
        if unit == "day":
            return naive.dt.normalize()
        return naive.dt.to_period(_PERIODS[unit]).dt.start_time.astype(naive.dtype)

    return _in_wall_time(as_datetime(d), truncate)


@_function("add_days(d, n)", 2)
def _add_days(d: pd.Series, n: pd.Series) -> pd.Series:
    delta = pd.to_timedelta(_numbers(n), unit="D")
    return _in_wall_time(as_datetime(d), lambda naive: naive + delta)


@_function("days_between(a, b)", 2)
def _days_between(a: pd.Series, b: pd.Series) -> pd.Series:
    # pandas-stubs type the difference of two datetime Series as Series[Any], which has no `/ Timedelta`
    days = (as_datetime(b) - as_datetime(a)) / pd.Timedelta(days=1)  # type: ignore[operator]
    return np.trunc(days).astype("Int64")


FUNCTIONS = MappingProxyType(_TABLE)
