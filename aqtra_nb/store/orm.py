"""The declarative base every table module of the store shares (`models.py`: runs, flows, secrets and
connections; `job_models.py`; `workflow_models.py`), so they import it rather than each other."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, CursorResult, DateTime, Result, Table, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps in UTC on every backend: naive values are taken as UTC, values come back tz-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if hasattr(value, "to_pydatetime"):  # pandas Timestamp
            value = value.to_pydatetime()
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: UTCDateTime()}

    if TYPE_CHECKING:  # each model is mapped to one table (sqlalchemy types it as any FROM clause)
        __table__: ClassVar[Table]


def affected_rows(result: Result) -> int:
    """The rows an UPDATE or DELETE run by `Session.execute` changed: sqlalchemy types that result as a
    `Result`, though for such statements it is a `CursorResult`, which has the count."""
    assert isinstance(result, CursorResult)
    return result.rowcount
