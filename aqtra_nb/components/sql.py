"""SQL connectors: `read_sql` and `write_sql` over named connections (or a URL without a password).

`read_sql` learns its schema without reading data (table reflection, or the query run with `LIMIT 0`),
reads only the columns the flow needs and applies the simple conjuncts of a following `filter` in the
SQL it sends (SQLAlchemy Core, bound parameters only), optionally as `partitions` range queries over
`partition_on` that Dask runs in parallel.

`write_sql` writes all partitions in one task and one transaction, so a failure (a type mismatch, a
duplicate key, a killed process) leaves the table exactly as it was: PostgreSQL through `COPY ... FROM
STDIN` (upserts through a temporary table), SQLite through `executemany`, other databases through
SQLAlchemy inserts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from pydantic import Field, model_validator

from ..errors import AqtraError, UnknownColumn, did_you_mean
from ..expr.evaluate import COMPARISONS
from .base import Frame, InputComponent, OutputComponent, Params, Predicate, StepContext, is_dask
from .inputs import PANDAS_TYPES, ColumnType

# -- column kinds --------------------------------------------------------------------------------------
# A column's kind decides its pandas dtype, which filter values may be compared with it in SQL, and which
# frame columns may be written into it.

KIND_SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    "integer": sa.BigInteger(),
    "number": sa.Float(),
    "boolean": sa.Boolean(),
    "string": sa.String(),
    "date": sa.Date(),
    "datetime": sa.DateTime(),
    "datetimetz": sa.DateTime(timezone=True),
    "other": sa.types.NullType(),
}

# PostgreSQL type OIDs of a query's result columns (cursor.description), for `query` sources.
PG_OID_KINDS = {
    16: "boolean",
    20: "integer",
    21: "integer",
    23: "integer",
    26: "integer",
    700: "number",
    701: "number",
    1700: "number",
    18: "string",
    19: "string",
    25: "string",
    1042: "string",
    1043: "string",
    2950: "string",
    1082: "date",
    1114: "datetime",
    1184: "datetimetz",
}


def sql_kind(sql_type: sa.types.TypeEngine) -> str:
    """integer, number, boolean, string, date, datetime, datetimetz or other."""
    if isinstance(sql_type, sa.Boolean):
        return "boolean"
    if isinstance(sql_type, sa.Integer):
        return "integer"
    if isinstance(sql_type, sa.Float | sa.Numeric):
        return "number"
    if isinstance(sql_type, sa.DateTime):
        return "datetimetz" if sql_type.timezone else "datetime"
    if isinstance(sql_type, sa.Date):
        return "date"
    if isinstance(sql_type, sa.String | sa.Uuid):
        return "string"
    return "other"


def kind_dtype(kind: str, nullable: bool = True) -> str:
    """The pandas dtype of a column of this kind: dates and timestamps as datetime64, decimals as
    float64, text as `str`, integers and booleans nullable unless the column is NOT NULL."""
    return {
        "integer": "Int64" if nullable else "int64",
        "number": "float64",
        "boolean": "boolean" if nullable else "bool",
        "string": "str",
        "date": PANDAS_TYPES["date"],
        "datetime": PANDAS_TYPES["datetime"],
        "datetimetz": "datetime64[us, UTC]",
    }.get(kind, "object")


@dataclass(frozen=True)
class SqlColumn:
    name: str
    kind: str  # the database's kind: what range partitions and (unless forced) filters may use
    dtype: str  # the pandas dtype it is read as
    sql_type: Any = field(default=None, compare=False)  # the database's own type (used for kind "other")
    forced: bool = False  # `types` chose the dtype: the database's values are not what the flow compares


# -- where to connect ------------------------------------------------------------------------------------


class _Database:
    """A named connection or a URL, resolved (secrets included) in the process that opens it, so task
    graphs sent to Dask workers carry names, not passwords. Engines are pooled per process."""

    def __init__(self, base_dir: Path, connection: str | None, url: str | None) -> None:
        self.base_dir, self.connection, self.url = str(base_dir), connection, url
        self._engine: sa.Engine | None = None

    @property
    def field(self) -> str:
        return "connection" if self.connection else "url"

    def describe(self) -> str:
        if self.connection:
            return f"connection {self.connection!r}"
        from ..store.database import safe_url

        return safe_url(self.url or "")

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_engine"} | {"_engine": None}

    def __dask_tokenize__(self) -> tuple[str, ...]:
        return ("aqtra-database", self.base_dir, self.connection or "", self.url or "")

    def engine(self) -> sa.Engine:
        if self._engine is None:
            from ..connections import Connections

            try:
                connections = Connections(Path(self.base_dir))
                found = (
                    connections.get(self.connection) if self.connection else connections.from_url(self.url)
                )
                self._engine = found.engine()
            except AqtraError as exc:
                raise exc.at(field=self.field) from None
        return self._engine

    @contextlib.contextmanager
    def connect(self, *, readonly: bool = False) -> Iterator[sa.Connection]:
        """A connection; failing to connect is an error at `connection`/`url` with the driver's message.
        `readonly`: on PostgreSQL, its transactions are READ ONLY (reset when it goes back to the pool)."""
        engine = self.engine()
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise AqtraError(
                f"cannot connect to {self.describe()}: {db_message(exc)}", field=self.field
            ) from None
        with connection:
            if readonly and connection.dialect.name == "postgresql":
                connection.execution_options(postgresql_readonly=True)
            yield connection


def db_message(exc: BaseException) -> str:
    """The database's own message (with PostgreSQL's DETAIL lines), without SQLAlchemy's decoration."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join(line.strip() for line in str(orig).strip().splitlines() if line.strip())


def _db_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sa.exc.SQLAlchemyError]
    with contextlib.suppress(ImportError):
        import sqlite3

        errors.append(sqlite3.Error)
    with contextlib.suppress(ImportError):
        import psycopg

        errors.append(psycopg.Error)
    return tuple(errors)


def split_table(name: str) -> tuple[str | None, str]:
    """`schema.table` → (schema, table); `table` → (None, table)."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


class SqlParams(Params):
    connection: str | None = Field(
        None, description="Name of a sql connection (in aqtra.yaml or `aqtra-nb connections add`)."
    )
    url: str | None = Field(
        None,
        description="A SQLAlchemy URL instead of a connection, for quick use; a password must be a "
        "reference (`${secret:NAME}`, `${env:NAME}`), never in clear.",
    )

    @model_validator(mode="after")
    def _one_database(self) -> SqlParams:
        if (self.connection is None) == (self.url is None):
            raise ValueError("give either `connection` (a named connection) or `url`")
        if self.url is not None:
            from ..connections import _check_url_password

            _check_url_password(self.url)
        return self


def _database(ctx: StepContext, params: SqlParams) -> _Database:
    return _Database(ctx.base_dir, params.connection, params.url)


def _reflect(ctx: StepContext, connection: sa.Connection, table: str) -> list[dict[str, Any]] | None:
    """The table's (or view's) columns from the database catalog, None if there is no such table."""
    schema, name = split_table(table)
    inspector = sa.inspect(connection)
    try:
        return inspector.get_columns(name, schema=schema)
    except sa.exc.NoSuchTableError:
        return None
    except sa.exc.DBAPIError as exc:
        raise ctx.error(f"cannot look up table {table!r}: {db_message(exc)}", field="table") from None


def _missing_table(ctx: StepContext, connection: sa.Connection, table: str, *, hint: str = "") -> AqtraError:
    schema, name = split_table(table)
    inspector = sa.inspect(connection)
    try:
        known = inspector.get_table_names(schema=schema) + inspector.get_view_names(schema=schema)
    except sa.exc.DBAPIError:
        known = []
    if schema:
        known = [f"{schema}.{k}" for k in known]
    shown = ", ".join(sorted(known)[:20]) or "none"
    return ctx.error(
        f"no table {table!r} in the database.{did_you_mean(table, known)} Tables: {shown}{hint}",
        field="table",
    )


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
    types: dict[str, ColumnType] = Field(
        default_factory=dict,
        description="Column types to force (e.g. dates that SQLite keeps as text): string, integer, "
        "number, boolean, date, datetime.",
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


@dataclass(frozen=True)
class _Source:
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
        if self.table is not None:
            schema, name = split_table(self.table)
            return sa.table(name, *typed, schema=schema)
        return sa.text(self.query).bindparams(**dict(self.values)).columns(*typed).subquery("q")

    def meta(self, columns: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series([], dtype=self.by_name[name].dtype) for name in columns})


@dataclass(frozen=True)
class SqlFilter:
    """Predicates a SQL reader applies in its WHERE clause (bound parameters)."""

    predicates: tuple[Predicate, ...]

    def __str__(self) -> str:
        return " and ".join(str(p) for p in self.predicates)


_SQL_OPS = COMPARISONS


def _sql_compatible(kind: str, op: str, value: Any) -> bool:
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


def _clause(column: sa.ColumnElement, predicate: Predicate) -> sa.ColumnElement:
    if predicate.op == "in":
        return column.in_(list(predicate.value))
    return _SQL_OPS[predicate.op](column, predicate.value)


@dataclass(frozen=True)
class _Range:
    """One partition of a range read: `low <= column < high` (`<= high` for the last; nulls in the first)."""

    low: Any = None
    high: Any = None
    first: bool = True
    last: bool = True


def build_select(
    source: _Source,
    columns: Sequence[str],
    predicates: Sequence[Predicate],
    on: str | None,
    part: _Range | None,
) -> sa.Select:
    """The SELECT of one partition: only `columns`, the pushed predicates and the range, all bound."""
    frame = source.from_clause()
    statement = sa.select(*[frame.c[name] for name in columns])
    for predicate in predicates:
        statement = statement.where(_clause(frame.c[predicate.column], predicate))
    if on is not None and part is not None and part.low is not None:
        column = frame.c[on]
        upper = column <= part.high if part.last else column < part.high
        in_range = sa.and_(column >= part.low, upper)
        statement = statement.where(sa.or_(in_range, column.is_(None)) if part.first else in_range)
    return statement


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
    return values.astype(dtype)


class _ReadPartition:
    """Runs one partition's SELECT and returns it as a pandas frame of the planned dtypes."""

    def __init__(
        self, database: _Database, source: _Source, columns: list[str], predicates: tuple, on: str | None
    ) -> None:
        self.database, self.source, self.columns, self.predicates, self.on = (
            database,
            source,
            columns,
            predicates,
            on,
        )

    def __call__(self, part: _Range) -> pd.DataFrame:
        statement = build_select(self.source, self.columns, self.predicates, self.on, part)
        with self.database.connect(readonly=True) as connection:
            try:
                rows = connection.execute(statement).fetchall()
            except _db_errors() as exc:
                where = "table" if self.source.table else "query"
                raise AqtraError(f"cannot read: {db_message(exc)}", field=where) from None
        frame = pd.DataFrame.from_records(rows, columns=self.columns, coerce_float=False, nrows=len(rows))
        return coerce_frame(frame, {c: self.source.by_name[c].dtype for c in self.columns})


class ReadSql(InputComponent):
    """Read a table or a SELECT from a SQL database; columns and filters are pushed into the SQL."""

    name = "read_sql"
    Params: ClassVar = ReadSqlParams
    supports_filters = True
    verbatim: ClassVar = {
        "query": "write a `:name` placeholder and give its value in `params` (e.g. `params: {name: "
        "'@name'}`): values are bound by the driver, never formatted into SQL"
    }

    @functools.cached_property
    def database(self) -> _Database:
        return _database(self.ctx, self.params)

    @functools.cached_property
    def source(self) -> _Source:
        p: ReadSqlParams = self.params
        with self.database.connect(readonly=True) as connection:
            if p.table is not None:
                found = _reflect(self.ctx, connection, p.table)
                if found is None:
                    raise _missing_table(self.ctx, connection, p.table)
                columns = [
                    SqlColumn(
                        c["name"],
                        sql_kind(c["type"]),
                        kind_dtype(sql_kind(c["type"]), c["nullable"]),
                        c["type"],
                    )
                    for c in found
                ]
                values: dict[str, Any] = {}
            else:
                values = self._query_values()
                columns = self._probe(connection, values)
        names = [c.name for c in columns]
        self.ctx.require_columns(names, list(p.types), field="types")
        columns = [
            SqlColumn(c.name, c.kind, PANDAS_TYPES[p.types[c.name]], c.sql_type, forced=True)
            if c.name in p.types
            else c
            for c in columns
        ]
        source = _Source(p.table, p.query, tuple(values.items()), tuple(columns))
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

    def _query_values(self) -> dict[str, Any]:
        p: ReadSqlParams = self.params
        used = set(sa.text(p.query).compile().params)
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

    def _probe(self, connection: sa.Connection, values: dict[str, Any]) -> list[SqlColumn]:
        """The query's columns from `LIMIT 0` (PostgreSQL reports their types); where the driver reports
        no types (SQLite), from the Python types of up to 100 rows."""
        p: ReadSqlParams = self.params
        query = sa.text(p.query).bindparams(**values).columns().subquery("q")
        postgres = connection.dialect.name == "postgresql"
        statement = sa.select(sa.literal_column("*")).select_from(query).limit(0 if postgres else 100)
        try:
            result = connection.execute(statement)
            names = list(result.keys())
            description = result.cursor.description if result.cursor is not None else None
            rows = result.fetchall()
        except _db_errors() as exc:
            raise self.ctx.error(f"the query fails: {db_message(exc)}", field="query") from None
        if len(set(names)) != len(names):
            duplicated = sorted({n for n in names if names.count(n) > 1})
            raise self.ctx.error(
                f"the query returns duplicate column names: {', '.join(duplicated)}", field="query"
            )
        if postgres:
            kinds = [PG_OID_KINDS.get(d.type_code, "other") for d in description]
        else:
            kinds = [_python_kind([row[i] for row in rows]) for i in range(len(names))]
        return [SqlColumn(n, k, kind_dtype(k)) for n, k in zip(names, kinds, strict=True)]

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
            if all(_sql_compatible(column.kind, predicate.op, v) for v in values):
                accepted.append(predicate)
        return SqlFilter(tuple(accepted)) if accepted else None

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        p: ReadSqlParams = self.params
        source = self.source
        columns = list(columns or p.columns or [c.name for c in source.columns])
        predicates = filters.predicates if isinstance(filters, SqlFilter) else ()
        parts = self._ranges(predicates) if p.partition_on and p.partitions > 1 else [_Range()]
        reader = self.ctx.guard(_ReadPartition(self.database, source, columns, predicates, p.partition_on))
        return dd.from_map(reader, parts, meta=source.meta(columns), enforce_metadata=False)

    def _ranges(self, predicates: Sequence[Predicate]) -> list[_Range]:
        """`partitions` ranges of `partition_on` between its minimum and maximum (after the filter)."""
        p: ReadSqlParams = self.params
        frame = self.source.from_clause()
        column = frame.c[p.partition_on]
        statement = sa.select(sa.func.min(column), sa.func.max(column)).select_from(frame)
        for predicate in predicates:
            statement = statement.where(_clause(frame.c[predicate.column], predicate))
        with self.database.connect(readonly=True) as connection:
            try:
                low, high = connection.execute(statement).one()
            except _db_errors() as exc:
                raise self.ctx.error(
                    f"cannot read the range of {p.partition_on!r}: {db_message(exc)}", field="partition_on"
                ) from None
        if low is None:
            return [_Range()]
        kind = self.source.by_name[p.partition_on].kind
        low, high = _range_value(low, kind), _range_value(high, kind)
        bounds = _split(low, high, p.partitions)
        n = len(bounds) - 1
        return [_Range(bounds[i], bounds[i + 1], i == 0, i == n - 1) for i in range(n)]


def _range_value(value: Any, kind: str) -> Any:
    if kind == "integer":
        return int(value)
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def _split(low: Any, high: Any, n: int) -> list[Any]:
    """n+1 increasing bounds from low to high (fewer when the range is too small to split)."""
    if isinstance(low, int):
        bounds = [low + (high - low) * i // n for i in range(n)] + [high]
    else:
        bounds = [low + (high - low) * i / n for i in range(n)] + [high]
        if isinstance(low, dt.date) and not isinstance(low, dt.datetime):
            bounds = [b if not isinstance(b, dt.datetime) else b.date() for b in bounds]
    unique = [b for i, b in enumerate(bounds) if i == 0 or b != bounds[i - 1]]
    return unique if len(unique) > 1 else [low, high]


def _python_kind(values: list[Any]) -> str:
    seen = {type(v) for v in values if v is not None}
    if not seen:
        return "other"
    if seen <= {bool}:
        return "boolean"
    if seen <= {int}:
        return "integer"
    if seen <= {int, float}:
        return "number"
    if seen <= {str}:
        return "string"
    if seen <= {dt.datetime}:
        return "datetime"
    if seen <= {dt.date}:
        return "date"
    return "other"


# -- write_sql -------------------------------------------------------------------------------------------


class WriteSqlParams(SqlParams):
    table: str = Field(description="Table to write (`schema.table` allowed).")
    mode: Literal["append", "replace", "upsert"] = Field(
        "append",
        description="append rows; replace all rows (the table's definition is kept); or upsert: update "
        "rows whose `keys` exist, insert the others.",
    )
    keys: list[str] = Field(
        default_factory=list, description="Key columns for `upsert` (a primary key or unique constraint)."
    )
    create: bool = Field(False, description="Create the table if it is missing, with types from the data.")
    chunk_rows: int = Field(100_000, ge=1, description="Rows sent to the database per batch.")

    @model_validator(mode="after")
    def _keys_for_upsert(self) -> WriteSqlParams:
        if self.mode == "upsert" and not self.keys:
            raise ValueError("mode `upsert` needs `keys`, the columns that identify a row")
        if self.keys and self.mode != "upsert":
            raise ValueError("`keys` are used by mode `upsert` only")
        return self


def writable(dtype: Any, kind: str) -> bool:
    """Whether a frame column of `dtype` may be written into a table column of `kind`."""
    if kind in ("other", "string") or pd.api.types.is_object_dtype(dtype):
        return True
    if kind == "integer":
        return pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
    if kind == "number":
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "boolean":
        return pd.api.types.is_bool_dtype(dtype)
    return pd.api.types.is_datetime64_any_dtype(dtype)  # date, datetime, datetimetz


def _describe_dtype(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_string_dtype(dtype):
        return "text"
    return str(dtype)


def _key_sets(connection: sa.Connection, table: str) -> list[set[str]]:
    """Column sets of the table's primary key, unique constraints and unique indexes."""
    schema, name = split_table(table)
    inspector = sa.inspect(connection)
    found = [set(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or [])]
    found += [set(u["column_names"]) for u in inspector.get_unique_constraints(name, schema=schema)]
    found += [set(i["column_names"]) for i in inspector.get_indexes(name, schema=schema) if i.get("unique")]
    return [s for s in found if s]


def check_target(
    ctx: StepContext, connection: sa.Connection, params: WriteSqlParams, frame: pd.DataFrame
) -> list[dict[str, Any]] | None:
    """Check that `frame` can go into the table (columns, types, keys); None if it must be created."""
    columns = [str(c) for c in frame.columns]
    ctx.require_columns(columns, params.keys, field="keys")
    found = _reflect(ctx, connection, params.table)
    if found is None:
        if not params.create:
            raise _missing_table(ctx, connection, params.table, hint=" (set `create: true` to create it)")
        return None
    by_name = {c["name"]: c for c in found}
    for name in columns:
        if name not in by_name:
            raise UnknownColumn(
                f"the table {params.table!r} has no column {name!r}.{did_you_mean(name, by_name)} "
                f"Its columns: {', '.join(by_name)}",
                file=ctx.source,
                step=ctx.step_id,
                field="table",
            )
        kind = sql_kind(by_name[name]["type"])
        if not writable(frame[name].dtype, kind):
            raise ctx.error(
                f"type mismatch: column {name!r} is {by_name[name]['type']} in table {params.table!r}, "
                f"but the data is {_describe_dtype(frame[name].dtype)} ({frame[name].dtype})",
                field="table",
            )
    if params.mode == "upsert":
        dialect = connection.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ctx.error(f"upsert is supported on PostgreSQL and SQLite, not {dialect}", field="mode")
        if set(params.keys) not in _key_sets(connection, params.table):
            raise ctx.error(
                f"upsert needs a primary key or unique constraint on ({', '.join(params.keys)}) in table "
                f"{params.table!r}",
                field="keys",
            )
    return found


class WriteSql(OutputComponent):
    """Write the input into a SQL table in one transaction (append, replace or upsert); COPY on PostgreSQL."""

    name = "write_sql"
    Params: ClassVar = WriteSqlParams

    @functools.cached_property
    def database(self) -> _Database:
        return _database(self.ctx, self.params)

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        with self.database.connect() as connection:
            check_target(self.ctx, connection, self.params, inputs[0])
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        """Pandas (in-memory runs): write now, return the rows. Dask: a lazy scalar whose one task gathers
        all partitions and writes them in one transaction."""
        writer = self.ctx.guard(_SqlWriter(self.database, self.params, self.ctx.source, self.ctx.step_id))
        if not is_dask(frame):
            return writer(frame)
        return frame.reduction(chunk=_identity, aggregate=writer, split_every=False, meta=int)


def _identity(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


class _SqlWriter:
    """Writes a whole frame (all partitions) in one transaction; returns the rows written."""

    def __init__(self, database: _Database, params: WriteSqlParams, source: str | None, step_id: str) -> None:
        self.database, self.params, self.source, self.step_id = database, params, source, step_id

    def __call__(self, frame: pd.DataFrame) -> int:
        p = self.params
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        if p.mode == "upsert":
            duplicated = frame.duplicated(p.keys)
            if duplicated.any():
                row = frame.loc[duplicated.idxmax(), p.keys].to_dict()
                raise AqtraError(f"duplicate key in the input: {row} appears more than once", field="keys")
        ctx = StepContext(self.step_id, "write_sql", self.source)
        with self.database.connect() as connection:
            try:
                with connection.begin():
                    if connection.dialect.name == "sqlite":
                        # pysqlite would begin only at the first INSERT: CREATE TABLE must be inside too.
                        driver = connection.connection.driver_connection
                        if not driver.in_transaction:
                            connection.exec_driver_sql("BEGIN IMMEDIATE")
                    found = check_target(ctx, connection, p, frame.iloc[:0])
                    table = self._table(connection, found, frame)
                    if p.mode == "replace":
                        connection.execute(sa.delete(table))
                    kinds = {c.name: sql_kind(c.type) for c in table.columns}
                    chunks = (
                        prepare(frame.iloc[start : start + p.chunk_rows], kinds, connection.dialect.name)
                        for start in range(0, len(frame), p.chunk_rows)
                    )
                    _write(connection, table, list(frame.columns), chunks, p)
            except AqtraError:
                raise
            except pa.ArrowException as exc:
                raise AqtraError(f"cannot write to table {p.table!r}: {exc}", field="table") from None
            except _db_errors() as exc:
                raise AqtraError(
                    f"cannot write to table {p.table!r}: {db_message(exc)}", field="table"
                ) from None
        return len(frame)

    def _table(
        self, connection: sa.Connection, found: list[dict[str, Any]] | None, frame: pd.DataFrame
    ) -> sa.Table:
        schema, name = split_table(self.params.table)
        metadata = sa.MetaData()
        if found is not None:
            return sa.Table(name, metadata, *[sa.Column(c["name"], c["type"]) for c in found], schema=schema)
        keys = set(self.params.keys)
        columns = [
            sa.Column(
                c, _sql_type(frame[c]), primary_key=c in keys, nullable=c not in keys, autoincrement=False
            )
            for c in frame.columns
        ]
        table = sa.Table(name, metadata, *columns, schema=schema)
        table.create(connection)
        return table


def _sql_type(values: pd.Series) -> sa.types.TypeEngine:
    """The column type a new table gets for these values."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(dtype):
        return sa.Double()
    if isinstance(dtype, pd.DatetimeTZDtype):
        return sa.DateTime(timezone=True)
    if pd.api.types.is_datetime64_dtype(dtype):
        # Dates are datetime64[s] at midnight (as `cast` and the readers make them).
        if np.datetime_data(dtype)[0] == "s" and (values.dropna() == values.dropna().dt.normalize()).all():
            return sa.Date()
        return sa.DateTime()
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return sa.Text()
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    return {
        "integer": sa.BigInteger(),
        "floating": sa.Double(),
        "mixed-integer-float": sa.Double(),
        "decimal": sa.Numeric(),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
        "datetime": sa.DateTime(),
        "bytes": sa.LargeBinary(),
    }.get(inferred, sa.Text())


def prepare(chunk: pd.DataFrame, kinds: dict[str, str], dialect: str) -> pd.DataFrame:
    """A chunk with values in the form its table columns take: floats that are integers as integers,
    timestamps in UTC (naive ones are taken as UTC), dates checked to have no time of day."""
    out = {}
    for name in chunk.columns:
        values, kind = chunk[name], kinds.get(name, "other")
        if values.dtype == object:
            inferred = pd.api.types.infer_dtype(values, skipna=True)
            if inferred in ("datetime", "datetime64", "date"):
                values = pd.to_datetime(values, utc=kind == "datetimetz")
            elif inferred == "decimal" and dialect != "postgresql":
                values = values.astype("float64")
        if kind == "integer" and pd.api.types.is_float_dtype(values.dtype):
            present = values.dropna()
            fractional = present[present != np.floor(present)]
            if len(fractional) and dialect != "postgresql":  # PostgreSQL says so itself
                raise AqtraError(
                    f"type mismatch: column {name!r} is an integer column, but the data has "
                    f"{fractional.iloc[0]!r} (row {fractional.index[0]})",
                    field="table",
                )
            if not len(fractional):
                values = values.astype("Int64")
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            tz = values.dt.tz
            if kind == "datetimetz":
                values = values.dt.tz_localize("UTC") if tz is None else values.dt.tz_convert("UTC")
            elif tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            if kind == "date":
                present = values.dropna()
                timed = present[present != present.dt.normalize()]
                if len(timed):
                    raise AqtraError(
                        f"type mismatch: column {name!r} is a date column, but the data has a time of day: "
                        f"{timed.iloc[0]} (row {timed.index[0]})",
                        field="table",
                    )
        out[name] = values
    return pd.DataFrame(out, index=chunk.index)


def _write(
    connection: sa.Connection,
    table: sa.Table,
    columns: list[str],
    chunks: Iterator[pd.DataFrame],
    p: WriteSqlParams,
) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql" and _is_psycopg(connection):
        _write_postgres(connection, table, columns, chunks, p)
    elif dialect == "sqlite":
        _write_sqlite(connection, table, columns, chunks, p)
    else:
        for chunk in chunks:
            records = [dict(zip(columns, row, strict=True)) for row in _python_rows(chunk, {}, dialect)]
            if records:
                connection.execute(sa.insert(table), records)


def _is_psycopg(connection: sa.Connection) -> bool:
    return connection.dialect.driver == "psycopg"


def _csv(chunk: pd.DataFrame) -> bytes:
    """A chunk as CSV for PostgreSQL's COPY: nulls unquoted and empty, text always quoted."""
    buffer = io.BytesIO()
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


def copy_chunk(copy: Any, chunk: pd.DataFrame) -> None:
    copy.write(_csv(chunk))


def _write_postgres(
    connection: sa.Connection,
    table: sa.Table,
    columns: list[str],
    chunks: Iterator[pd.DataFrame],
    p: WriteSqlParams,
) -> None:
    from psycopg import sql

    driver = connection.connection.driver_connection
    target = table
    if p.mode == "upsert":
        name = f"aqtra_upsert_{uuid.uuid4().hex[:12]}"
        source = sa.select(*[table.c[c] for c in columns])
        compiled = source.compile(connection, compile_kwargs={"literal_binds": True})
        connection.exec_driver_sql(
            f'CREATE TEMPORARY TABLE "{name}" ON COMMIT DROP AS {compiled} WITH NO DATA'
        )
        target = sa.Table(name, sa.MetaData(), *[sa.Column(c, table.c[c].type) for c in columns])
    identifier = sql.Identifier(*([target.schema] if target.schema else []), target.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        identifier, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in chunks:
            copy_chunk(copy, chunk)
    if p.mode == "upsert":
        from sqlalchemy.dialects.postgresql import insert

        statement = insert(table).from_select(columns, sa.select(*[target.c[c] for c in columns]))
        updates = {c: statement.excluded[c] for c in columns if c not in p.keys}
        statement = (
            statement.on_conflict_do_update(index_elements=p.keys, set_=updates)
            if updates
            else statement.on_conflict_do_nothing(index_elements=p.keys)
        )
        connection.execute(statement)


def _python_rows(chunk: pd.DataFrame, kinds: dict[str, str], dialect: str) -> list[tuple]:
    """Rows of plain Python values (None for nulls); for SQLite, dates and timestamps as the text
    SQLAlchemy stores (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    columns = []
    for name in chunk.columns:
        values = chunk[name]
        if pd.api.types.is_datetime64_any_dtype(values.dtype) and dialect == "sqlite":
            if values.dt.tz is not None:  # no time zones in SQLite: UTC, without a suffix to compare on
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            array = pa.array(values.dt.as_unit("us"), from_pandas=True)
            target = pa.date32() if kinds.get(name) == "date" else array.type
            columns.append(array.cast(target).cast(pa.string()).to_pylist())
        elif values.dtype == object:
            columns.append(
                [
                    None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                    for v in values
                ]
            )
        else:
            columns.append(pa.array(values, from_pandas=True).to_pylist())
    return list(zip(*columns, strict=True)) if columns else []


def _write_sqlite(
    connection: sa.Connection,
    table: sa.Table,
    columns: list[str],
    chunks: Iterator[pd.DataFrame],
    p: WriteSqlParams,
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    target = connection.dialect.identifier_preparer.format_table(table)
    names = ", ".join(quote(c) for c in columns)
    statement = f"INSERT INTO {target} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    if p.mode == "upsert":
        keys = ", ".join(quote(k) for k in p.keys)
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in p.keys)
        statement += f" ON CONFLICT ({keys}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    kinds = {c.name: sql_kind(c.type) for c in table.columns}
    for chunk in chunks:
        rows = _python_rows(chunk, kinds, "sqlite")
        if rows:
            connection.exec_driver_sql(statement, rows)


SQL = [ReadSql, WriteSql]
