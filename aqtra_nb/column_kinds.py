"""Column kinds: the one table of what a column holds and the pandas dtype that holds it.

Every reader, writer and model maps its own types through here (file readers' `dtypes`, `cast`, `empty`,
the SQL connectors, `http_get`'s `columns`, entity fields), so a kind means the same thing everywhere:

| kind | pandas dtype | holds |
|---|---|---|
| `string` | `str` | text |
| `integer` | `Int64` (`int64` where a database column is NOT NULL) | whole numbers, nulls allowed |
| `number` | `float64` | numbers, decimals included |
| `boolean` | `boolean` (`bool` where NOT NULL) | true/false, nulls allowed |
| `date` | `datetime64[s]` | calendar days (at midnight) |
| `datetime` | `datetime64[us]` | timestamps without a time zone (wall-clock time as written) |
| `datetimetz` | `datetime64[us, UTC]` | instants: timestamps with a zone, kept in UTC |
| `other` | `object` | anything else (JSON values, lists, database types without a kind) |

Imports nothing of the package: it is the bottom layer that components, connectors and entities share.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

import pandas as pd


class ColumnKind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    DATETIMETZ = "datetimetz"
    OTHER = "other"


#: The kinds a flow may declare for a column (`dtypes`, `types`, `columns` of readers, `cast`, `empty`).
DeclaredKind = Literal["string", "integer", "number", "boolean", "date", "datetime", "datetimetz"]

#: Kinds held as datetime64 columns.
TEMPORAL = frozenset({ColumnKind.DATE, ColumnKind.DATETIME, ColumnKind.DATETIMETZ})

_DTYPES: dict[str, str] = {
    ColumnKind.STRING: "str",
    ColumnKind.INTEGER: "Int64",
    ColumnKind.NUMBER: "float64",
    ColumnKind.BOOLEAN: "boolean",
    ColumnKind.DATE: "datetime64[s]",
    ColumnKind.DATETIME: "datetime64[us]",
    ColumnKind.DATETIMETZ: "datetime64[us, UTC]",
    ColumnKind.OTHER: "object",
}
_NOT_NULL = {ColumnKind.INTEGER: "int64", ColumnKind.BOOLEAN: "bool"}


def dtype_of(kind: str, *, nullable: bool = True) -> str:
    """The pandas dtype of a column of this kind (`object` for a kind it does not know). Integers and
    booleans are nullable unless `nullable=False` (a NOT NULL database column)."""
    if not nullable and kind in _NOT_NULL:
        return _NOT_NULL[ColumnKind(kind)]
    return _DTYPES.get(kind, "object")


def empty_frame_of_kinds(kinds: Mapping[str, str]) -> pd.DataFrame:
    """The typed empty frame of these columns (`kinds`: column -> kind): a schema for planning."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype_of(kind)) for name, kind in kinds.items()})


def to_datetime(values: pd.Series, kind: str, errors: Literal["raise", "coerce"] = "raise") -> pd.Series:
    """Text or timestamps as a column of a temporal kind: `date` (midnight), `datetime` or `datetimetz`
    (in UTC; naive values are taken as UTC). Text may mix formats (`2024-01-02`, `2024-01-02 10:30`);
    `errors="coerce"` makes bad values null. A `datetime` column keeps a zone its text carries."""
    utc = kind == ColumnKind.DATETIMETZ
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        try:
            values = pd.to_datetime(values, format="ISO8601", utc=utc)
        except (ValueError, TypeError):
            values = pd.to_datetime(values, format="mixed", errors=errors, utc=utc)
    elif utc:
        values = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    if kind == ColumnKind.DATE:
        values = values.dt.normalize()
    return values.dt.as_unit("s" if kind == ColumnKind.DATE else "us")
