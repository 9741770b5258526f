"""The component registry, filled from the `aqtra_nb.components` entry-point group (built-ins included)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from ..errors import AqtraError, UnknownComponent, did_you_mean
from .base import Component

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aqtra_nb.components"
BUILTIN_ENTRY_POINT = "aqtra_nb.components.library:BUILTINS"


class ComponentRegistry:
    """Components by name. Entry points are loaded on first lookup; `register` adds one directly."""

    def __init__(self) -> None:
        self._components: dict[str, type[Component]] = {}
        self._loaded = False

    def register(self, component: type[Component], *, replace: bool = False) -> type[Component]:
        """Add a component class (usable as a decorator). Names must be unique unless `replace`."""
        if not (isinstance(component, type) and issubclass(component, Component)) or not component.name:
            raise AqtraError(f"{component!r} is not a Component subclass with a `name`")
        existing = self._components.get(component.name)
        if existing is not None and existing is not component and not replace:
            raise AqtraError(
                f"component name {component.name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        self._components[component.name] = component
        return component

    def get(self, name: str) -> type[Component]:
        self._ensure_loaded()
        try:
            return self._components[name]
        except KeyError:
            hint = did_you_mean(name, self._components)
            raise UnknownComponent(
                f"unknown component {name!r}.{hint} Run `aqtra-nb components` to list them."
            ) from None

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._components)

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._components

    def __iter__(self) -> Iterator[type[Component]]:
        self._ensure_loaded()
        return iter([self._components[n] for n in sorted(self._components)])

    def reload(self) -> None:
        """Forget entry-point components and load them again (after installing a plug-in)."""
        self._components.clear()
        self._loaded = False
        self._ensure_loaded()

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        found = list(entry_points(group=ENTRY_POINT_GROUP))
        if not any(ep.value == BUILTIN_ENTRY_POINT for ep in found):
            # Running from a source tree without installed metadata: load the built-ins the same way.
            logger.debug("built-in components entry point not installed; loading %s", BUILTIN_ENTRY_POINT)
            self._add_all(_load_value(BUILTIN_ENTRY_POINT), BUILTIN_ENTRY_POINT)
        for ep in found:
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken plug-in must not break the product
                if ep.value == BUILTIN_ENTRY_POINT:
                    raise
                logger.warning("cannot load component entry point %s = %s: %s", ep.name, ep.value, exc)
                continue
            self._add_all(loaded, ep.value)

    def _add_all(self, loaded: object, origin: str) -> None:
        items: Iterable[object] = loaded if isinstance(loaded, list | tuple) else [loaded]
        for item in items:
            try:
                self.register(item, replace=False)  # type: ignore[arg-type]
            except AqtraError as exc:
                logger.warning("entry point %s: %s", origin, exc)


def _load_value(value: str) -> object:
    module, _, attr = value.partition(":")
    return getattr(importlib.import_module(module), attr)


registry = ComponentRegistry()
