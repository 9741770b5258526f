"""Entity tables: built with SQLAlchemy Core from a field schema (plain data), registered in `entity_types`,
created on first use and migrated when fields are added.

Adding a field is the one change made automatically (`ALTER TABLE ... ADD COLUMN`, on SQLite too; existing
rows get the field's default). Removing a field or changing its type would lose or reinterpret data, so it
is an error that says what to do (`drop_column` removes a field's column explicitly).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, MetaData, Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import SchemaItem

from ..errors import AqtraError
from .models import EntityType
from .orm import Base, UTCDateTime, utcnow
from .store import Store

#: the columns every entity table has besides its fields, and their kinds
SYSTEM_COLUMNS: dict[str, str] = {
    "id": "integer",
    "created_at": "datetime",
    "updated_at": "datetime",
    "created_by": "string",
    "updated_by": "string",
}
#: what decides how a field's values are stored: a change in any of these is a change of type
TYPE_KEYS = ("type", "items", "reference", "primary_key")

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY autoincrements there


class SchemaChangeError(AqtraError):
    """An entity's fields changed in a way the store does not migrate on its own."""


def column_type(kind: str) -> sa.types.TypeEngine:
    """The SQL type of a field kind."""
    types: dict[str, sa.types.TypeEngine] = {
        "string": sa.Text(),
        "uri": sa.Text(),
        "integer": sa.BigInteger(),
        "reference": ID_TYPE,
        "number": sa.Double(),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
        "datetime": UTCDateTime(),
        "time": sa.Time(),
        "list": sa.JSON(),
        "file": sa.JSON(),
    }
    try:
        return types[kind]
    except KeyError:
        raise AqtraError(f"unknown field type {kind!r}; known: {', '.join(types)}") from None


def build_table(
    metadata: MetaData, table_name: str, fields: Mapping[str, Mapping[str, Any]], targets: Mapping[str, str]
) -> Table:
    """The Core `Table` of an entity. `targets` maps each reference field to the referenced table's name
    (absent: no foreign key, for tables used only to compile queries). Primary-key fields get a unique index
    (an index, not a constraint, so that it can be added to an existing table on SQLite too)."""
    columns: list[SchemaItem] = [sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True)]
    for name, spec in fields.items():
        args: list[Any] = []
        if spec["type"] == "reference" and name in targets:
            args.append(sa.ForeignKey(f"{targets[name]}.id", name=f"fk_{table_name}_{name}"))
        columns.append(
            sa.Column(name, column_type(spec["type"]), *args, nullable=not spec.get("primary_key"))
        )
    columns += [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Text()),
        sa.Column("updated_by", sa.Text()),
    ]
    keys = [name for name, spec in fields.items() if spec.get("primary_key")]
    if keys:
        columns.append(sa.Index(key_index_name(table_name), *keys, unique=True))
    return Table(table_name, metadata, *columns)


def key_index_name(table_name: str) -> str:
    return f"uq_{table_name}_key"


@contextlib.contextmanager
def write_transaction(store: Store) -> Iterator[Connection]:
    """One transaction for DDL and DML alike. On SQLite the driver would run DDL outside a transaction and
    take the write lock late: `BEGIN IMMEDIATE` makes everything atomic and serializes writers up front."""
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection


@dataclass
class EntityTables:
    """The entity tables of one store: one MetaData; each entity synced once per process and schema."""

    store: Store
    metadata: MetaData = field(default_factory=MetaData)
    tables: dict[str, Table] = field(default_factory=dict)
    synced: dict[str, tuple[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise AqtraError(f"entity {name!r} has no table in {self.store!r} yet") from None

    def sync(
        self,
        name: str,
        table_name: str,
        fields: Mapping[str, Mapping[str, Any]],
        defaults: Mapping[str, Any] | None = None,
    ) -> Table:
        """Create or migrate the table of entity `name` to `fields` (its field schema) and return it.
        Referenced entities must be synced first. `defaults` (Python values) fill added fields."""
        fingerprint = (table_name, _frozen(fields))
        with self.lock:
            if self.synced.get(name) == fingerprint:
                return self.tables[name]
            targets = {}
            for field_name, spec in fields.items():
                if spec["type"] == "reference":
                    target = spec["reference"]
                    targets[field_name] = table_name if target == name else self.table(target).name
            self.synced.pop(name, None)
            stale = self.tables.pop(name, None)
            for old in (stale, self.metadata.tables.get(table_name)):
                if old is not None and old.name in self.metadata.tables:
                    self.metadata.remove(old)
            try:
                table = self._sync_retrying(name, table_name, fields, targets, dict(defaults or {}))
            except BaseException as exc:
                if table_name in self.metadata.tables:
                    self.metadata.remove(self.metadata.tables[table_name])
                if isinstance(exc, SQLAlchemyError):
                    raise AqtraError(
                        f"cannot create or migrate the table of entity {name!r}: {exc}"
                    ) from None
                raise
            self.tables[name] = table
            self.synced[name] = fingerprint
            return table

    def _sync_retrying(self, name, table_name, fields, targets, defaults) -> Table:
        """Another process may create the same table at the same moment: then look again, once."""
        for attempt in (1, 2):
            try:
                with write_transaction(self.store) as connection:
                    return self._sync(connection, name, table_name, fields, targets, defaults)
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
                if attempt == 2:
                    raise
                if table_name in self.metadata.tables:
                    self.metadata.remove(self.metadata.tables[table_name])
        raise AssertionError("unreachable")  # pragma: no cover

    def _sync(self, connection, name, table_name, fields, targets, defaults) -> Table:
        query = sa.select(EntityType).where(EntityType.name == name)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).mappings().first()
        table = build_table(self.metadata, table_name, fields, targets)
        if row is None:
            _check_new_table(connection, name, table_name)
            table.create(connection)
            values = {"name": name, "table_name": table_name, "fields": dict(fields), "updated_at": utcnow()}
            connection.execute(sa.insert(EntityType.__table__).values(values))
            return table
        if row["table_name"] != table_name:
            raise SchemaChangeError(
                f"entity {name!r} is stored in table {row['table_name']!r}, not {table_name!r}: set "
                f"table_name = {row['table_name']!r} on the class (renaming a table is not automatic)"
            )
        stored = row["fields"] or {}
        if stored == dict(fields):
            return table
        _check_changes(connection, name, table, stored, fields)
        for field_name in fields:
            if field_name not in stored:
                _add_column(connection, name, table, field_name, fields[field_name], defaults)
        connection.execute(
            sa.update(EntityType.__table__)
            .where(EntityType.__table__.c.name == name)
            .values(fields=dict(fields), updated_at=utcnow())
        )
        return table


_REGISTRY: weakref.WeakKeyDictionary[Store, EntityTables] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def entity_tables(store: Store) -> EntityTables:
    """The entity tables of `store` (one object per Store)."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(store)
        if found is None:
            found = _REGISTRY[store] = EntityTables(store)
        return found


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _check_new_table(connection: Connection, name: str, table_name: str) -> None:
    if table_name in Base.metadata.tables:
        raise SchemaChangeError(
            f"entity {name!r} cannot use table {table_name!r}: the store uses that name; set table_name"
        )
    taken = connection.execute(
        sa.select(EntityType.name).where(EntityType.table_name == table_name)
    ).scalar_one_or_none()
    if taken is not None:
        raise SchemaChangeError(
            f"table {table_name!r} belongs to entity {taken!r}; give entity {name!r} another table_name"
        )
    if sa.inspect(connection).has_table(table_name):
        raise SchemaChangeError(
            f"a table named {table_name!r} exists already and is not an entity table; give entity {name!r} "
            "another table_name"
        )


def _describe(spec: Mapping[str, Any]) -> str:
    kind = spec["type"]
    if kind == "list":
        kind = f"list of {spec.get('items')}"
    elif kind == "reference":
        kind = f"reference to {spec.get('reference')}"
    return kind + (" (primary key)" if spec.get("primary_key") else "")


def _count(connection: Connection, table: Table, condition: Any = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if condition is not None:
        query = query.where(condition)
    return connection.execute(query).scalar_one()


def _check_changes(connection, name, table, stored, fields) -> None:
    removed = [f for f in stored if f not in fields]
    if removed:
        listed = ", ".join(repr(f) for f in removed)
        raise SchemaChangeError(
            f"entity {name!r}: field(s) {listed} are in table {table.name!r} but no longer in the model. "
            f"Add them back, or drop their column and its data explicitly with "
            f"aqtra_nb.entities.drop_field({name}, {removed[0]!r})",
            field=removed[0],
        )
    for field_name, spec in fields.items():
        old = stored.get(field_name)
        if old is None:
            continue
        if any(old.get(k) != spec.get(k) for k in TYPE_KEYS):
            raise SchemaChangeError(
                f"entity {name!r}: field {field_name!r} changed from {_describe(old)} to {_describe(spec)}; "
                "stored values are not converted. Keep the old type, or add a new field with the new type, "
                f"copy the values over (update), then drop the old one with "
                f"aqtra_nb.entities.drop_field({name}, {field_name!r})",
                field=field_name,
            )
        if not spec.get("nullable") and old.get("nullable"):
            missing = _count(connection, table, table.c[field_name].is_(None))
            if missing:
                raise SchemaChangeError(
                    f"entity {name!r}: field {field_name!r} may no longer be null, but {missing} record(s) "
                    "have no value: give them one (update) first, or keep the field optional",
                    field=field_name,
                )


def _add_column(connection, name, table, field_name, spec, defaults) -> None:
    rows = _count(connection, table)
    if rows and spec.get("primary_key"):
        raise SchemaChangeError(
            f"entity {name!r}: a primary-key field ({field_name!r}) cannot be added to a table with {rows} "
            "record(s); add it as an ordinary field, fill it, then make it the primary key in a new entity",
            field=field_name,
        )
    default = defaults.get(field_name)
    if rows and default is None and not spec.get("nullable"):
        raise SchemaChangeError(
            f"entity {name!r}: new field {field_name!r} is required, but {rows} existing record(s) have no "
            f"value for it: give it a default (`{field_name}: ... = value`) or make it optional "
            f"(`{field_name}: ... | None = None`)",
            field=field_name,
        )
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    column = table.c[field_name]
    spec_sql = f"{quote(column.name)} {column.type.compile(dialect=dialect)}"
    for key in column.foreign_keys:
        spec_sql += f" REFERENCES {quote(key.column.table.name)} ({quote(key.column.name)})"
    connection.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {spec_sql}")
    for index in table.indexes:
        if field_name in index.columns:
            connection.execute(sa.schema.DropIndex(index, if_exists=True))
            index.create(connection)
    if rows and default is not None:
        connection.execute(sa.update(table).values({field_name: default}))


def drop_column(store: Store, name: str, field_name: str) -> None:
    """Remove a field's column and its data from entity `name`'s table, and from its registered schema."""
    with write_transaction(store) as connection:
        row = connection.execute(sa.select(EntityType).where(EntityType.name == name)).mappings().first()
        if row is None:
            raise AqtraError(f"entity {name!r} has no table in {store!r}")
        fields = dict(row["fields"] or {})
        if field_name not in fields:
            known = ", ".join(fields) or "(none)"
            raise SchemaChangeError(
                f"entity {name!r} has no stored field {field_name!r}; stored fields: {known}"
            )
        quote = connection.dialect.identifier_preparer.quote
        table_name = row["table_name"]
        spec = fields.pop(field_name)
        if spec.get("primary_key"):
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(key_index_name(table_name))}")
        if connection.dialect.name == "sqlite" and spec["type"] == "reference":
            _sqlite_drop_reference(connection, table_name, field_name)
        else:
            connection.exec_driver_sql(f"ALTER TABLE {quote(table_name)} DROP COLUMN {quote(field_name)}")
        keys = [f for f, s in fields.items() if s.get("primary_key")]
        if spec.get("primary_key") and keys:
            columns = ", ".join(quote(k) for k in keys)
            connection.exec_driver_sql(
                f"CREATE UNIQUE INDEX {quote(key_index_name(table_name))} ON {quote(table_name)} ({columns})"
            )
        connection.execute(
            sa.update(EntityType.__table__)
            .where(EntityType.__table__.c.name == name)
            .values(fields=fields, updated_at=utcnow())
        )
    tables = entity_tables(store)
    with tables.lock:
        tables.synced.pop(name, None)


def _sqlite_drop_reference(connection: Connection, table_name: str, field_name: str) -> None:
    """SQLite cannot drop a column that has a foreign key: rebuild the table without it (Alembic batch)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    operations = Operations(MigrationContext.configure(connection))
    with operations.batch_alter_table(table_name, recreate="always") as batch:
        batch.drop_column(field_name)
