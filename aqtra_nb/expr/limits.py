"""Bounds on the text an expression may make, checked before the text is made.

Every other operation of the language makes at most one fixed-size value per row, so its cost is bounded
by the frame and the expression's length; text is the exception. `'a' * 1000000000` or
`len(region * 20000) > 0` on a large frame would allocate gigabytes from a few characters of input (a
grid filter a visitor types, an expression injected through a `${name}` placeholder). So every operation
that can make text longer than its inputs estimates the lengths of its result from the lengths of its
operands (exactly, with vectorized length computations) and refuses before any text is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

#: characters in one text value an expression may make
MAX_TEXT_VALUE = 1_000_000
#: characters in all the values one operation may make (or four times the frame's memory, when larger)
MAX_TEXT_TOTAL = 256 * 2**20
#: characters assumed for a number or date turned into text by `concat`
_NON_TEXT_LENGTH = 32


class TextTooLarge(ValueError):
    """An operation would make text beyond the limits; the evaluator reports it at the operation."""


def text_budget(frame: pd.DataFrame) -> int:
    """How many characters one operation may make in all, for this frame."""
    try:
        size = int(frame.memory_usage(index=False, deep=False).sum())
    except (TypeError, ValueError):  # pragma: no cover - exotic column types
        size = 0
    return max(MAX_TEXT_TOTAL, 4 * size)


def is_text(value: Any) -> bool:
    if isinstance(value, pd.Series):
        return ptypes.is_string_dtype(value.dtype) and not ptypes.is_object_dtype(value.dtype)
    return isinstance(value, str)


def _lengths(value: Any, rows: int) -> np.ndarray | int:
    """Characters of each value (nulls as 0): an array for a column, an int for a scalar (every row)."""
    if isinstance(value, pd.Series):
        if is_text(value):
            return value.str.len().fillna(0).to_numpy(dtype="int64", na_value=0)
        return np.full(len(value), _NON_TEXT_LENGTH, dtype="int64")
    if value is None:
        return 0
    return len(value) if isinstance(value, str) else _NON_TEXT_LENGTH


def _rows(values: Sequence[Any]) -> int:
    return next((len(v) for v in values if isinstance(v, pd.Series)), 1)


def _check(per_row: np.ndarray | int, rows: int, budget: int) -> None:
    if isinstance(per_row, np.ndarray):
        longest = int(per_row.max()) if len(per_row) else 0
        total = int(per_row.sum(dtype="float64"))
    else:
        longest, total = int(per_row), int(per_row) * rows
    if longest > MAX_TEXT_VALUE or total > budget:
        raise TextTooLarge(
            f"it would make text values of up to {longest:,} characters, {total:,} in all; "
            f"the limits are {MAX_TEXT_VALUE:,} characters per value and {budget:,} in all"
        )


def check_concatenation(values: Sequence[Any], budget: int) -> None:
    """`a + b` of texts, or `concat(...)`: the lengths add up."""
    rows = _rows(values)
    per_row: np.ndarray | int = 0
    for value in values:
        per_row = per_row + _lengths(value, rows)
    _check(per_row, rows, budget)


def check_repetition(text: Any, times: Any, budget: int) -> None:
    """`text * n` (or `n * text`): the length times n."""
    rows = _rows([text, times])
    counts: np.ndarray | float
    if isinstance(times, pd.Series):
        if not ptypes.is_numeric_dtype(times.dtype) or ptypes.is_bool_dtype(times.dtype):
            return  # pandas refuses to repeat by these itself
        counts = times.fillna(0).to_numpy(dtype="float64", na_value=0)
    elif isinstance(times, (int, float, np.integer, np.floating)) and not isinstance(times, bool):
        counts = float(times)
    else:
        return
    per_row = np.clip(np.asarray(_lengths(text, rows), dtype="float64") * counts, 0, 2.0**62)
    _check(per_row.astype("int64") if per_row.ndim else int(per_row), rows, budget)


def check_replacement(text: Any, old: str, new: str, budget: int) -> None:
    """`replace(s, old, new)` grows text when `new` is longer than `old`: by the number of matches."""
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old) or not is_text(text):
        return
    lengths = _lengths(text, _rows([text]))
    if old:
        matches = text.str.count(re.escape(old)).fillna(0).to_numpy(dtype="int64", na_value=0)
    else:
        matches = np.asarray(lengths) + 1  # an empty `old` matches between every two characters
    _check(lengths + matches * (len(new) - len(old)), len(text), budget)
