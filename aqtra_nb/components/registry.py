"""The component registry, filled from the `aqtra_nb.components` entry-point group (built-ins included).

Each built-in component has its own entry point, named as the component and pointing into its group's
module (`read_csv = "aqtra_nb.components.inputs:ReadCsv"`), as papermill names its engines. Looking a name
up loads only the entry points of that name, so planning a CSV flow imports the input and transform
modules and not the SQL, HTTP or entity ones (SQLAlchemy, the store). Listing every component, or a name
no entry point has (a plug-in may register several components under one entry point), loads them all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points

from ..errors import AqtraError, UnknownComponent, did_you_mean
from .base import Component

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "aqtra_nb.components"
BUILTIN_MODULE_PREFIX = "aqtra_nb.components."
BUILTIN_ENTRY_POINT = "aqtra_nb.components.library:BUILTINS"


class ComponentRegistry:
    """Components by name. Entry points are loaded when their name is looked up (all of them when the
    whole catalogue is asked for); `register` adds one directly."""

    def __init__(self) -> None:
        self._components: dict[str, type[Component]] = {}
        self._entry_points: list[EntryPoint] | None = None
        self._loaded_values: set[str] = set()
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
        found = self._find(name)
        if found is None:
            hint = did_you_mean(name, self._components)
            raise UnknownComponent(
                f"unknown component {name!r}.{hint} Run `aqtra-nb components` to list them."
            )
        return found

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._components)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[type[Component]]:
        self._ensure_loaded()
        return iter([self._components[n] for n in sorted(self._components)])

    def reload(self) -> None:
        """Forget entry-point components and load them again (after installing a plug-in)."""
        self._components.clear()
        self._entry_points = None
        self._loaded_values.clear()
        self._loaded = False
        self._ensure_loaded()

    def _find(self, name: str) -> type[Component] | None:
        """The component of this name: registered already, else from the entry points of that name,
        else from all entry points."""
        if name not in self._components and not self._loaded:
            for ep in self._discovered():
                if ep.name == name:
                    self._load(ep)
            if name not in self._components:
                self._ensure_loaded()
        return self._components.get(name)

    def _discovered(self) -> list[EntryPoint]:
        """The group's entry points, built-ins first (a plug-in cannot take a built-in's name)."""
        if self._entry_points is None:
            found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: not _is_builtin(ep))
            if not any(_is_builtin(ep) for ep in found):
                # Running from a source tree without installed metadata: load the built-ins the same way.
                logger.debug("built-in component entry points not installed; using %s", BUILTIN_ENTRY_POINT)
                found.insert(0, EntryPoint("builtins", BUILTIN_ENTRY_POINT, ENTRY_POINT_GROUP))
            self._entry_points = found
        return self._entry_points

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in self._discovered():
            self._load(ep)

    def _load(self, ep: EntryPoint) -> None:
        if ep.value in self._loaded_values:
            return
        self._loaded_values.add(ep.value)
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plug-in must not break the product
            if _is_builtin(ep):
                raise
            logger.warning("cannot load component entry point %s = %s: %s", ep.name, ep.value, exc)
            return
        self._add_all(loaded, ep.value)

    def _add_all(self, loaded: object, origin: str) -> None:
        items: Iterable[object] = loaded if isinstance(loaded, list | tuple) else [loaded]
        for item in items:
            try:
                self.register(item, replace=False)  # type: ignore[arg-type]
            except AqtraError as exc:
                logger.warning("entry point %s: %s", origin, exc)


def _is_builtin(ep: EntryPoint) -> bool:
    return ep.value.startswith(BUILTIN_MODULE_PREFIX)


registry = ComponentRegistry()
