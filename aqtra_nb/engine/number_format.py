"""Numbers of a result table for people: thousands separators and sensible decimals (2, more for small
values, none for whole numbers), missing values as a dash. Only the display changes, never the frame."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

MISSING = "—"


def decimals(values: pd.Series) -> int:
    """Decimals that show a float column's values: 0 when all are whole, 2 usually, more for small ones."""
    finite = values[pd.notna(values)].astype("float64")
    finite = finite[finite.map(math.isfinite)]
    if finite.empty or (finite % 1 == 0).all():
        return 0
    smallest = finite.abs()[finite != 0].min()
    if smallest >= 0.01:
        return 2
    return min(8, math.ceil(-math.log10(smallest)) + 2)


def formatter(values: pd.Series) -> Callable[[object], str] | None:
    """How one column's cells are shown; None for columns that are not numbers."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return lambda v: MISSING if pd.isna(v) else f"{int(v):,}"  # type: ignore[call-overload]
    places = decimals(values)

    def show(v: object) -> str:
        if pd.isna(v):  # type: ignore[call-overload]
            return MISSING
        number = float(v)  # type: ignore[arg-type]
        return f"{number:,.{places}f}" if math.isfinite(number) else str(number)

    return show


def formatters(frame: pd.DataFrame) -> dict[str, Callable[[object], str]]:
    found = {}
    for position, name in enumerate(frame.columns):
        shown = formatter(frame.iloc[:, position])
        if shown is not None:
            found[name] = shown
    return found


def frame_html(frame: pd.DataFrame, rows: int = 10) -> str:
    """The first `rows` rows as an HTML table with numbers formatted, and how many rows there are."""
    head = frame.head(rows)
    table = head.to_html(formatters=formatters(head), na_rep=MISSING, index=False, border=0)
    more = f"<small>{len(frame):,} rows</small>" if len(frame) > rows else ""
    return table + more


def frame_text(frame: pd.DataFrame, rows: int = 10) -> str:
    head = frame.head(rows)
    return head.to_string(formatters=formatters(head), na_rep=MISSING, index=False)


class FormattedFrame:
    """A frame displayed for people (`RunResult.show`); `.frame` is the data, unchanged."""

    def __init__(self, frame: pd.DataFrame, rows: int = 20) -> None:
        self.frame, self.rows = frame, rows

    def _repr_html_(self) -> str:
        return frame_html(self.frame, self.rows)

    def __repr__(self) -> str:
        return frame_text(self.frame, self.rows)
