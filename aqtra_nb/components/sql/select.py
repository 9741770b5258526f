"""What a SQL read sends: its source (a table or a query with bound values), the predicates pushed from a
following `filter` that SQL applies exactly as pandas would, and the range partitions over `partition_on`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ...expr.evaluate import COMPARISONS
from ..base import Predicate
from .database import split_table
from .kinds import KIND_SQL_TYPES, SqlColumn


@dataclass(frozen=True)
class Source:
    """A read's source as plain data (picklable for workers): a table, or a query with bound values."""

    table: str | None
    query: str | None
    values: tuple[tuple[str, Any], ...]
    columns: tuple[SqlColumn, ...]

    @functools.cached_property
    def by_name(self) -> dict[str, SqlColumn]:
        return {c.name: c for c in self.columns}

    def from_clause(self) -> sa.FromClause:
        # Generic types for binding values and reading them back (the database's own type only where there
        # is no generic one): no Decimal conversions, SQLite's text dates parsed.
        typed = [
            sa.column(
                c.name, c.sql_type if c.kind == "other" and c.sql_type is not None else KIND_SQL_TYPES[c.kind]
            )
            for c in self.columns
        ]
        if self.query is not None:
            return sa.text(self.query).bindparams(**dict(self.values)).columns(*typed).subquery("q")
        assert self.table is not None  # (a table or a query, as the params)
        schema, name = split_table(self.table)
        return sa.table(name, *typed, schema=schema)

    def meta(self, columns: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series([], dtype=self.by_name[name].dtype) for name in columns})


@dataclass(frozen=True)
class SqlFilter:
    """Predicates a SQL reader applies in its WHERE clause (bound parameters)."""

    predicates: tuple[Predicate, ...]

    def __str__(self) -> str:
        return " and ".join(str(p) for p in self.predicates)


SQL_OPS = COMPARISONS


def sql_compatible(kind: str, op: str, value: Any) -> bool:
    """Whether `column op value` in SQL keeps every row that pandas would keep (a superset is fine).

    Text is compared for equality only (ordering follows the database's collation, not Python's);
    timestamps with time zones take aware values, naive ones naive values or dates.
    """
    if isinstance(value, bool):
        return kind == "boolean" and op in ("==", "!=", "in")
    if isinstance(value, int | float):
        return kind in ("integer", "number")
    if isinstance(value, str):
        return kind == "string" and op in ("==", "in")
    if isinstance(value, dt.datetime):
        return kind == ("datetimetz" if value.tzinfo is not None else "datetime")
    if isinstance(value, dt.date):
        return kind in ("date", "datetime")
    return False


def clause(column: sa.ColumnElement, predicate: Predicate) -> sa.ColumnElement:
    if predicate.op == "in":
        return column.in_(list(predicate.value))
    return SQL_OPS[predicate.op](column, predicate.value)


@dataclass(frozen=True)
class Range:
    """One partition of a range read: `low <= column < high` (`<= high` for the last; nulls in the first)."""

    low: Any = None
    high: Any = None
    first: bool = True
    last: bool = True


def build_select(
    source: Source,
    columns: Sequence[str],
    predicates: Sequence[Predicate],
    on: str | None,
    part: Range | None,
) -> sa.Select:
    """The SELECT of one partition: only `columns`, the pushed predicates and the range, all bound."""
    frame = source.from_clause()
    statement = sa.select(*[frame.c[name] for name in columns])
    for predicate in predicates:
        statement = statement.where(clause(frame.c[predicate.column], predicate))
    if on is not None and part is not None and part.low is not None:
        column = frame.c[on]
        upper = column <= part.high if part.last else column < part.high
        in_range = sa.and_(column >= part.low, upper)
        statement = statement.where(sa.or_(in_range, column.is_(None)) if part.first else in_range)
    return statement


def range_value(value: Any, kind: str) -> Any:
    if kind == "integer":
        return int(value)
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def split_range(low: Any, high: Any, n: int) -> list[Any]:
    """n+1 increasing bounds from low to high (fewer when the range is too small to split)."""
    if isinstance(low, int):
        bounds = [low + (high - low) * i // n for i in range(n)] + [high]
    else:
        bounds = [low + (high - low) * i / n for i in range(n)] + [high]
        if isinstance(low, dt.date) and not isinstance(low, dt.datetime):
            bounds = [b if not isinstance(b, dt.datetime) else b.date() for b in bounds]
    unique = [b for i, b in enumerate(bounds) if i == 0 or b != bounds[i - 1]]
    return unique if len(unique) > 1 else [low, high]
