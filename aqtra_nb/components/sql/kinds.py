"""Database types as column kinds (`aqtra_nb.column_kinds`): a column's kind decides its pandas dtype,
which filter values may be compared with it in SQL, and which frame columns may be written into it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...column_kinds import ColumnKind

KIND_SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    ColumnKind.INTEGER: sa.BigInteger(),
    ColumnKind.NUMBER: sa.Float(),
    ColumnKind.BOOLEAN: sa.Boolean(),
    ColumnKind.STRING: sa.String(),
    ColumnKind.DATE: sa.Date(),
    ColumnKind.DATETIME: sa.DateTime(),
    ColumnKind.DATETIMETZ: sa.DateTime(timezone=True),
    ColumnKind.OTHER: sa.types.NullType(),
}

# PostgreSQL type OIDs of a query's result columns (cursor.description), for `query` sources.
PG_OID_KINDS: dict[int, ColumnKind] = {
    16: ColumnKind.BOOLEAN,
    20: ColumnKind.INTEGER,
    21: ColumnKind.INTEGER,
    23: ColumnKind.INTEGER,
    26: ColumnKind.INTEGER,
    700: ColumnKind.NUMBER,
    701: ColumnKind.NUMBER,
    1700: ColumnKind.NUMBER,
    18: ColumnKind.STRING,
    19: ColumnKind.STRING,
    25: ColumnKind.STRING,
    1042: ColumnKind.STRING,
    1043: ColumnKind.STRING,
    2950: ColumnKind.STRING,
    1082: ColumnKind.DATE,
    1114: ColumnKind.DATETIME,
    1184: ColumnKind.DATETIMETZ,
}


def pg_kind(type_code: object) -> ColumnKind:
    """The kind of a PostgreSQL result column by its `type_code` (the type's OID)."""
    return PG_OID_KINDS.get(type_code, ColumnKind.OTHER) if isinstance(type_code, int) else ColumnKind.OTHER


def sql_kind(sql_type: sa.types.TypeEngine) -> ColumnKind:
    """The kind of a database column type (`other` for types without one: JSON, arrays, binary...)."""
    if isinstance(sql_type, sa.Boolean):
        return ColumnKind.BOOLEAN
    if isinstance(sql_type, sa.Integer):
        return ColumnKind.INTEGER
    if isinstance(sql_type, sa.Float | sa.Numeric):
        return ColumnKind.NUMBER
    if isinstance(sql_type, sa.DateTime):
        return ColumnKind.DATETIMETZ if sql_type.timezone else ColumnKind.DATETIME
    if isinstance(sql_type, sa.Date):
        return ColumnKind.DATE
    if isinstance(sql_type, sa.String | sa.Uuid):
        return ColumnKind.STRING
    return ColumnKind.OTHER


@dataclass(frozen=True)
class SqlColumn:
    name: str
    kind: str  # the database's kind: what range partitions and (unless forced) filters may use
    dtype: str  # the pandas dtype it is read as
    sql_type: Any = field(default=None, compare=False)  # the database's own type (used for kind "other")
    forced: bool = False  # `types` chose the dtype: the database's values are not what the flow compares


def python_kind(values: list[Any]) -> ColumnKind:
    """The kind of a query's column from the Python values of a sample (for drivers that report no types)."""
    seen = {type(v) for v in values if v is not None}
    if not seen:
        return ColumnKind.OTHER
    if seen <= {bool}:
        return ColumnKind.BOOLEAN
    if seen <= {int}:
        return ColumnKind.INTEGER
    if seen <= {int, float}:
        return ColumnKind.NUMBER
    if seen <= {str}:
        return ColumnKind.STRING
    if seen <= {dt.datetime}:
        return ColumnKind.DATETIME
    if seen <= {dt.date}:
        return ColumnKind.DATE
    return ColumnKind.OTHER
