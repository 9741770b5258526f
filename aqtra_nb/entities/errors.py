"""The errors of entities: invalid values, duplicate keys, missing records. All are AqtraErrors that name
the field (and for bulk writes, the row) so a form or a flow can point at it."""

from __future__ import annotations

from typing import Any

from ..errors import AqtraError
from ..store.entity_tables import SchemaChangeError
from .fields import EntityDefinitionError
from .registry import UnknownEntity

MAX_LISTED = 10


class EntityError(AqtraError):
    """A record operation failed; nothing was changed."""


class EntityValidationError(EntityError):
    """Values do not fit the entity's fields. `errors` lists each problem as {row, field, message}."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **where: Any) -> None:
        self.errors = list(errors or [])
        super().__init__(message, **where)


class DuplicateKey(EntityValidationError):
    """A record with the same primary key exists already (or appears twice in one write)."""


class RecordNotFound(EntityValidationError):
    """No record has this id (or key)."""


def problems(entity: str, kind: type[EntityValidationError], errors: list[dict[str, Any]], single: bool):
    """One error for all problems of a write: with the row numbers for bulk writes, without for one record."""
    lines = []
    for error in errors[:MAX_LISTED]:
        where = [] if single or error.get("row") is None else [f"row {error['row'] + 1}"]
        if error.get("field"):
            where.append(f"field {error['field']!r}")
        lines.append(f"{', '.join(where)}: {error['message']}" if where else error["message"])
    if len(errors) > MAX_LISTED:
        lines.append(f"... and {len(errors) - MAX_LISTED} more")
    if single and len(lines) == 1:
        text = errors[0]["message"]
        message = text if entity in text else f"{entity}: {text}"
    else:
        message = f"{entity}: {len(errors)} problem(s), nothing was written:\n  " + "\n  ".join(lines)
    fields = {error.get("field") for error in errors}
    return kind(message, errors=errors, field=fields.pop() if len(fields) == 1 else None)


__all__ = [
    "DuplicateKey",
    "EntityDefinitionError",
    "EntityError",
    "EntityValidationError",
    "RecordNotFound",
    "SchemaChangeError",
    "UnknownEntity",
]
