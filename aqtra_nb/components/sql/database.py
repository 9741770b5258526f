"""Where a SQL step connects: the `connection`/`url` parameters, the handle its tasks carry, the database's
own messages, and the catalog (tables and their columns)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import Field, model_validator

from ...connections import ConnectionHandle, Connections, check_url_password
from ...errors import AqtraError, did_you_mean
from ..base import Params, StepContext

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import ReflectedColumn


class Database(ConnectionHandle):
    """A named sql connection or a URL (its password a reference), opened as a pooled engine in the process
    that uses it."""

    def __init__(self, ctx: StepContext, params: SqlParams) -> None:
        super().__init__(ctx.base_dir, params.connection, step_id=ctx.step_id, source=ctx.source)
        self.url = params.url

    def describe(self) -> str:
        if self.connection:
            return f"connection {self.connection!r}"
        from ...store.database import safe_url

        return safe_url(self.url or "")

    def _resolve(self) -> sa.Engine:
        if self.connection:
            return self.lookup("sql").engine()
        try:
            return Connections(Path(self.base_dir)).from_url(self.url or "").engine()
        except AqtraError as exc:
            raise exc.at(file=self.source, step=self.step_id, field="url") from None

    def engine(self) -> sa.Engine:
        return self.resolve()

    @contextlib.contextmanager
    def connect(self, *, readonly: bool = False) -> Iterator[sa.Connection]:
        """A connection; failing to connect is an error at `connection`/`url` with the driver's message.
        `readonly`: on PostgreSQL, its transactions are READ ONLY (reset when it goes back to the pool)."""
        engine = self.engine()
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise self.error(f"cannot connect to {self.describe()}: {db_message(exc)}") from None
        with connection:
            if readonly and connection.dialect.name == "postgresql":
                connection.execution_options(postgresql_readonly=True)
            yield connection


def db_message(exc: BaseException) -> str:
    """The database's own message (with PostgreSQL's DETAIL lines), without SQLAlchemy's decoration."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join(line.strip() for line in str(orig).strip().splitlines() if line.strip())


def db_errors() -> tuple[type[BaseException], ...]:
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
            check_url_password(self.url)
        return self


def driver_connection(connection: sa.Connection) -> Any:
    """The driver's own connection under `connection` (psycopg's, sqlite3's): for COPY and transaction
    state, which SQLAlchemy does not expose."""
    driver = connection.connection.driver_connection
    if driver is None:  # only once the pool has invalidated it
        raise AqtraError("the database connection was closed")
    return driver


def reflect(ctx: StepContext, connection: sa.Connection, table: str) -> list[ReflectedColumn] | None:
    """The table's (or view's) columns from the database catalog, None if there is no such table."""
    schema, name = split_table(table)
    inspector = sa.inspect(connection)
    try:
        return inspector.get_columns(name, schema=schema)
    except sa.exc.NoSuchTableError:
        return None
    except sa.exc.DBAPIError as exc:
        raise ctx.error(f"cannot look up table {table!r}: {db_message(exc)}", field="table") from None


def missing_table(ctx: StepContext, connection: sa.Connection, table: str, *, hint: str = "") -> AqtraError:
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
