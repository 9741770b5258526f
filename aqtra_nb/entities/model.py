"""`Entity`: a data model declared as a pydantic class, stored in its own table, with a small record API."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from ..store import Store
from ..store.entity_tables import SYSTEM_COLUMNS, drop_column, entity_tables
from . import frames
from .errors import RecordNotFound
from .fields import EntityDefinitionError, FieldSpec, describe
from .records import Bound, E, Mode, WriteResult, read_frame, read_records, select, write_records
from .registry import registry

_BOUND: dict[type, Store] = {}
_LOCK = threading.RLock()


class Entity(BaseModel):
    """Base class of entities. Each subclass is a data model with its own table, created (and migrated when
    fields are added) on first use in a store. Records carry `id`, `created_at`, `updated_at`, `created_by`
    and `updated_by`, set by the store.

    Class settings: `entity_name` (default: the class name; flows refer to it) and `table_name` (default:
    `entity_<snake_case_name>`).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    entity_name: ClassVar[str] = ""
    table_name: ClassVar[str] = ""
    entity_fields: ClassVar[dict[str, FieldSpec]] = {}

    id: int | None = Field(None, description="Assigned by the store.")
    created_at: dt.datetime | None = Field(None, description="When the record was created (UTC).")
    updated_at: dt.datetime | None = Field(None, description="When the record was last changed (UTC).")
    created_by: str | None = Field(None, description="Who created the record.")
    updated_by: str | None = Field(None, description="Who last changed the record.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "entity_name" not in cls.__dict__:
            cls.entity_name = cls.__name__
        if "table_name" not in cls.__dict__:
            cls.table_name = "entity_" + _snake(cls.entity_name)
        own = cls.__dict__.get("__annotations__", {})
        for name in SYSTEM_COLUMNS:
            if name in own:
                raise EntityDefinitionError(
                    f"entity {cls.entity_name!r}: {name!r} is set by the store; give the field another name",
                    field=name,
                )
        cls.entity_fields = {
            name: describe(cls.entity_name, name, info)
            for name, info in cls.model_fields.items()
            if name not in SYSTEM_COLUMNS
        }
        registry.register(cls)

    def __repr_args__(self) -> Any:
        """The record's fields first, then id and the audit fields."""
        values = dict(super().__repr_args__())
        order = ["id", *self.entity_fields, *(name for name in SYSTEM_COLUMNS if name != "id")]
        return [(name, values[name]) for name in order if name in values]

    # -- the store -----------------------------------------------------------------------------------------
    @classmethod
    def bind(cls, store: Store | str | None) -> None:
        """Keep this entity's records in `store` (a Store or a database URL); `None` returns to the default
        store. `Entity.bind(store)` binds every entity that is not bound itself."""
        with _LOCK:
            if store is None:
                _BOUND.pop(cls, None)
            else:
                _BOUND[cls] = Store(store) if isinstance(store, str) else store

    @classmethod
    def bound_store(cls) -> Store:
        """The store of this entity: bound with `bind`, else the current resources' store."""
        with _LOCK:
            for klass in cls.__mro__:
                if klass in _BOUND:
                    return _BOUND[klass]
        from ..resources import current

        return current().store

    # -- records -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, **values: Any) -> Self:
        """Validate and insert one record; returns it with its id. A duplicate primary key is an error."""
        bound = bind_entity(cls)
        result = write_records(bound, [values], "create", single=True)
        return cls.get(result.created[0])

    @classmethod
    def get(cls, id: int) -> Self:
        """The record with this id (RecordNotFound if there is none)."""
        bound = bind_entity(cls)
        found = read_records(bound, select(bound).where(bound.table.c.id == id))
        if not found:
            raise RecordNotFound(f"no {cls.entity_name} record with id {id}", field="id")
        return found[0]

    @classmethod
    def query(
        cls,
        filter: str | None = None,
        /,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        params: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> list[Self]:
        """Records matching `filter`, an expression such as `"amount > @min and title != 'x'"` run as SQL
        (values bound as parameters). `order_by`: field names, `-name` for descending (default: id)."""
        bound = bind_entity(cls)
        statement = select(bound, filter, {**(params or {}), **parameters}, order_by=order_by, limit=limit)
        return read_records(bound, statement)

    @classmethod
    def all(cls) -> list[Self]:
        return cls.query()

    @classmethod
    def first(cls, filter: str | None = None, /, **options: Any) -> Self | None:
        """The first record matching `filter` (by `order_by`, default id), or None."""
        found = cls.query(filter, limit=1, **options)
        return found[0] if found else None

    @classmethod
    def count(
        cls,
        filter: str | None = None,
        /,
        *,
        params: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> int:
        """How many records match `filter`."""
        bound = bind_entity(cls)
        values = {**(params or {}), **parameters}
        matching = select(bound, filter, values, columns=["id"]).order_by(None).subquery()
        with bound.store.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(matching)).scalar_one()

    @classmethod
    def frame(
        cls,
        filter: str | None = None,
        /,
        *,
        columns: Sequence[str] | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        params: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> pd.DataFrame:
        """Matching records as a pandas frame (the dtypes `read_model` gives)."""
        bound = bind_entity(cls)
        statement = select(
            bound, filter, {**(params or {}), **parameters}, columns=columns, order_by=order_by, limit=limit
        )
        return read_frame(bound, statement)

    @classmethod
    def update(cls, id: int | Entity, /, **changes: Any) -> Self:
        """Change some fields of a record; the whole record is validated again. Returns the new record."""
        record_id = id.id if isinstance(id, Entity) else id
        if record_id is None:
            raise RecordNotFound(
                f"this {cls.entity_name} record is not saved yet: create it first", field="id"
            )
        write_records(bind_entity(cls), [{"id": record_id, **changes}], "update", ["id"], single=True)
        return cls.get(record_id)

    @classmethod
    def delete(cls, id: int | Entity, /) -> None:
        """Delete a record (an error if other records refer to it)."""
        record_id = id.id if isinstance(id, Entity) else id
        write_records(bind_entity(cls), [{"id": record_id}], "delete", ["id"], single=True)

    @classmethod
    def write(
        cls,
        rows: pd.DataFrame | Sequence[Mapping[str, Any]],
        mode: Mode = "create",
        key: Sequence[str] | None = None,
    ) -> WriteResult:
        """Write many records in one transaction (`mode`: create, update, upsert or delete; `key`: the
        primary-key fields by default, or `id`). Any invalid row: an error listing them, nothing written."""
        bound = bind_entity(cls)
        if isinstance(rows, pd.DataFrame):
            rows = frames.records(rows, bound.kinds)
        return write_records(bound, list(rows), mode, key)

    @classmethod
    def empty_frame(cls) -> pd.DataFrame:
        """The typed empty frame of this entity's records (all columns), without touching the store."""
        return frames.empty_records_frame(column_kinds(cls))


def column_kinds(cls: type[Entity]) -> dict[str, str]:
    """Every column of the entity's table and its kind, in table order (known without the store)."""
    kinds = {"id": SYSTEM_COLUMNS["id"]}
    kinds.update({name: spec.kind for name, spec in cls.entity_fields.items()})
    kinds.update({name: kind for name, kind in SYSTEM_COLUMNS.items() if name != "id"})
    return kinds


def bind_entity(cls: type[E], store: Store | None = None, _seen: tuple[str, ...] = ()) -> Bound[E]:
    """The entity with its table in `store` (default: its bound store), created or migrated as needed;
    referenced entities first."""
    store = store or cls.bound_store()
    targets: dict[str, Bound] = {}
    for name, spec in cls.entity_fields.items():
        if spec.kind != "reference" or spec.reference is None or spec.reference == cls.entity_name:
            continue
        if spec.reference in _seen:
            raise EntityDefinitionError(
                f"entities {' -> '.join((*_seen, cls.entity_name, spec.reference))} refer to each other in a "
                "cycle; make one of the references an integer field",
                field=name,
            )
        target = registry.get(spec.reference)
        targets[name] = bind_entity(target, store, (*_seen, cls.entity_name))
    schema = {name: spec.schema() for name, spec in cls.entity_fields.items()}
    defaults = {name: spec.default for name, spec in cls.entity_fields.items() if not spec.required}
    table = entity_tables(store).sync(cls.entity_name, cls.table_name, schema, defaults)
    return Bound(cls, store, table, dict(cls.entity_fields), targets)


def drop_field(entity: type[Entity] | str, field: str, store: Store | None = None) -> None:
    """Delete a field's column and its values from the entity's table (the explicit way to remove a field
    or, with a new field, change its type). Remove the field from the class as well."""
    cls = registry.get(entity) if isinstance(entity, str) else entity
    drop_column(store or cls.bound_store(), cls.entity_name, field)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
