"""Entity records as pandas frames and back: one dtype per field kind, the same at plan time (empty frames)
and at run time; cells of a frame as the plain Python values pydantic validates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..column_kinds import ColumnKind, dtype_of, empty_frame_of_kinds

#: The column kind of each field kind. A `datetime` field is an instant (its values are kept in UTC), so its
#: column is of kind `datetimetz`; `time`, `list` and `file` fields are Python objects.
FIELD_COLUMN_KINDS: dict[str, ColumnKind] = {
    "string": ColumnKind.STRING,
    "uri": ColumnKind.STRING,
    "integer": ColumnKind.INTEGER,
    "reference": ColumnKind.INTEGER,
    "number": ColumnKind.NUMBER,
    "boolean": ColumnKind.BOOLEAN,
    "date": ColumnKind.DATE,
    "datetime": ColumnKind.DATETIMETZ,
    "time": ColumnKind.OTHER,
    "list": ColumnKind.OTHER,
    "file": ColumnKind.OTHER,
}


def column_kinds_of(fields: Mapping[str, str]) -> dict[str, ColumnKind]:
    """Column kinds of these columns (`fields`: column -> field kind)."""
    return {name: FIELD_COLUMN_KINDS[kind] for name, kind in fields.items()}


def empty_records_frame(fields: Mapping[str, str]) -> pd.DataFrame:
    """The typed empty frame of these columns (`fields`: column -> field kind)."""
    return empty_frame_of_kinds(column_kinds_of(fields))


def column(values: Sequence[Any], kind: str) -> pd.Series:
    """Values read from the database as a column of the kind's dtype."""
    column_kind = FIELD_COLUMN_KINDS[kind]
    if column_kind == ColumnKind.DATE:
        return pd.Series(pd.to_datetime(pd.Series(list(values), dtype=object)), dtype=dtype_of(column_kind))
    if column_kind == ColumnKind.DATETIMETZ:
        return pd.Series(pd.to_datetime(pd.Series(list(values), dtype=object), utc=True)).dt.as_unit("us")
    if column_kind == ColumnKind.OTHER:
        cells = np.empty(len(values), dtype=object)  # element by element: lists must stay list cells
        for i, value in enumerate(values):
            cells[i] = value
        return pd.Series(cells, dtype=object)
    return pd.Series(list(values), dtype=dtype_of(column_kind))


def to_frame(rows: Sequence[Sequence[Any]], kinds: Mapping[str, str]) -> pd.DataFrame:
    """Rows (tuples in the order of `kinds`) as a typed frame."""
    if not rows:
        return empty_records_frame(kinds)
    data = {name: column([row[i] for row in rows], kind) for i, (name, kind) in enumerate(kinds.items())}
    return pd.DataFrame(data)


def cell(value: Any, kind: str | None) -> Any:
    """A frame cell as a plain Python value: nulls as None, numpy scalars unwrapped, timestamps as datetime
    (or as a date for a date field, when it has no time of day)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | dict):
        return [cell(v, None) for v in value] if isinstance(value, list | tuple) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "date" and isinstance(value, dt.datetime) and value.time() == dt.time(0) and not value.tzinfo:
        return value.date()
    return value


def records(frame: pd.DataFrame, kinds: Mapping[str, str]) -> list[dict[str, Any]]:
    """The frame's rows as dicts of plain values."""
    names = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, i].tolist() for i in range(len(names))]
    return [
        {name: cell(values[row], kinds.get(name)) for name, values in zip(names, columns, strict=True)}
        for row in range(len(frame))
    ]
