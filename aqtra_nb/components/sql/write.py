"""`write_sql`: the target table checked in planning and again in the one transaction that writes every
partition (created from the data's types when asked), values prepared in the form its columns take."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pydantic import Field, model_validator

from ...column_kinds import ColumnKind
from ...errors import AqtraError, UnknownColumn, did_you_mean
from ..base import Frame, OutputComponent, StepContext
from ..outputs import write_single
from .database import (
    Database,
    SqlParams,
    db_errors,
    db_message,
    driver_connection,
    missing_table,
    reflect,
    split_table,
)
from .drivers import write_chunks
from .kinds import sql_kind

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import ReflectedColumn

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
    found += [
        {c for c in i["column_names"] if c is not None}
        for i in inspector.get_indexes(name, schema=schema)
        if i.get("unique") and None not in i["column_names"]  # (None: an expression, never a key column)
    ]
    return [s for s in found if s]


def check_target(
    ctx: StepContext, connection: sa.Connection, params: WriteSqlParams, frame: pd.DataFrame
) -> list[ReflectedColumn] | None:
    """Check that `frame` can go into the table (columns, types, keys); None if it must be created."""
    columns = [str(c) for c in frame.columns]
    ctx.require_columns(columns, params.keys, field="keys")
    found = reflect(ctx, connection, params.table)
    if found is None:
        if not params.create:
            raise missing_table(ctx, connection, params.table, hint=" (set `create: true` to create it)")
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


class WriteSql(OutputComponent[WriteSqlParams]):
    """Write the input into a SQL table in one transaction (append, replace or upsert); COPY on PostgreSQL."""

    name = "write_sql"

    @functools.cached_property
    def database(self) -> Database:
        return Database(self.ctx, self.params)

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        with self.database.connect() as connection:
            check_target(self.ctx, connection, self.params, inputs[0])
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        """Pandas (in-memory runs): write now, return the rows. Dask: a lazy scalar whose one task gathers
        all partitions and writes them in one transaction."""
        writer = self.ctx.guard(_SqlWriter(self.database, self.params, self.ctx.source, self.ctx.step_id))
        return write_single(frame, writer)


class _SqlWriter:
    """Writes a whole frame (all partitions) in one transaction; returns the rows written."""

    def __init__(self, database: Database, params: WriteSqlParams, source: str | None, step_id: str) -> None:
        self.database, self.params, self.source, self.step_id = database, params, source, step_id

    def __call__(self, frame: pd.DataFrame) -> int:
        p = self.params
        frame = frame.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        if p.mode == "upsert":
            duplicated = frame.duplicated(p.keys)
            if duplicated.any():
                row = frame.loc[duplicated, p.keys].iloc[0].to_dict()
                raise AqtraError(f"duplicate key in the input: {row} appears more than once", field="keys")
        ctx = StepContext(self.step_id, "write_sql", self.source)
        with self.database.connect() as connection:
            try:
                with connection.begin():
                    if connection.dialect.name == "sqlite":
                        # pysqlite would begin only at the first INSERT: CREATE TABLE must be inside too.
                        if not driver_connection(connection).in_transaction:
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
                    write_chunks(connection, table, list(frame.columns), chunks, p)
            except AqtraError:
                raise
            except pa.ArrowException as exc:
                raise AqtraError(f"cannot write to table {p.table!r}: {exc}", field="table") from None
            except db_errors() as exc:
                raise AqtraError(
                    f"cannot write to table {p.table!r}: {db_message(exc)}", field="table"
                ) from None
        return len(frame)

    def _table(
        self, connection: sa.Connection, found: list[ReflectedColumn] | None, frame: pd.DataFrame
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
        if values.dt.unit == "s" and (values.dropna() == values.dropna().dt.normalize()).all():
            return sa.Date()
        return sa.DateTime()
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return sa.Text()
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    types: dict[str, sa.types.TypeEngine] = {
        "integer": sa.BigInteger(),
        "floating": sa.Double(),
        "mixed-integer-float": sa.Double(),
        "decimal": sa.Numeric(),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
        "datetime": sa.DateTime(),
        "bytes": sa.LargeBinary(),
    }
    return types.get(inferred, sa.Text())


def prepare(chunk: pd.DataFrame, kinds: Mapping[str, ColumnKind], dialect: str) -> pd.DataFrame:
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
