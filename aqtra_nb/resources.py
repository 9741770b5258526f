"""Resources: the store, secrets and named connections of one process, made once at its edge.

An edge (a CLI command, the scheduler, the Jupyter server extension, a notebook's first run, a run
process) builds a `Resources` from its settings and installs it (`use`, or `install` for the whole
process); code below takes what it needs from the resources it is given, or from `current()`, which
falls back to resources built from the environment. Nothing here is a module global that inner code
reaches up for: the contextvar is set by the edge and read by the layers under it, as Dagster hands
resources to ops and Hamilton's builder hands adapters to nodes.

Only settings are imported at module level: the store (SQLAlchemy, Alembic) loads when first used.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import AqtraNb, environment_key

if TYPE_CHECKING:
    from .connections import Connections
    from .engine.cache import StepCache
    from .secrets import SecretStore
    from .store import Store


class Resources:
    """What runs, jobs, workflows, entities and the server share: settings, one store, its secrets."""

    def __init__(self, settings: AqtraNb | None = None, *, store: Store | None = None) -> None:
        self.settings = settings or AqtraNb()
        self._store = store
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        from .store.database import safe_url

        return f"Resources({safe_url(self.store_url)!r})"

    @property
    def store_url(self) -> str:
        return self._store.url if self._store is not None else self.settings.store_url

    @property
    def store(self) -> Store:
        """The store (opened and migrated on first use, once per URL and process)."""
        with self._lock:
            if self._store is None:
                self._store = _open_store(self.settings.store_url, self.settings.home)
            return self._store

    @functools.cached_property
    def secrets(self) -> SecretStore:
        from .secrets import SecretStore

        return SecretStore(self.store, self.settings.home_path)

    def connections(self, folder: Path | None = None) -> Connections:
        """Named connections as seen from `folder` (its `aqtra.yaml` or a parent's), then the store's."""
        from .connections import Connections

        return Connections(folder, store=self)  # the store opens when a stored connection is looked up

    def runs_dir(self) -> Path:
        return self.settings.home_path / "runs"

    def step_cache(self) -> StepCache | None:
        """The step cache under HOME/cache (one per folder and process), or None when it is turned off."""
        limit = self.settings.cache_limit
        if limit <= 0:
            return None
        from .engine.cache import step_cache

        return step_cache(str(self.settings.home_path / "cache"), limit, self.settings.cache_min_seconds)


@functools.lru_cache(maxsize=8)
def _open_store(url: str, home: str) -> Store:
    from .store import Store

    if url.startswith("sqlite:///") and url.endswith("/aqtra.db"):
        from .private_files import private_folder

        private_folder(Path(home).expanduser())
    return Store(url)


_CURRENT: contextvars.ContextVar[Resources | None] = contextvars.ContextVar("aqtra_resources", default=None)
_PROCESS: list[Resources] = []  # what `install` set for the whole process (threads start without context)


def current() -> Resources:
    """The resources of the running edge; without one, resources from the environment's settings."""
    found = _CURRENT.get()
    if found is not None:
        return found
    if _PROCESS:
        return _PROCESS[-1]
    return _from_environment(environment_key())


@functools.lru_cache(maxsize=8)
def _from_environment(key: tuple[str | None, ...]) -> Resources:
    # Keyed by the AQTRA_* variables: a test (or a notebook) that changes one gets what it names.
    return Resources(AqtraNb())


@contextlib.contextmanager
def use(resources: Resources) -> Iterator[Resources]:
    """Make `resources` current within the block (this thread and tasks started from it)."""
    token = _CURRENT.set(resources)
    try:
        yield resources
    finally:
        _CURRENT.reset(token)


def install(resources: Resources) -> Resources:
    """Make `resources` current for the whole process (a server, a scheduler, a run process)."""
    _PROCESS.append(resources)
    return resources


def store_or_current(store: Any = None) -> Store:
    """`store` when given (a Store, or Resources), else the current resources' store."""
    if store is None:
        return current().store
    if isinstance(store, Resources):
        return store.store
    return store
