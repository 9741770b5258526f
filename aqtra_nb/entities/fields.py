"""Entity field types and the field schema: each pydantic field described as plain data (its kind,
required, primary key, reference target), which is what the store builds and migrates tables from."""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from ..errors import AqtraError

SCALAR_KINDS = {
    bool: "boolean",  # before int: bool is an int
    int: "integer",
    float: "number",
    str: "string",
    dt.datetime: "datetime",  # before date: datetime is a date
    dt.date: "date",
    dt.time: "time",
}
KINDS = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "time",
    "uri",
    "file",
    "list",
    "reference",
)
KEY_KINDS = ("string", "integer", "date", "uri")


class EntityDefinitionError(AqtraError):
    """An entity class declares something the store cannot hold (a field type, a bad primary key)."""


@dataclass(frozen=True)
class _Kind:
    kind: str


@dataclass(frozen=True)
class _ReferenceTo:
    target: Any  # an Entity class, or its name (a forward reference)

    @property
    def name(self) -> str:
        return self.target if isinstance(self.target, str) else self.target.entity_name


_URL = TypeAdapter(AnyUrl)


def _check_uri(value: str) -> str:
    _URL.validate_python(value)
    return value


Uri = Annotated[str, _Kind("uri"), AfterValidator(_check_uri)]
"""A URL field (`https://…`, `s3://…`): validated, stored as text as written."""


_PRIMARY_KEY = _Kind("primary_key")  # a marker: found even where pydantic ignores the Field (in a union)


class PrimaryKey:
    """`code: PrimaryKey[str]`: a business key, unique and required; records also keep their integer `id`.
    Same as `Field(json_schema_extra={"primary_key": True})`."""

    def __class_getitem__(cls, kind: Any) -> Any:
        from pydantic import Field

        return Annotated[kind, _PRIMARY_KEY, Field(json_schema_extra={"primary_key": True})]


def _record_id(value: Any) -> Any:
    """A record stands for its id; a record that was never saved has none."""
    from .model import Entity

    if isinstance(value, Entity):
        if value.id is None:
            raise ValueError(f"this {type(value).__name__} record is not saved yet (it has no id)")
        return value.id
    return value


class Reference:
    """`supplier: Reference[Supplier]`: holds the id of a Supplier record (a foreign key). A record may be
    given instead of its id. `Reference["Category"]` refers to an entity by name (e.g. to itself)."""

    def __class_getitem__(cls, target: Any) -> Any:
        return Annotated[int, _ReferenceTo(target), BeforeValidator(_record_id)]


class File(BaseModel):
    """A file field: where the file is (a path or fsspec URL) and what it is. A plain string is taken as the
    location. Stored as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: str
    name: str | None = None
    size: int | None = None
    content_type: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str | os.PathLike):
            text = os.fspath(value)
            return {"uri": text, "name": os.path.basename(text.rstrip("/")) or None}
        return value

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> File:
        """Describe a local file: its name, size and content type."""
        text = os.fspath(path)
        return cls(
            uri=text,
            name=os.path.basename(text),
            size=os.path.getsize(text),
            content_type=mimetypes.guess_type(text)[0],
        )

    def open(self, mode: str = "rb", **options: Any) -> Any:
        """Open the file through fsspec (local paths and remote URLs alike)."""
        import fsspec

        return fsspec.open(self.uri, mode, **options).open()


@dataclass(frozen=True)
class FieldSpec:
    """One entity field as the store sees it."""

    name: str
    kind: str
    nullable: bool = False
    required: bool = True
    primary_key: bool = False
    reference: str | None = None
    items: str | None = None
    choices: tuple[Any, ...] | None = None
    default: Any = None
    description: str | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON form registered in the store's `entity_types` table."""
        out: dict[str, Any] = {"type": self.kind, "required": self.required, "nullable": self.nullable}
        if self.primary_key:
            out["primary_key"] = True
        for key in ("reference", "items", "description"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if not self.required and self.default is not None:
            out["default"] = to_jsonable_python(self.default)
        return out


def describe(owner: str, name: str, info: FieldInfo) -> FieldSpec:
    """The FieldSpec of one pydantic field of entity `owner`."""
    annotation, markers, nullable = _unwrap(info.annotation, list(info.metadata))
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    primary_key = bool(extra.get("primary_key")) or _PRIMARY_KEY in markers
    kind, items, reference, choices = _kind(owner, name, annotation, markers)
    default = None
    if not info.is_required():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump()
    spec = FieldSpec(
        name=name,
        kind=kind,
        nullable=nullable,
        required=info.is_required(),
        primary_key=primary_key,
        reference=reference,
        items=items,
        choices=choices,
        default=default,
        description=info.description,
    )
    if primary_key and (nullable or not spec.required or kind not in KEY_KINDS):
        raise EntityDefinitionError(
            f"entity {owner!r}: primary-key field {name!r} must be a required, non-null "
            f"{', '.join(KEY_KINDS)} field (it is {'optional ' if nullable or not spec.required else ''}{kind})",
            field=name,
        )
    return spec


def _unwrap(annotation: Any, markers: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip `Annotated[...]` and `| None`, collecting metadata; whether None is allowed."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = typing.get_args(annotation)
            markers.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, markers, nullable
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, markers, nullable


def _kind(owner: str, name: str, annotation: Any, markers: list[Any]) -> tuple[str, Any, Any, Any]:
    """(kind, list item kind, reference target name, choices)."""
    for marker in markers:
        if isinstance(marker, _ReferenceTo):
            return "reference", None, marker.name, None
        if isinstance(marker, _Kind) and marker != _PRIMARY_KEY:
            return marker.kind, None, None, None
    if isinstance(annotation, type) and issubclass(annotation, File):
        return "file", None, None, None
    if annotation in SCALAR_KINDS:
        return SCALAR_KINDS[annotation], None, None, None
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = typing.get_args(annotation)
        kinds = {SCALAR_KINDS.get(type(v)) for v in values}
        for kind in ("string", "integer"):
            if kinds == {kind}:
                return kind, None, None, values
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        item, item_markers, _ = _unwrap(item, [])
        item_kind = next((m.kind for m in item_markers if isinstance(m, _Kind)), SCALAR_KINDS.get(item))
        if item_kind is not None:
            return "list", item_kind, None, None
    raise EntityDefinitionError(
        f"entity {owner!r}: field {name!r} has type {_type_name(annotation)}, which entities cannot store. "
        "Use str, int, float, bool, date, datetime, time, Uri, File, list[str|int|float|bool|date|...], "
        "Literal['a', 'b'] or Reference[OtherEntity] (optionally `| None`)",
        field=name,
    )


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)
