"""Entities: the data models of apps built on aqtra-nb, declared as pydantic classes and kept in the store.

```python
from aqtra_nb.entities import Entity, PrimaryKey, Reference

class Supplier(Entity):
    code: PrimaryKey[str]
    name: str
```
"""

from typing import TYPE_CHECKING

from aqtra_nb.lazy import lazy_exports

from .fields import EntityDefinitionError, FieldSpec, File, PrimaryKey, Reference, Uri
from .registry import ENTRY_POINT_GROUP, EntityRegistry, UnknownEntity, registry

if TYPE_CHECKING:
    from .errors import DuplicateKey, EntityError, EntityValidationError, RecordNotFound, SchemaChangeError
    from .model import Entity, bind_entity, column_kinds, drop_field
    from .records import WriteResult, acting_as, current_user

# Loaded on first use: these modules import SQLAlchemy and the store, which `aqtra-nb --help` and the
# `records` command's parser do not need.
_LAZY = {
    "DuplicateKey": "errors",
    "EntityError": "errors",
    "EntityValidationError": "errors",
    "RecordNotFound": "errors",
    "SchemaChangeError": "errors",
    "Entity": "model",
    "bind_entity": "model",
    "column_kinds": "model",
    "drop_field": "model",
    "WriteResult": "records",
    "acting_as": "records",
    "current_user": "records",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = [
    "ENTRY_POINT_GROUP",
    "DuplicateKey",
    "Entity",
    "EntityDefinitionError",
    "EntityError",
    "EntityRegistry",
    "EntityValidationError",
    "FieldSpec",
    "File",
    "PrimaryKey",
    "RecordNotFound",
    "Reference",
    "SchemaChangeError",
    "UnknownEntity",
    "Uri",
    "WriteResult",
    "acting_as",
    "bind_entity",
    "column_kinds",
    "current_user",
    "drop_field",
    "registry",
]
