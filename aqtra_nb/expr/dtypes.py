"""The dtype of an expression's result, worked out from its input dtypes without running pandas.

Planning infers every step's output schema. For most components that means running the step on empty
frames, which costs as much as running it on a small frame (a few hundred µs for a `derive`). For the
arithmetic the evaluator computes straight on numpy arrays (`numeric.py`: `+ - * /` over int64/float64
columns and Python numbers), the result dtype follows numpy's rules and is known up front. Anything
else returns None and the caller runs the step on empty frames as before, so a schema never differs
from what running the step gives (tests compare the two on generated expressions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .numeric import OPERATORS
from .parse import BinOp, Column, Literal, Negate, Node, Param

INT64, FLOAT64 = np.dtype("int64"), np.dtype("float64")
_INT64_MIN, _INT64_MAX = np.iinfo(np.int64).min, np.iinfo(np.int64).max
_PY_INT, _PY_FLOAT = "int", "float"  # a Python number: numpy keeps the array's dtype (NEP 50)


def static_dtype(node: Node, dtypes: Mapping[str, Any], params: Mapping[str, Any]) -> np.dtype | None:
    """The numpy dtype of the Series `node` evaluates to over columns of `dtypes`, or None when it is
    not one of the cases known without running it (or when it is a constant, not a column)."""
    kind = _kind(node, dtypes, params)
    return kind if isinstance(kind, np.dtype) else None


def _kind(node: Node, dtypes: Mapping[str, Any], params: Mapping[str, Any]) -> np.dtype | str | None:
    match node:
        case Column(name=name):
            dtype = dtypes.get(name)
            return dtype if isinstance(dtype, np.dtype) and dtype in (INT64, FLOAT64) else None
        case Literal(value=value):
            return _number(value)
        case Param(name=name):
            return _number(params[name]) if name in params else None
        case Negate(operand=operand):
            kind = _kind(operand, dtypes, params)
            return kind if isinstance(kind, np.dtype) else None
        case BinOp(op=op, left=left, right=right) if op in OPERATORS:
            a, b = _kind(left, dtypes, params), _kind(right, dtypes, params)
            if a is None or b is None or not (isinstance(a, np.dtype) or isinstance(b, np.dtype)):
                return None  # unknown, or numbers alone (a constant: evaluated as such)
            if op == "/" or FLOAT64 in (a, b) or _PY_FLOAT in (a, b):
                return FLOAT64
            return INT64
    return None


def _number(value: Any) -> str | None:
    if type(value) is int:  # not bool, not numpy scalars (they are not on the fast path)
        return _PY_INT if _INT64_MIN <= value <= _INT64_MAX else None
    if type(value) is float:
        return _PY_FLOAT
    return None
