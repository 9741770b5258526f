"""Reading and writing records of an entity bound to a store.

Every write, of one record or of a whole frame, is `write_records`: values validated by the entity's pydantic
model, references and primary keys checked, then all statements in one transaction. Any problem raises an
error listing each row and field, and nothing is changed.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, RowMapping, Table
from sqlalchemy.exc import IntegrityError

from ..errors import did_you_mean
from ..store import Store
from ..store.entity_tables import SYSTEM_COLUMNS, utcnow, write_transaction
from . import frames
from .errors import DuplicateKey, EntityError, EntityValidationError, RecordNotFound, problems
from .fields import FieldSpec
from .query import where_clause

if TYPE_CHECKING:
    from .model import Entity

E = TypeVar("E", bound="Entity")

Mode = Literal["create", "update", "upsert", "delete"]
CHUNK = 500  # values per IN (...) list

_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("aqtra_entity_user", default=None)


def current_user() -> str | None:
    """Who is writing (`created_by`/`updated_by`): set by `acting_as`, else the operating-system user."""
    user = _user.get()
    if user is not None:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return None


@contextlib.contextmanager
def acting_as(user: str) -> Iterator[str]:
    """Record the writes inside the block as made by `user` (e.g. the user of a web request)."""
    token = _user.set(user)
    try:
        yield user
    finally:
        _user.reset(token)


@dataclass
class Bound(Generic[E]):
    """An entity with its table in one store (created or migrated when bound)."""

    entity: type[E]
    store: Store
    table: Table
    fields: dict[str, FieldSpec]
    targets: dict[str, Bound] = field(default_factory=dict)  # reference field -> the referenced entity

    @property
    def name(self) -> str:
        return self.entity.entity_name

    @property
    def keys(self) -> list[str]:
        """The primary-key fields (empty: records are identified by `id` only)."""
        return [name for name, spec in self.fields.items() if spec.primary_key]

    @property
    def kinds(self) -> dict[str, str]:
        """Every column (system columns included) and its field kind, in table order."""
        return {str(c.name): self.kind(str(c.name)) for c in self.table.columns}

    def kind(self, name: str) -> str:
        return self.fields[name].kind if name in self.fields else SYSTEM_COLUMNS[name]

    def check_columns(self, names: Iterable[str], *, what: str = "field") -> None:
        known = list(self.kinds)
        for name in names:
            if name not in known:
                raise EntityError(
                    f"{self.name} has no {what} {name!r}.{did_you_mean(name, known)} Fields: {', '.join(known)}",
                    field=name,
                )


# -- reading -------------------------------------------------------------------------------------------------


def select(
    bound: Bound,
    condition: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    columns: Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
) -> sa.Select:
    """The SELECT of records matching the filter `condition` (the expression language, bound parameters)."""
    if columns is not None:
        bound.check_columns(columns)
    table = bound.table
    query = sa.select(*(table.c[c] for c in columns) if columns is not None else table.c)
    if condition:
        query = query.where(where_clause(condition, table, bound.kinds, params or {}, bound.store.dialect))
    for item in [order_by] if isinstance(order_by, str) else list(order_by or []):
        descending = item.startswith("-") or item.lower().endswith(" desc")
        name = item.removeprefix("-").removesuffix(" desc").removesuffix(" DESC").removesuffix(" asc").strip()
        bound.check_columns([name])
        query = query.order_by(table.c[name].desc() if descending else table.c[name])
    if order_by is None:
        query = query.order_by(table.c.id)
    if limit is not None:
        query = query.limit(limit)
    return query


def read_frame(bound: Bound, query: sa.Select) -> pd.DataFrame:
    """Run a SELECT of this entity's columns; the result as a typed frame."""
    kinds = {str(c.name): bound.kind(str(c.name)) for c in query.selected_columns}
    with bound.store.engine.connect() as connection:
        rows = connection.execute(query).all()
    return frames.to_frame(rows, kinds)


def read_records(bound: Bound[E], query: sa.Select) -> list[E]:
    with bound.store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [to_record(bound, row) for row in rows]


def to_record(bound: Bound[E], row: RowMapping) -> E:
    try:
        return bound.entity.model_validate(dict(row))
    except ValidationError as exc:
        raise EntityError(
            f"{bound.name} record {row.get('id')} in the store does not fit the model: {_message(exc.errors()[0])}"
        ) from None


# -- writing -------------------------------------------------------------------------------------------------


@dataclass
class WriteResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.updated) + len(self.deleted) + len(self.unchanged)


def write_records(
    bound: Bound,
    rows: Sequence[Mapping[str, Any]],
    mode: Mode = "create",
    key: Sequence[str] | None = None,
    *,
    single: bool = False,
) -> WriteResult:
    """Create, update, upsert or delete `rows` (dicts of field values) in one transaction.

    `key` identifies existing records (default: the primary-key fields, else `id`). In create mode and for
    new records of an upsert, null values take the field's default; updates set exactly the values given.
    Upsert by `id`: rows without an id are created. `single`: errors read as about one record (the API).
    """
    key = list(key or bound.keys or ["id"])
    _check_key(bound, key, mode)
    writer = _Writer(bound, mode, key, single)
    with write_transaction(bound.store) as connection:
        writer.plan(connection, rows)
        writer.execute(connection)
    return writer.result


def _check_key(bound: Bound, key: list[str], mode: Mode) -> None:
    if mode == "create":
        return
    bound.check_columns(key, what="key field")
    if key != ["id"] and sorted(key) != sorted(bound.keys):
        raise EntityError(
            f"{bound.name} records are identified by id or by their primary key "
            f"({', '.join(bound.keys) or 'none declared'}), not by {', '.join(key)}",
            field="key",
        )


class _Writer:
    """One write: `plan` validates and checks everything (raising before any change), `execute` writes."""

    def __init__(self, bound: Bound, mode: Mode, key: list[str], single: bool) -> None:
        self.bound, self.mode, self.key, self.single = bound, mode, key, single
        self.errors: list[dict[str, Any]] = []
        self.inserts: list[tuple[int, dict[str, Any]]] = []  # (row number, column values)
        self.updates: list[tuple[int, int, dict[str, Any]]] = []  # (row number, id, column values)
        self.deletes: list[tuple[int, int]] = []
        self.result = WriteResult()

    def fail(self, kind: type[EntityValidationError] = EntityValidationError) -> None:
        if self.errors:
            raise problems(self.bound.name, kind, self.errors, self.single)

    def plan(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        existing = self._existing(connection, rows) if self.mode != "create" else {}
        self.fail(RecordNotFound if self.single else EntityValidationError)
        for number, row in enumerate(rows):
            found = existing.get(self._key_of(row)) if self.mode != "create" else None
            if self.mode == "delete":
                assert found is not None  # a key not stored failed in _existing
                self.deletes.append((number, found["id"]))
            elif found is not None:
                self._update(number, row, found)
            else:
                self._insert(number, row)
        self.fail()
        self._check_references(connection)
        self.fail()
        self._check_keys(connection)
        self.fail(DuplicateKey)

    def _key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row.get(k) for k in self.key)

    def _existing(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[tuple, dict]:
        """The stored records of the rows' keys; a missing key is an error except where upsert creates."""
        seen: dict[tuple, int] = {}
        wanted = []
        for number, row in enumerate(rows):
            value = self._key_of(row)
            if any(v is None for v in value):
                if self.mode == "upsert" and self.key == ["id"]:
                    continue  # a new record
                self.error(number, self.key[0], f"no value for the key {'/'.join(self.key)}")
            elif value in seen:
                self.error(
                    number, self.key[0], f"key {_show(value)} appears twice (also row {seen[value] + 1})"
                )
            else:
                seen[value] = number
                wanted.append(value)
        found = _fetch_by(connection, self.bound.table, self.key, wanted)
        for value in wanted:
            if value not in found and (self.mode != "upsert" or self.key == ["id"]):
                what = f"id {value[0]}" if self.key == ["id"] else f"{'/'.join(self.key)} {_show(value)}"
                self.error(seen[value], self.key[0], f"no {self.bound.name} record with {what}")
        return found

    def error(self, row: int, field_name: str | None, message: str) -> None:
        self.errors.append({"row": row, "field": field_name, "message": message})

    def _values(self, number: int, values: dict[str, Any]) -> dict[str, Any] | None:
        """Validated column values of a whole record, or None after recording its errors."""
        try:
            record = self.bound.entity.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                field_name = str(error["loc"][0]) if error["loc"] else None
                message = _message(error, list(self.bound.fields))
                self.error(number, field_name, message)
            return None
        return dump(self.bound, record)

    def _user_values(self, number: int, row: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        values = {}
        for name, value in row.items():
            if name in SYSTEM_COLUMNS:
                if self.single and (self.mode == "create" or name not in self.key):
                    self.error(number, name, f"{name} is set by the store")
                continue
            if creating and value is None and name in self.bound.fields:
                continue  # the field's default
            values[name] = value
        return values

    def _insert(self, number: int, row: Mapping[str, Any]) -> None:
        values = self._values(number, self._user_values(number, row, creating=True))
        if values is not None:
            self.inserts.append((number, values))

    def _update(self, number: int, row: Mapping[str, Any], found: dict[str, Any]) -> None:
        stored = {name: found[name] for name in self.bound.fields}
        changes = self._user_values(number, row, creating=False)
        values = self._values(number, {**stored, **changes})
        if values is None:
            return
        if values == dump_stored(self.bound, stored):
            self.result.unchanged.append(found["id"])
        else:
            self.updates.append((number, found["id"], values))

    def _written(self) -> list[tuple[int, int | None, dict[str, Any]]]:
        return [(n, None, v) for n, v in self.inserts] + list(self.updates)

    def _check_references(self, connection: Connection) -> None:
        for field_name, target in self.bound.targets.items():
            wanted = {v[field_name] for _, _, v in self._written() if v.get(field_name) is not None}
            present = set(_fetch_by(connection, target.table, ["id"], [(i,) for i in wanted]))
            for number, _, values in self._written():
                value = values.get(field_name)
                if value is not None and (value,) not in present:
                    self.error(number, field_name, f"no {target.name} record with id {value}")

    def _check_keys(self, connection: Connection) -> None:
        """Primary keys stay unique: within this write, and against the stored records."""
        keys = self.bound.keys
        if not keys:
            return
        mine: dict[tuple, tuple[int, int | None]] = {}
        for number, record_id, values in self._written():
            value = tuple(values[k] for k in keys)
            if value in mine:
                self.error(
                    number,
                    keys[0],
                    f"{'/'.join(keys)} {_show(value)} appears twice (also row {mine[value][0] + 1})",
                )
            mine[value] = (number, record_id)
        stored = _fetch_by(connection, self.bound.table, keys, list(mine))
        deleted = {record_id for _, record_id in self.deletes}
        for value, (number, record_id) in mine.items():
            other = stored.get(value)
            if other is not None and other["id"] != record_id and other["id"] not in deleted:
                self.error(
                    number,
                    keys[0],
                    f"a {self.bound.name} with {'/'.join(keys)} {_show(value)} exists already (id {other['id']})"
                    + ("; use update or upsert to change it" if record_id is None else ""),
                )

    def execute(self, connection: Connection) -> None:
        table, now, user = self.bound.table, utcnow(), current_user()
        try:
            if self.deletes:
                ids = [record_id for _, record_id in self.deletes]
                for chunk in _chunks(ids):
                    connection.execute(sa.delete(table).where(table.c.id.in_(chunk)))
                self.result.deleted = ids
            if self.updates:
                statement = sa.update(table).where(table.c.id == sa.bindparam("_id"))
                connection.execute(
                    statement,
                    [{**v, "_id": i, "updated_at": now, "updated_by": user} for _, i, v in self.updates],
                )
                self.result.updated = [i for _, i, _ in self.updates]
            if self.inserts:
                audit = {"created_at": now, "updated_at": now, "created_by": user, "updated_by": user}
                insert = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
                rows = connection.execute(insert, [{**v, **audit} for _, v in self.inserts])
                self.result.created = [row.id for row in rows]
        except IntegrityError as exc:
            raise _integrity_error(self.bound, exc, bool(self.deletes)) from None


def dump(bound: Bound, record: BaseModel) -> dict[str, Any]:
    """A validated record's field values as column values (lists and files as JSON-ready data)."""
    values = {name: getattr(record, name) for name in bound.fields}
    for name, spec in bound.fields.items():
        if spec.kind in ("list", "file") and values[name] is not None:
            values[name] = to_jsonable_python(values[name])
    return values


def dump_stored(bound: Bound, stored: dict[str, Any]) -> dict[str, Any] | None:
    """Stored values in the form `dump` gives, to tell unchanged records; None if they do not validate."""
    try:
        return dump(bound, bound.entity.model_validate(stored))
    except ValidationError:
        return None


def _integrity_error(bound: Bound, exc: IntegrityError, deleting: bool) -> EntityError:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if deleting and ("foreign key" in detail.lower() or "violates" in detail.lower()):
        return EntityError(
            f"cannot delete {bound.name} records that other records refer to; change or delete those first "
            f"(database: {detail})"
        )
    if "unique" in detail.lower() or "duplicate" in detail.lower():
        return DuplicateKey(f"{bound.name}: a record with the same primary key exists already ({detail})")
    return EntityError(f"{bound.name}: the database refused the write, nothing was changed ({detail})")


def _fetch_by(connection: Connection, table: Table, key: list[str], values: list[tuple]) -> dict[tuple, dict]:
    """Stored rows whose `key` columns equal one of `values`, by key tuple."""
    found: dict[tuple, dict] = {}
    columns = [table.c[k] for k in key]
    for chunk in _chunks(values):
        condition = columns[0].in_([v[0] for v in chunk]) if len(key) == 1 else sa.tuple_(*columns).in_(chunk)
        for row in connection.execute(sa.select(table).where(condition)).mappings():
            found[tuple(row[k] for k in key)] = dict(row)
    return found


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _show(value: tuple) -> str:
    return repr(value[0]) if len(value) == 1 else repr(value)


def _message(error: Mapping[str, Any], fields: list[str] | None = None) -> str:
    """A pydantic error as a sentence: unknown fields get a did-you-mean, values are quoted back."""
    if error["type"] == "extra_forbidden":
        name = str(error["loc"][0]) if error["loc"] else ""
        return f"unknown field {name!r}.{did_you_mean(name, fields or [])}"
    if error["type"] == "missing":
        return "a value is required"
    message = error["msg"].removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict):
        message += f" (got {error['input']!r})"
    return message
