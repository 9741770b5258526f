"""Page rows as JSON-ready display text; column kinds tell the view how to align them."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd


def column_kind(dtype: Any) -> str:
    """number, integer, boolean, datetime or string: what the view aligns and formats by."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def format_value(value: Any, kind: str) -> str | None:
    """One cell as text; None for a missing value (the view shows it greyed)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if kind == "number":
        return f"{float(value):,.2f}"
    if kind == "integer":
        return f"{int(value):,}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp.tz is None and stamp == stamp.normalize():
            return stamp.strftime("%Y-%m-%d")
        return stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def page_cells(
    frame: pd.DataFrame, kinds: list[str], formats: dict[str, str] | None = None
) -> list[list[str | None]]:
    """The page's rows as lists of display strings; `formats` maps a column to a `str.format` pattern."""
    formats = formats or {}
    columns = []
    for i, kind in enumerate(kinds):
        pattern = formats.get(str(frame.columns[i]))
        values = frame.iloc[:, i].tolist()
        columns.append([_formatted(v, kind, pattern) for v in values])
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(len(frame))]


def _formatted(value: Any, kind: str, pattern: str | None) -> str | None:
    if pattern is None:
        return format_value(value, kind)
    if format_value(value, kind) is None:
        return None
    try:
        return pattern.format(value)
    except (ValueError, TypeError):
        return format_value(value, kind)
