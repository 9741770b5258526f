"""Arithmetic on numpy int64/float64 columns straight on their arrays.

A pandas Series operation costs tens of microseconds before any data is touched (alignment, dispatch,
result wrapping); on small frames that is most of a step. For the operators where pandas adds nothing
to numpy's result (no alignment needed, no zero-division fixes as for ``//`` and ``%``), the evaluator
computes here and wraps the array once. Anything else (other dtypes, nullable or Arrow columns, bools,
other operators) returns None and takes the pandas path, so results never differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

OPERATORS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_INT64, _FLOAT64 = np.dtype("int64"), np.dtype("float64")


def _eligible(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, np.dtype) and (dtype == _INT64 or dtype == _FLOAT64)


def _array(value: Any) -> Any:
    """The operand as an ndarray (a view) or a Python number, or None when not eligible."""
    if isinstance(value, pd.Series):
        return value.to_numpy() if _eligible(value) else None
    if type(value) is int or type(value) is float:  # not bool, not numpy scalars
        return value
    return None


def arithmetic(op: str, left: Any, right: Any) -> pd.Series | None:
    """``left <op> right`` as pandas would compute it, or None if this case is left to pandas."""
    operation = OPERATORS.get(op)
    if operation is None:
        return None
    series = left if isinstance(left, pd.Series) else right
    if not isinstance(series, pd.Series):
        return None
    if isinstance(left, pd.Series) and isinstance(right, pd.Series) and not left.index.equals(right.index):
        return None  # pandas would align the indexes (columns of one frame share theirs: no comparison)
    a, b = _array(left), _array(right)
    if a is None or b is None:
        return None
    return pd.Series(operation(a, b), index=series.index, copy=False)


def negate(value: Any) -> pd.Series | None:
    """``-value`` for an eligible column, else None."""
    if isinstance(value, pd.Series) and _eligible(value):
        return pd.Series(np.negative(value.to_numpy()), index=value.index, copy=False)
    return None
