"""The registry of declared entities: classes register when their module is imported; more are found through
the `aqtra_nb.entities` entry-point group, or named in a flow as `"package.module:ClassName"`."""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FlowValidationError, did_you_mean
from .fields import EntityDefinitionError

if TYPE_CHECKING:
    from .model import Entity

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aqtra_nb.entities"


class UnknownEntity(FlowValidationError):
    """No declared entity has this name."""


class EntityRegistry:
    """Entities by name. Declaring a subclass of `Entity` registers it; redefining a class (a notebook cell
    run again, a reloaded module) replaces it, but two different classes may not share a name."""

    def __init__(self) -> None:
        self._entities: dict[str, type[Entity]] = {}
        self._entry_points_loaded = False
        self._lock = threading.RLock()

    def register(self, cls: type[Entity]) -> type[Entity]:
        name = cls.entity_name
        with self._lock:
            existing = self._entities.get(name)
            if existing is not None and existing is not cls and _origin(existing) != _origin(cls):
                raise EntityDefinitionError(
                    f"entity name {name!r} is already declared by {_origin(existing)}; set entity_name = "
                    f"'...' on {_origin(cls)} to give it another name"
                )
            self._entities[name] = cls
        return cls

    def get(self, name: str) -> type[Entity]:
        """An entity by name, or by `"package.module:ClassName"` (the module is imported)."""
        if ":" in name:
            return self._import(name)
        with self._lock:
            if name not in self._entities:
                self._load_entry_points()
            if name in self._entities:
                return self._entities[name]
            known = sorted(self._entities)
        raise UnknownEntity(
            f"unknown entity {name!r}.{did_you_mean(name, known)} Known entities: {', '.join(known) or '(none)'}. "
            "Import the module that declares it, write it as 'package.module:ClassName' or "
            "'path/to/models.py:ClassName', or publish it "
            f"through the {ENTRY_POINT_GROUP!r} entry-point group."
        )

    def names(self) -> list[str]:
        with self._lock:
            self._load_entry_points()
            return sorted(self._entities)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._entities

    def __iter__(self) -> Iterator[type[Entity]]:
        return iter([self._entities[n] for n in self.names()])

    def _import(self, reference: str) -> type[Entity]:
        from .model import Entity

        module_name, _, attribute = reference.rpartition(":")
        if module_name.endswith(".py"):  # `path/to/models.py:Class`: the module is found beside the file
            module_name = _module_beside(Path(module_name), reference)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UnknownEntity(
                f"cannot import module {module_name!r} for entity {reference!r}: {exc}"
            ) from None
        found = getattr(module, attribute, None)
        if not (isinstance(found, type) and issubclass(found, Entity)):
            raise UnknownEntity(
                f"{reference!r} is not an Entity class (module {module_name!r} has no such class)"
            )
        return found

    def _load_entry_points(self) -> None:
        """Import every entry point of the group once; each names a module (or an attribute of one) whose
        import declares entities. A broken plug-in is logged, not fatal."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                point.load()
            except Exception as exc:
                logger.warning("cannot load entity entry point %s = %s: %s", point.name, point.value, exc)

    def forget_entry_points(self) -> None:
        """Look at the entry points again on the next miss (after installing a package)."""
        with self._lock:
            self._entry_points_loaded = False


def _module_beside(path: Path, reference: str) -> str:
    """The module name of a `.py` file, with its folder put on `sys.path` (so the module imported this way
    is the same one a workflow beside it imports by name)."""
    if not path.is_file():
        raise UnknownEntity(f"entity {reference!r}: file not found: {path}")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return path.stem


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


registry = EntityRegistry()
