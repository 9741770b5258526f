"""Entities: the data models of apps built on aqtra-nb, declared as pydantic classes and kept in the store.

```python
from aqtra_nb.entities import Entity, PrimaryKey, Reference

class Supplier(Entity):
    code: PrimaryKey[str]
    name: str
```
"""

from .errors import (
    DuplicateKey,
    EntityDefinitionError,
    EntityError,
    EntityValidationError,
    RecordNotFound,
    SchemaChangeError,
    UnknownEntity,
)
from .fields import FieldSpec, File, PrimaryKey, Reference, Uri
from .model import Entity, bind_entity, column_kinds, drop_field
from .records import WriteResult, acting_as, current_user
from .registry import ENTRY_POINT_GROUP, EntityRegistry, registry

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
