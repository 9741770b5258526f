"""`read_sql`: a table or a SELECT, planned without reading data (reflection, or the query with `LIMIT 0`),
read as range partitions of the needed columns with the pushed predicates bound."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import dask.dataframe as dd
import pandas as pd
import sqlalchemy as sa
from pydantic import Field, model_validator

from ...column_kinds import DeclaredKind, dtype_of
from ...errors import AqtraError, did_you_mean
from ..base import InputComponent, Predicate
from .database import Database, SqlParams, db_errors, db_message, missing_table, reflect
from .kinds import SqlColumn, pg_kind, python_kind, sql_kind
from .select import Range, Source, SqlFilter, build_select, clause, range_value, split_range, sql_compatible

# -- read_sql --------------------------------------------------------------------------------------------


class ReadSqlParams(SqlParams):
    table: str | None = Field(None, description="Table or view to read (`schema.table` allowed).")
    query: str | None = Field(
        None,
        description="A SELECT to read instead of a table; values as `:name` placeholders (see `params`).",
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of the query's `:name` placeholders: literals, or `@parameter` for a flow "
        "parameter. Always bound by the driver, never formatted into the SQL.",
    )
    columns: list[str] | None = Field(None, description="Read only these columns.")
    types: dict[str, DeclaredKind] = Field(
        default_factory=dict,
        description="Column types to force (e.g. dates that SQLite keeps as text): string, integer, "
        "number, boolean, date, datetime, datetimetz.",
    )
    partition_on: str | None = Field(
        None, description="An integer, date or timestamp column to split the read on (with `partitions`)."
    )
    partitions: int = Field(
        1, ge=1, le=10_000, description="Number of range queries over `partition_on`, read in parallel."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ReadSqlParams:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either `table` or `query`")
        if self.params and self.query is None:
            raise ValueError("`params` are the values of a `query`'s :name placeholders; there is no query")
        if self.partitions > 1 and not self.partition_on:
            raise ValueError("`partitions` needs `partition_on`, the column to split the read on")
        if self.query is not None:
            self.query = _checked_query(self.query)
        return self


_LEADING_COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*", re.S)


def _checked_query(text: str) -> str:
    body = text.strip().rstrip(";").rstrip()
    start = _LEADING_COMMENTS.sub("", body)
    if not re.match(r"(?i)(select|with|values)\b", start):
        raise ValueError("`query` must be one SELECT (or WITH ... SELECT) statement")
    if ";" in re.sub(r"'(?:[^']|'')*'", "", body):
        raise ValueError("`query` must be a single statement (no `;` inside)")
    return body


def coerce_frame(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: coerce(frame[name], dtype) for name, dtype in dtypes.items()}, index=frame.index
    )


def coerce(values: pd.Series, dtype: str) -> pd.Series:
    """Values as the driver returns them (Python objects) → the planned dtype."""
    if dtype == "object":
        return values.astype(object)
    if dtype.startswith("datetime64"):
        utc = "UTC" in dtype
        if not pd.api.types.is_datetime64_any_dtype(values.dtype):
            values = pd.to_datetime(values, format="ISO8601", utc=utc)
        if utc:
            values = values.dt.tz_convert("UTC") if values.dt.tz is not None else values.dt.tz_localize("UTC")
        elif values.dt.tz is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        unit = dtype.removeprefix("datetime64[").split(",")[0].rstrip("]")
        return values.dt.as_unit(unit)
    return values.astype(pd.api.types.pandas_dtype(dtype))


class _ReadPartition:
    """Runs one partition's SELECT and returns it as a pandas frame of the planned dtypes."""

    def __init__(
        self, database: Database, source: Source, columns: list[str], predicates: tuple, on: str | None
    ) -> None:
        self.database, self.source, self.columns, self.predicates, self.on = (
            database,
            source,
            columns,
            predicates,
            on,
        )

    def __call__(self, part: Range) -> pd.DataFrame:
        statement = build_select(self.source, self.columns, self.predicates, self.on, part)
        with self.database.connect(readonly=True) as connection:
            try:
                rows = connection.execute(statement).fetchall()
            except db_errors() as exc:
                where = "table" if self.source.table else "query"
                raise AqtraError(f"cannot read: {db_message(exc)}", field=where) from None
        frame = pd.DataFrame.from_records(rows, columns=self.columns, coerce_float=False, nrows=len(rows))
        return coerce_frame(frame, {c: self.source.by_name[c].dtype for c in self.columns})


class ReadSql(InputComponent[ReadSqlParams]):
    """Read a table or a SELECT from a SQL database; columns and filters are pushed into the SQL."""

    name = "read_sql"
    supports_filters = True
    verbatim: ClassVar = {
        "query": "write a `:name` placeholder and give its value in `params` (e.g. `params: {name: "
        "'@name'}`): values are bound by the driver, never formatted into SQL"
    }

    @functools.cached_property
    def database(self) -> Database:
        return Database(self.ctx, self.params)

    @functools.cached_property
    def source(self) -> Source:
        p = self.params
        with self.database.connect(readonly=True) as connection:
            if p.table is not None:
                found = reflect(self.ctx, connection, p.table)
                if found is None:
                    raise missing_table(self.ctx, connection, p.table)
                columns = [
                    SqlColumn(
                        c["name"],
                        sql_kind(c["type"]),
                        dtype_of(sql_kind(c["type"]), nullable=c["nullable"]),
                        c["type"],
                    )
                    for c in found
                ]
                values: dict[str, Any] = {}
            else:
                assert p.query is not None  # (the params hold a table or a query)
                values = self._query_values(p.query)
                columns = self._probe(connection, p.query, values)
        names = [c.name for c in columns]
        self.ctx.require_columns(names, list(p.types), field="types")
        columns = [
            SqlColumn(c.name, c.kind, dtype_of(p.types[c.name]), c.sql_type, forced=True)
            if c.name in p.types
            else c
            for c in columns
        ]
        source = Source(p.table, p.query, tuple(values.items()), tuple(columns))
        self.ctx.require_columns(names, p.columns or [], field="columns")
        if p.partition_on:
            self.ctx.require_columns(names, [p.partition_on], field="partition_on")
            kind = source.by_name[p.partition_on].kind
            if kind not in ("integer", "date", "datetime", "datetimetz"):
                raise self.ctx.error(
                    f"cannot split a read on {p.partition_on!r}: it is {kind}; use an integer, date or "
                    "timestamp column",
                    field="partition_on",
                )
        return source

    def _query_values(self, query: str) -> dict[str, Any]:
        p = self.params
        used = set(sa.text(query).compile().params)
        values = {}
        for key, value in p.params.items():
            if key not in used:
                raise self.ctx.error(
                    f"the query has no :{key} placeholder.{did_you_mean(key, used)} Placeholders: "
                    f"{', '.join(sorted(f':{u}' for u in used)) or 'none'}",
                    field=f"params.{key}",
                )
            if isinstance(value, str) and re.fullmatch(r"@[A-Za-z_]\w*", value):
                name = value[1:]
                if name not in self.ctx.parameters:
                    raise self.ctx.error(
                        f"{value} refers to no flow parameter.{did_you_mean(name, self.ctx.parameters)}",
                        field=f"params.{key}",
                    )
                value = self.ctx.parameters[name]
            values[key] = value
        missing = sorted(used - set(values))
        if missing:
            raise self.ctx.error(
                f"the query's placeholder :{missing[0]} has no value; give it in `params` "
                f"(e.g. params: {{{missing[0]}: '@{missing[0]}'}})",
                field="params",
            )
        return values

    def _probe(self, connection: sa.Connection, query: str, values: dict[str, Any]) -> list[SqlColumn]:
        """The query's columns from `LIMIT 0` (PostgreSQL reports their types); where the driver reports
        no types (SQLite), from the Python types of up to 100 rows."""
        subquery = sa.text(query).bindparams(**values).columns().subquery("q")
        postgres = connection.dialect.name == "postgresql"
        statement: sa.Select[Any] = (
            sa.select(sa.literal_column("*")).select_from(subquery).limit(0 if postgres else 100)
        )
        try:
            result = connection.execute(statement)
            names = list(result.keys())
            description = result.cursor.description if result.cursor is not None else None
            rows = result.fetchall()
        except db_errors() as exc:
            raise self.ctx.error(f"the query fails: {db_message(exc)}", field="query") from None
        if len(set(names)) != len(names):
            duplicated = sorted({n for n in names if names.count(n) > 1})
            raise self.ctx.error(
                f"the query returns duplicate column names: {', '.join(duplicated)}", field="query"
            )
        if postgres:
            kinds = [pg_kind(d[1]) for d in description]  # d[1]: the type_code
        else:
            kinds = [python_kind([row[i] for row in rows]) for i in range(len(names))]
        return [SqlColumn(n, k, dtype_of(k)) for n, k in zip(names, kinds, strict=True)]

    def read_schema(self) -> pd.DataFrame:
        return self.source.meta(self.params.columns or [c.name for c in self.source.columns])

    def push_filter(self, predicates: list[Predicate]) -> SqlFilter | None:
        by_name = self.source.by_name
        accepted = []
        for predicate in predicates:
            column = by_name.get(predicate.column)
            if column is None or column.forced:
                continue
            values = predicate.value if predicate.op == "in" else (predicate.value,)
            if all(sql_compatible(column.kind, predicate.op, v) for v in values):
                accepted.append(predicate)
        return SqlFilter(tuple(accepted)) if accepted else None

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        p = self.params
        source = self.source
        columns = list(columns or p.columns or [c.name for c in source.columns])
        predicates = filters.predicates if isinstance(filters, SqlFilter) else ()
        parts = self._ranges(p.partition_on, predicates) if p.partition_on and p.partitions > 1 else [Range()]
        reader = self.ctx.guard(_ReadPartition(self.database, source, columns, predicates, p.partition_on))
        return dd.from_map(reader, parts, meta=source.meta(columns), enforce_metadata=False)

    def _ranges(self, on: str, predicates: Sequence[Predicate]) -> list[Range]:
        """`partitions` ranges of column `on` between its minimum and maximum (after the filter)."""
        p = self.params
        frame = self.source.from_clause()
        column = frame.c[on]
        statement = sa.select(sa.func.min(column), sa.func.max(column)).select_from(frame)
        for predicate in predicates:
            statement = statement.where(clause(frame.c[predicate.column], predicate))
        with self.database.connect(readonly=True) as connection:
            try:
                low, high = connection.execute(statement).one()
            except db_errors() as exc:
                raise self.ctx.error(
                    f"cannot read the range of {on!r}: {db_message(exc)}", field="partition_on"
                ) from None
        if low is None:
            return [Range()]
        kind = self.source.by_name[on].kind
        low, high = range_value(low, kind), range_value(high, kind)
        bounds = split_range(low, high, p.partitions)
        n = len(bounds) - 1
        return [Range(bounds[i], bounds[i + 1], i == 0, i == n - 1) for i in range(n)]
