"""Named connections (SQL, files, HTTP) from `aqtra.yaml` in the project folder or from the store.

Specs hold references (`${env:NAME}`, `${secret:NAME}`), never secret values: a password written into a
URL is refused. References are resolved only when a connection is used.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .errors import AqtraError, did_you_mean
from .secrets import REFERENCE, SecretStore, resolve_references
from .spec.io import FlowLoader
from .spec.models import SpecModel

CONFIG_FILE = "aqtra.yaml"


class ConnectorError(AqtraError):
    """A connection is unknown, badly specified, or cannot be opened."""


class ConnectionSpec(SpecModel):
    """One named connection. `options` pass through to the driver (SQLAlchemy connect_args such as
    `sslmode`, fsspec storage options, HTTP timeout)."""

    kind: Literal["sql", "files", "http"] = Field(description="sql, files or http.")
    url: str | None = Field(None, description="SQLAlchemy URL (sql), fsspec URL or folder (files).")
    base_url: str | None = Field(None, description="Base URL (http).")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers; may reference secrets.")
    auth: dict[str, str] | None = Field(None, description="HTTP basic auth {username, password} or {token}.")
    options: dict[str, Any] = Field(default_factory=dict, description="Driver options.")
    description: str = ""

    @model_validator(mode="after")
    def _complete_and_no_inline_secrets(self) -> ConnectionSpec:
        if self.kind in ("sql", "files") and not self.url:
            raise ValueError(f"a {self.kind} connection needs `url`")
        if self.kind == "http" and not self.base_url:
            raise ValueError("an http connection needs `base_url`")
        if self.kind == "sql" and self.url:
            _check_url_password(self.url)
        if self.auth and self.auth.get("password") and not REFERENCE.fullmatch(self.auth["password"]):
            raise ValueError("write the password as ${secret:NAME} or ${env:NAME}, not in clear")
        if self.auth and self.auth.get("token") and not REFERENCE.fullmatch(self.auth["token"]):
            raise ValueError("write the token as ${secret:NAME} or ${env:NAME}, not in clear")
        return self


def _check_url_password(url: str) -> None:
    """Refuse a SQL URL with a password in clear. A URL that is one reference (`${env:DATABASE_URL}`) is
    resolved only when used, so it cannot be checked here and is allowed."""
    if REFERENCE.fullmatch(url.strip()):
        return
    masked = REFERENCE.sub("REFERENCE", url)
    try:
        password = make_url(masked).password
    except ArgumentError:
        raise ValueError(f"not a database URL: {masked!r}") from None
    if password is not None and password != "REFERENCE":
        raise ValueError("the URL holds a password in clear; write it as ${secret:NAME} or ${env:NAME}")


@dataclass
class Connection:
    """A connection with its references resolved, ready to open."""

    name: str
    spec: ConnectionSpec
    resolved: dict[str, Any] = field(repr=False)

    def engine(self) -> Engine:
        if self.spec.kind != "sql":
            raise ConnectorError(f"connection {self.name!r} is a {self.spec.kind} connection, not sql")
        return _engine(self.resolved["url"], self.resolved["options"])

    def filesystem(self) -> tuple[Any, str]:
        """(fsspec filesystem, root path) of a files connection."""
        import fsspec

        if self.spec.kind != "files":
            raise ConnectorError(f"connection {self.name!r} is a {self.spec.kind} connection, not files")
        fs, root = fsspec.core.url_to_fs(self.resolved["url"], **self.resolved["options"])
        return fs, root


_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _engine(url: str, options: Mapping[str, Any]) -> Engine:
    """One pooled engine per resolved URL and driver options in this process."""
    from .store.database import make_engine

    key = json.dumps([url, options], sort_keys=True, default=str)
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = make_engine(url, connect_args=dict(options))
        return _ENGINES[key]


class Connections:
    """Looks connections up by name: `aqtra.yaml` in the project folder first, then the store."""

    def __init__(self, folder: Path | None = None, store: Any = None) -> None:
        self.folder = folder or Path.cwd()
        self._store = store

    @functools.cached_property
    def file_specs(self) -> dict[str, ConnectionSpec]:
        path = find_config(self.folder)
        if path is None:
            return {}
        try:
            document = yaml.load(path.read_text(), Loader=FlowLoader) or {}  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            raise ConnectorError(f"not valid YAML: {exc}", file=str(path)) from None
        raw = document.get("connections", {}) if isinstance(document, dict) else None
        if not isinstance(raw, dict):
            raise ConnectorError("`connections` must be a mapping of names to connections", file=str(path))
        specs = {}
        for name, value in raw.items():
            try:
                specs[str(name)] = ConnectionSpec.model_validate(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ConnectorError(
                    first["msg"], file=str(path), field=f"connections.{name}" + (f".{where}" if where else "")
                ) from None
        return specs

    @property
    def store(self) -> Any:
        if self._store is None:
            from .runs import default_store

            self._store = default_store()
        return self._store

    def stored_specs(self) -> dict[str, ConnectionSpec]:
        from .store.models import StoredConnection

        with self.store.session() as session:
            rows = list(session.scalars(select(StoredConnection)))
        return {row.name: ConnectionSpec.model_validate(row.spec) for row in rows}

    def names(self) -> list[str]:
        return sorted(set(self.file_specs) | set(self.stored_specs()))

    def spec(self, name: str) -> ConnectionSpec:
        if name in self.file_specs:
            return self.file_specs[name]
        stored = self.stored_specs()
        if name in stored:
            return stored[name]
        known = sorted(set(self.file_specs) | set(stored))
        raise ConnectorError(
            f"unknown connection {name!r}.{did_you_mean(name, known)} Known: "
            f"{', '.join(known) or 'none'} (define it in {CONFIG_FILE} or with "
            "`aqtra-nb connections add`)"
        )

    def get(self, name: str) -> Connection:
        return self._resolve(name, self.spec(name))

    def from_url(self, url: str, options: Mapping[str, Any] | None = None) -> Connection:
        """An unnamed sql connection from a URL, checked like a named one: references are allowed
        (`${secret:NAME}`, `${env:NAME}`), a password in clear is refused."""
        try:
            spec = ConnectionSpec(kind="sql", url=url, options=dict(options or {}))
        except ValidationError as exc:
            raise ConnectorError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self._resolve("url", spec)

    def _resolve(self, name: str, spec: ConnectionSpec) -> Connection:
        secrets = SecretStore(self.store) if _needs_secrets(spec) else None
        where = f"connection {name!r}: "
        resolved = {
            "url": resolve_references(spec.url, secrets, where=where) if spec.url else None,
            "base_url": resolve_references(spec.base_url, secrets, where=where) if spec.base_url else None,
            "headers": {k: resolve_references(v, secrets, where=where) for k, v in spec.headers.items()},
            "auth": {k: resolve_references(v, secrets, where=where) for k, v in (spec.auth or {}).items()},
            "options": {
                k: resolve_references(v, secrets, where=where) if isinstance(v, str) else v
                for k, v in spec.options.items()
            },
        }
        return Connection(name, spec, resolved)

    def add(self, name: str, spec: ConnectionSpec | Mapping[str, Any]) -> None:
        """Save a connection in the store (specs hold references only, never secret values)."""
        from .store.models import StoredConnection

        spec = spec if isinstance(spec, ConnectionSpec) else ConnectionSpec.model_validate(spec)
        document = spec.model_dump(exclude_defaults=True)
        with self.store.session.begin() as session:
            found = session.get(StoredConnection, name)
            if found is None:
                session.add(StoredConnection(name=name, spec=document))
            else:
                found.spec = document

    def remove(self, name: str) -> bool:
        from sqlalchemy import delete

        from .store.models import StoredConnection

        with self.store.session.begin() as session:
            return session.execute(delete(StoredConnection).where(StoredConnection.name == name)).rowcount > 0


def _needs_secrets(spec: ConnectionSpec) -> bool:
    text = repr(spec.model_dump())
    return "${secret:" in text


def find_config(folder: Path) -> Path | None:
    """`aqtra.yaml` in `folder` or the nearest parent folder."""
    folder = folder.resolve()
    for candidate in [folder, *folder.parents]:
        path = candidate / CONFIG_FILE
        if path.is_file():
            return path
    return None
