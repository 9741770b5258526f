"""How `write_sql` sends rows: PostgreSQL through `COPY ... FROM STDIN` (CSV made by Arrow; upserts through a
temporary table and `INSERT ... ON CONFLICT`), SQLite through one `executemany` per chunk, other databases
through SQLAlchemy inserts."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from ...column_kinds import ColumnKind
from .database import driver_connection
from .kinds import sql_kind

if TYPE_CHECKING:
    from .write import WriteSqlParams


def write_chunks(
    connection: sa.Connection,
    table: sa.Table,
    columns: list[str],
    chunks: Iterator[pd.DataFrame],
    p: WriteSqlParams,
) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql" and is_psycopg(connection):
        _write_postgres(connection, table, columns, chunks, p)
    elif dialect == "sqlite":
        _write_sqlite(connection, table, columns, chunks, p)
    else:
        for chunk in chunks:
            records = [dict(zip(columns, row, strict=True)) for row in python_rows(chunk, {}, dialect)]
            if records:
                connection.execute(sa.insert(table), records)


def is_psycopg(connection: sa.Connection) -> bool:
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

    driver = driver_connection(connection)
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
    copy_statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        identifier, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with driver.cursor() as cursor, cursor.copy(copy_statement) as copy:
        for chunk in chunks:
            copy_chunk(copy, chunk)
    if p.mode == "upsert":
        from sqlalchemy.dialects.postgresql import insert

        rows = insert(table).from_select(columns, sa.select(*[target.c[c] for c in columns]))
        updates = {c: rows.excluded[c] for c in columns if c not in p.keys}
        connection.execute(
            rows.on_conflict_do_update(index_elements=p.keys, set_=updates)
            if updates
            else rows.on_conflict_do_nothing(index_elements=p.keys)
        )


def python_rows(chunk: pd.DataFrame, kinds: Mapping[str, ColumnKind], dialect: str) -> list[tuple]:
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
        rows = python_rows(chunk, kinds, "sqlite")
        if rows:
            connection.exec_driver_sql(statement, rows)
