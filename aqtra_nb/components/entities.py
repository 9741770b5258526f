"""Entity components: read records (the filter runs as SQL), turn keys into references, add referenced
records' fields, and write records in one transaction per run.

Entities are named as declared (`PurchaseRequest`; the module that declares them must be imported, or be
published through the `aqtra_nb.entities` entry-point group) or as `"package.module:ClassName"`. Records
are in each entity's store: bound with `Entity.bind`, else the default store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import dask.dataframe as dd
import pandas as pd
import sqlalchemy as sa
from pydantic import Field

from ..connections import ConnectionHandle
from ..entities import Entity, bind_entity, column_kinds, registry
from ..entities import frames as entity_frames
from ..entities.query import FILTERABLE, predicate_clause, where_clause
from ..entities.records import CHUNK, read_frame, select, write_records
from ..errors import AqtraError, FlowValidationError, UnknownColumn, did_you_mean
from ..resources import current
from ..store import Store
from ..store.database import safe_url
from ..store.entity_tables import SYSTEM_COLUMNS, build_table
from .base import (
    Component,
    F,
    Frame,
    InputComponent,
    OutputComponent,
    Params,
    Predicate,
    StepContext,
    is_dask,
    partitionwise,
)
from .outputs import write_single

ENTITY_DESCRIPTION = "Entity name, or 'package.module:ClassName'."


class EntityParams(Params):
    entity: str = Field(description=ENTITY_DESCRIPTION)


def entity_class(ctx: StepContext, name: str) -> type[Entity]:
    try:
        return registry.get(name)
    except AqtraError as exc:
        exc.at(file=ctx.source, step=ctx.step_id, field="entity")
        raise


class StoreHandle(ConnectionHandle):
    """The entity's store as tasks carry it: its URL, opened again in a process that unpickles it. A URL
    with a password does not travel in the task graph: the worker opens the store its own settings name
    (`$AQTRA_DATABASE_URL`), checked to be the same database."""

    target = "entity"

    def __init__(self, store: Store) -> None:
        super().__init__(".", None)
        has_password = sa.engine.make_url(store.url).password is not None
        self.url, self.shown = (None if has_password else store.url), safe_url(store.url)
        self._resolved = store  # this process has it open already

    @property
    def store(self) -> Store:
        return self.resolve()

    def _resolve(self) -> Store:
        if self.url is not None:
            if self.url not in _OPENED:
                _OPENED[self.url] = Store(self.url)
            return _OPENED[self.url]
        store = current().store
        if safe_url(store.url) != self.shown:
            raise AqtraError(
                f"this worker's store is {safe_url(store.url)}, the flow's entities are in {self.shown}: set "
                "AQTRA_DATABASE_URL on the workers (a URL with a password is not sent with tasks)"
            )
        return store


_OPENED: dict[str, Store] = {}


# -- read_model -------------------------------------------------------------------------------------------


class ReadModelParams(EntityParams):
    filter: str | None = Field(
        None, description="Condition in the expression language, run as SQL (e.g. amount > @min_amount)."
    )
    columns: list[str] | None = Field(None, description="Read only these fields (default: all, with id).")


class ReadModel(InputComponent[ReadModelParams]):
    """Read an entity's records; `filter` and the needed columns are pushed into the SQL query."""

    name = "read_model"
    supports_filters = True

    @property
    def entity(self) -> type[Entity]:
        return entity_class(self.ctx, self.params.entity)

    def read_schema(self) -> pd.DataFrame:
        entity = self.entity
        kinds = column_kinds(entity)
        if self.params.columns:
            self.ctx.require_columns(list(kinds), self.params.columns, field="columns")
        if self.params.filter:
            self._check_filter(self.params.filter, entity, kinds)
        frame = entity_frames.empty_records_frame(kinds)
        return frame[self.params.columns] if self.params.columns else frame

    def _check_filter(self, condition: str, entity: type[Entity], kinds: dict[str, str]) -> None:
        """Translate the filter once in planning, so its mistakes fail before anything runs."""
        fields = {name: spec.schema() for name, spec in entity.entity_fields.items()}
        table = build_table(sa.MetaData(), entity.table_name, fields, {})
        try:
            where_clause(condition, table, kinds, self.ctx.parameters, "sqlite")
        except AqtraError as exc:
            exc.at(file=self.ctx.source, step=self.ctx.step_id, field="filter")
            raise

    def push_filter(self, predicates: list[Predicate]) -> PushedConditions | None:
        """Simple conditions of a `filter` step right after this one also go into the SQL query."""
        kinds = column_kinds(self.entity)
        accepted = tuple(p for p in predicates if kinds.get(p.column) in FILTERABLE)
        return PushedConditions(accepted) if accepted else None

    def _reader(self, columns: list[str] | None, filters: Any) -> _ReadRecords:
        columns = list(columns or self.params.columns or column_kinds(self.entity))
        store = StoreHandle(bind_entity(self.entity).store)
        pushed = filters.predicates if isinstance(filters, PushedConditions) else ()
        return _ReadRecords(self.entity, store, columns, self.params.filter, self.ctx.parameters, pushed)

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        reader = self._reader(columns, filters)
        meta = self.read_schema()[reader.columns]
        return dd.from_map(self.ctx.guard(reader), [0], meta=meta, enforce_metadata=False)

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        return self.ctx.guard(self._reader(columns, filters))(0)

    def size_hint(self, columns: list[str] | None, filters: Any = None) -> int | None:
        """Matching records (the pushed filter's too) times a rough width per column (a COUNT query)."""
        reader = self._reader(columns, filters)
        bound = bind_entity(self.entity, reader.store.store)
        matching = reader.statement(bound).order_by(None).subquery()
        with bound.store.engine.connect() as connection:
            rows = connection.execute(sa.select(sa.func.count()).select_from(matching)).scalar_one()
        kinds = [bound.kind(c) for c in reader.columns]
        return rows * sum(
            8 if kind in ("integer", "reference", "number", "boolean") else 48 for kind in kinds
        )


@dataclass(frozen=True)
class PushedConditions:
    """Conditions of a following filter step, applied in the SQL query as well."""

    predicates: tuple[Predicate, ...]

    def __str__(self) -> str:
        return "SQL WHERE " + " and ".join(str(p) for p in self.predicates)


class _ReadRecords:
    def __init__(self, entity, store: StoreHandle, columns, condition, parameters, pushed=()) -> None:
        self.entity, self.store, self.columns = entity, store, columns
        self.condition, self.parameters, self.pushed = condition, parameters, pushed

    def statement(self, bound) -> sa.Select:
        statement = select(bound, self.condition, self.parameters, columns=self.columns)
        for predicate in self.pushed:
            statement = statement.where(predicate_clause(bound, predicate))
        return statement

    def __call__(self, _: int) -> pd.DataFrame:
        bound = bind_entity(self.entity, self.store.store)
        return read_frame(bound, self.statement(bound))


# -- lookup_reference -------------------------------------------------------------------------------------


class LookupReferenceParams(EntityParams):
    entity: str = Field(description="The referenced entity: " + ENTITY_DESCRIPTION)
    key: list[str] | str = Field(description="Input column(s) holding the referenced records' key values.")
    by: list[str] | None = Field(
        None, description="The referenced entity's fields to match the key with (default: its primary key)."
    )
    output: str | None = Field(None, description="Column for the referenced ids (default: the key column).")
    missing: Literal["error", "null"] = Field("error", description="A key without a record: fail, or null.")


class LookupReference(Component[LookupReferenceParams]):
    """Turn key values (e.g. a supplier code) into the ids of the records they name, for a reference field."""

    name = "lookup_reference"

    def cache_version(self) -> Any:
        return None  # reads the store's records, which change without the flow knowing

    def _settings(self, frame: Frame) -> tuple[type[Entity], list[str], list[str], str]:
        p = self.params
        entity = entity_class(self.ctx, p.entity)
        key = [p.key] if isinstance(p.key, str) else list(p.key)
        self.ctx.require_columns(list(frame.columns), key, field="key")
        keys = [name for name, spec in entity.entity_fields.items() if spec.primary_key]
        by = list(p.by or keys)
        if not by:
            raise self.ctx.error(
                f"{entity.entity_name} has no primary key: say which fields to match (`by`)",
                field="by",
                kind=FlowValidationError,
            )
        self.ctx.require_columns(list(entity.entity_fields), by, field="by")
        if len(by) != len(key):
            raise self.ctx.error(
                f"`key` has {len(key)} column(s) but {entity.entity_name} is matched by {len(by)} field(s) "
                f"({', '.join(by)})",
                field="key",
                kind=FlowValidationError,
            )
        output = p.output or (key[0] if len(key) == 1 else None)
        if output is None:
            raise self.ctx.error(
                "name the output column (`output`) for a key of several columns",
                field="output",
                kind=FlowValidationError,
            )
        return entity, key, by, output

    def transform(self, inputs: list[F]) -> F:
        entity, key, by, output = self._settings(inputs[0])
        store = StoreHandle(bind_entity(entity).store) if is_dask(inputs[0]) else None
        lookup = _Lookup(entity, store, key, by, output, self.params.missing)
        return partitionwise(self.ctx, inputs[0], lookup)

    def required_columns(self, needed, inputs):
        if needed is None:
            return [None]
        _, key, _, output = self._settings(inputs[0])
        return [(set(needed) - {output}) | set(key)]


class _Lookup:
    def __init__(self, entity, store: StoreHandle | None, key, by, output, missing) -> None:
        self.entity, self.store, self.missing = entity, store, missing
        self.key, self.by, self.output = key, by, output

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        ids = pd.Series(pd.array([None] * len(part), dtype="Int64"), index=part.index)
        if len(part):
            bound = bind_entity(self.entity, self.store.store if self.store else None)
            kinds = [bound.kind(b) for b in self.by]
            values = [
                tuple(entity_frames.cell(v, kind) for v, kind in zip(row, kinds, strict=True))
                for row in zip(*(part[k].tolist() for k in self.key), strict=True)
            ]
            found = _ids_by(bound, self.by, {v for v in values if not any(x is None for x in v)})
            ids = pd.Series(pd.array([found.get(v) for v in values], dtype="Int64"), index=part.index)
            unmatched = [
                v for v, i in zip(values, ids.isna(), strict=True) if i and not any(x is None for x in v)
            ]
            if unmatched and self.missing == "error":
                shown = ", ".join(repr(v[0] if len(v) == 1 else v) for v in unmatched[:5])
                more = f" (and {len(unmatched) - 5} more)" if len(unmatched) > 5 else ""
                raise AqtraError(
                    f"no {bound.name} record with {'/'.join(self.by)} {shown}{more}; create them first, or set "
                    "missing: null"
                )
        return part.assign(**{self.output: ids})


def _ids_by(bound, by: list[str], values: set[tuple]) -> dict[tuple, int]:
    table = bound.table
    columns = [table.c[b] for b in by]
    found: dict[tuple, int] = {}
    wanted = sorted(values, key=repr)
    with bound.store.engine.connect() as connection:
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            condition = (
                columns[0].in_([v[0] for v in chunk]) if len(by) == 1 else sa.tuple_(*columns).in_(chunk)
            )
            for row in connection.execute(sa.select(table.c.id, *columns).where(condition)):
                found[tuple(row[1:])] = row[0]
    return found


# -- load_references --------------------------------------------------------------------------------------


class LoadReferencesParams(EntityParams):
    entity: str = Field(description="The referenced entity: " + ENTITY_DESCRIPTION)
    column: str = Field(description="Input column holding ids of the referenced records.")
    fields: list[str] | None = Field(
        None, description="Fields of the referenced records to add (default: all)."
    )
    prefix: str | None = Field(None, description="Prefix of the added columns (default: '<column>_').")


class LoadReferences(Component[LoadReferencesParams]):
    """Add fields of referenced records (a left join on their id; no record: nulls)."""

    name = "load_references"

    def cache_version(self) -> Any:
        return None  # reads the store's records, which change without the flow knowing

    def _settings(self, frame: Frame) -> tuple[type[Entity], dict[str, str], dict[str, str]]:
        """(entity, {field: output column}, {field: kind})."""
        p = self.params
        entity = entity_class(self.ctx, p.entity)
        self.ctx.require_columns(list(frame.columns), [p.column], field="column")
        kinds = column_kinds(entity)
        fields = p.fields if p.fields is not None else list(entity.entity_fields)
        self.ctx.require_columns(list(kinds), fields, field="fields")
        prefix = p.prefix if p.prefix is not None else f"{p.column}_"
        outputs = {f: prefix + f for f in fields}
        return entity, outputs, {f: kinds[f] for f in fields}

    def transform(self, inputs: list[F]) -> F:
        entity, outputs, kinds = self._settings(inputs[0])
        store = StoreHandle(bind_entity(entity).store) if is_dask(inputs[0]) else None
        return partitionwise(self.ctx, inputs[0], _Load(entity, store, self.params.column, outputs, kinds))

    def required_columns(self, needed, inputs):
        if needed is None:
            return [None]
        _, outputs, _ = self._settings(inputs[0])
        return [(set(needed) - set(outputs.values())) | {self.params.column}]


class _Load:
    def __init__(self, entity, store: StoreHandle | None, column, outputs, kinds) -> None:
        self.entity, self.store, self.column, self.outputs, self.kinds = entity, store, column, outputs, kinds

    def __call__(self, part: pd.DataFrame) -> pd.DataFrame:
        ids = [entity_frames.cell(v, "integer") for v in part[self.column].tolist()]
        wanted = sorted({i for i in ids if i is not None})
        rows: dict[int, tuple] = {}
        if wanted:
            bound = bind_entity(self.entity, self.store.store if self.store else None)
            table = bound.table
            columns = [table.c[f] for f in self.outputs]
            with bound.store.engine.connect() as connection:
                for start in range(0, len(wanted), CHUNK):
                    chunk = wanted[start : start + CHUNK]
                    for row in connection.execute(
                        sa.select(table.c.id, *columns).where(table.c.id.in_(chunk))
                    ):
                        rows[row[0]] = tuple(row[1:])
        empty = (None,) * len(self.outputs)
        values = [rows.get(i, empty) if i is not None else empty for i in ids]
        added = {
            output: entity_frames.column([v[n] for v in values], self.kinds[f]).set_axis(part.index)
            for n, (f, output) in enumerate(self.outputs.items())
        }
        return part.assign(**added)


# -- write_model ------------------------------------------------------------------------------------------


class WriteModelParams(EntityParams):
    mode: Literal["create", "update", "upsert", "delete"] = Field(
        "create",
        description="create new records, update or delete existing ones, or upsert (update or create).",
    )
    key: list[str] | None = Field(
        None, description="Fields that identify existing records: the primary key (default) or id."
    )


class WriteModel(OutputComponent[WriteModelParams]):
    """Write the input as records of an entity, all in one transaction: any invalid row, nothing written."""

    name = "write_model"

    def _settings(self, frame: pd.DataFrame) -> tuple[type[Entity], list[str] | None]:
        p = self.params
        entity = entity_class(self.ctx, p.entity)
        fields = entity.entity_fields
        columns = [str(c) for c in frame.columns]
        known = [*fields, *SYSTEM_COLUMNS]
        for column in columns:
            if column not in known:
                raise UnknownColumn(
                    f"column {column!r} is not a field of {entity.entity_name}.{did_you_mean(column, list(fields))} "
                    f"Fields: {', '.join(fields)}; drop or rename the column before writing",
                    file=self.ctx.source,
                    step=self.ctx.step_id,
                    field="entity",
                )
        if p.mode == "create":
            missing = [n for n, spec in fields.items() if spec.required and n not in columns]
            if missing:
                raise self.ctx.error(
                    f"{entity.entity_name} requires field(s) {', '.join(missing)}, which the input lacks",
                    field="entity",
                    kind=FlowValidationError,
                )
            return entity, None
        primary = [n for n, spec in fields.items() if spec.primary_key]
        key = p.key or (primary if primary and set(primary) <= set(columns) else ["id"])
        self.ctx.require_columns(columns, key, field="key")
        return entity, key

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        self._settings(inputs[0])
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        """Pandas (in-memory runs): write now, return the rows. Dask: a lazy scalar whose one task gathers
        all partitions and writes them in one transaction."""
        entity, key = self._settings(frame._meta if is_dask(frame) else frame.iloc[:0])
        writer = _WriteRecords(entity, StoreHandle(bind_entity(entity).store), self.params.mode, key)
        return write_single(frame, self.ctx.guard(writer))


class _WriteRecords:
    """Writes all rows of the run (gathered into one task) in one transaction; returns the rows written."""

    def __init__(self, entity, store: StoreHandle, mode, key) -> None:
        self.entity, self.store, self.mode, self.key = entity, store, mode, key

    def __call__(self, frame: pd.DataFrame) -> int:
        bound = bind_entity(self.entity, self.store.store)
        rows = entity_frames.records(frame, bound.kinds)
        return write_records(bound, rows, self.mode, self.key).rows


ENTITY_COMPONENTS = [ReadModel, LookupReference, LoadReferences, WriteModel]
