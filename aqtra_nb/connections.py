"""Named connections (SQL, files, HTTP) from `aqtra.yaml` in the project folder or from the store.

Specs hold references (`${env:NAME}`, `${secret:NAME}`), never secret values: a password written into a
URL is refused. References are resolved only when a connection is used.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from .errors import AqtraError, did_you_mean
from .resources import Resources, store_or_current
from .secrets import REFERENCE, SecretStore, redact, resolve_references, resolve_url
from .spec.io import FlowLoader
from .spec.models import SpecModel

if TYPE_CHECKING:  # SQLAlchemy is imported when a sql connection is used: file and HTTP flows do without it
    from sqlalchemy import Engine

CONFIG_FILE = "aqtra.yaml"


class ConnectorError(AqtraError):
    """A connection is unknown, badly specified, or cannot be opened."""


class ConnectionSpec(SpecModel):
    """One named connection. `options` pass through to the driver (SQLAlchemy connect_args such as
    `sslmode`, fsspec storage options, HTTP timeout)."""

    kind: Literal["sql", "files", "http", "smtp"] = Field(
        description="sql, files, http or smtp (a mail server for notifications, `aqtra_nb.notify`)."
    )
    url: str | None = Field(default=None, description="SQLAlchemy URL (sql), fsspec URL or folder (files).")
    base_url: str | None = Field(default=None, description="Base URL (http).")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP headers; may reference secrets.")
    auth: dict[str, str] | None = Field(
        default=None, description="HTTP basic auth {username, password} or {token}."
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Driver options.")
    description: str = ""

    @model_validator(mode="after")
    def _complete_and_no_inline_secrets(self) -> ConnectionSpec:
        if self.kind in ("sql", "files", "smtp") and not self.url:
            raise ValueError(f"a {self.kind} connection needs `url`")
        if self.kind == "http" and not self.base_url:
            raise ValueError("an http connection needs `base_url`")
        if self.kind == "sql" and self.url:
            check_url_password(self.url)
        for url in (self.url if self.kind != "sql" else None, self.base_url):
            if url:
                check_url_userinfo(url)
        for name, value in self.headers.items():
            if SENSITIVE_HEADER.search(name) and not REFERENCE.search(value):
                raise ValueError(
                    f"header {name!r} holds a credential in clear; write it with a reference, "
                    "e.g. 'Bearer ${secret:NAME}'"
                )
        for name, value in self.options.items():
            if isinstance(value, str) and SENSITIVE_OPTION.search(name) and not REFERENCE.search(value):
                raise ValueError(
                    f"option {name!r} holds a credential in clear; write ${{secret:NAME}} or ${{env:NAME}}"
                )
        if self.auth and self.auth.get("password") and not REFERENCE.fullmatch(self.auth["password"]):
            raise ValueError("write the password as ${secret:NAME} or ${env:NAME}, not in clear")
        if self.auth and self.auth.get("token") and not REFERENCE.fullmatch(self.auth["token"]):
            raise ValueError("write the token as ${secret:NAME} or ${env:NAME}, not in clear")
        return self


# Names of HTTP headers and driver options whose values are credentials: never in clear in a spec.
SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|password|api[-_]?key", re.IGNORECASE)
SENSITIVE_OPTION = re.compile(r"password|passwd|secret|token|credential", re.IGNORECASE)


def check_url_userinfo(url: str) -> None:
    """Refuse an http/fsspec URL with a password in clear (`https://user:pw@host`); a reference is fine."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return  # a folder, or one reference as a whole: nothing to check
    # Not urlsplit: a password in clear may hold '/', which ends urlsplit's host part before the '@'.
    rest = re.split(r"[?#]", url[scheme_end + 3 :], maxsplit=1)[0]
    userinfo = rest[: max(rest.rfind("@"), 0)]
    user, colon, password = userinfo.partition(":")
    if not colon or "/" in user or re.fullmatch(r"\d+(/.*)?", password, re.DOTALL):
        return  # no password; an '@' in the path; or host:port/path@...
    if REFERENCE.sub("", password):
        raise ValueError("the URL holds a password in clear; write it as ${secret:NAME} or ${env:NAME}")


def check_url_password(url: str) -> None:
    """Refuse a SQL URL with a password in clear. A URL that is one reference (`${env:DATABASE_URL}`) is
    resolved only when used, so it cannot be checked here and is allowed."""
    if REFERENCE.fullmatch(url.strip()):
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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
            # The user's own database: no store tuning (a SQLite file keeps its journal mode).
            _ENGINES[key] = make_engine(url, connect_args=dict(options), tuned=False)
        return _ENGINES[key]


class Connections:
    """Looks connections up by name: `aqtra.yaml` in the project folder first, then the store."""

    def __init__(self, folder: Path | None = None, store: Any = None) -> None:
        self.folder = folder or Path.cwd()
        self._store = store
        self._resources = store if isinstance(store, Resources) else None

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
                specs[str(name)] = _rebase(ConnectionSpec.model_validate(value), path.parent)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ConnectorError(
                    first["msg"].removeprefix("Value error, "),
                    file=str(path),
                    field=f"connections.{name}" + (f".{where}" if where else ""),
                ) from None
        return specs

    @property
    def store(self) -> Any:
        """The store (or resources) given, else the current resources' store: in a Dask worker, the one its
        own settings name (tasks carry connection names, never a store or secrets)."""
        if self._store is None or isinstance(self._store, Resources):
            self._store = store_or_current(self._store)
        return self._store

    def _secrets(self) -> SecretStore:
        return self._resources.secrets if self._resources is not None else SecretStore(self.store)

    def stored_specs(self) -> dict[str, ConnectionSpec]:
        from sqlalchemy import select

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
        secrets = self._secrets() if _needs_secrets(spec) else None
        where = f"connection {name!r}: "
        resolved = {
            "url": resolve_url(spec.url, secrets, where=where) if spec.url else None,
            "base_url": resolve_url(spec.base_url, secrets, where=where) if spec.base_url else None,
            # Environment values in headers, auth and credential-named options are redacted from
            # messages and logs like secrets (`secrets.redact`).
            "headers": {
                k: resolve_references(v, secrets, where=where, credential=True)
                for k, v in spec.headers.items()
            },
            "auth": {
                k: resolve_references(v, secrets, where=where, credential=True)
                for k, v in (spec.auth or {}).items()
            },
            "options": {
                k: resolve_references(v, secrets, where=where, credential=bool(SENSITIVE_OPTION.search(k)))
                if isinstance(v, str)
                else v
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
        from .store.orm import affected_rows

        with self.store.session.begin() as session:
            removed = session.execute(delete(StoredConnection).where(StoredConnection.name == name))
            return affected_rows(removed) > 0


#: What a connection of each kind needs, for messages about a connection of the wrong kind.
KIND_HINTS = {
    "sql": "kind: sql, url: <SQLAlchemy URL>",
    "files": "kind: files, url: <folder or fsspec URL>",
    "http": "kind: http, base_url: ...",
    "smtp": "kind: smtp, url: smtp://...",
}


class ConnectionHandle:
    """A connection as a step's tasks carry it: the connection's name (or a URL, a path) and the step's own
    arguments, never resolved secrets. Resolved on first use in the process that uses it, so a Dask worker
    resolves it from its own settings and store; pickles without what it resolved (attributes named `_x`);
    its Dask token covers every argument, so two handles are the same task input only when they are equal.

    Subclasses implement `_resolve()` (what `resolve()` returns and keeps) and set `target`, the field that
    names where to connect when there is no named connection.
    """

    target: ClassVar[str] = "url"
    _resolved: Any = None

    def __init__(
        self,
        base_dir: Path | str,
        connection: str | None,
        *,
        step_id: str | None = None,
        source: str | None = None,
    ) -> None:
        self.base_dir, self.connection = str(base_dir), connection
        self.step_id, self.source = step_id, source

    @property
    def field(self) -> str:
        """The step's field that says where to connect."""
        return "connection" if self.connection else self.target

    def error(self, message: str, field: str | None = None) -> AqtraError:
        """An error at this step (secrets scrubbed from the message), at `field` or where to connect."""
        return AqtraError(redact(message), file=self.source, step=self.step_id, field=field or self.field)

    def connections(self) -> Connections:
        return Connections(Path(self.base_dir))

    def lookup(self, kind: str, name: str | None = None) -> Connection:
        """The named connection, resolved and checked to be of `kind`; errors at field `connection`."""
        name = name or self.connection or ""
        try:
            found = self.connections().get(name)
            if found.spec.kind != kind:
                article = "an" if kind[0] in "aeiou" else "a"
                raise ConnectorError(
                    f"connection {name!r} is a {found.spec.kind} connection; this step needs {article} "
                    f"{kind} connection ({KIND_HINTS[kind]})"
                )
        except AqtraError as exc:
            raise exc.at(file=self.source, step=self.step_id, field="connection") from None
        return found

    def resolve(self) -> Any:
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    def _resolve(self) -> Any:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        from dask.base import normalize_token

        return (type(self).__module__, type(self).__qualname__, normalize_token(self.__getstate__()))


def _rebase(spec: ConnectionSpec, folder: Path) -> ConnectionSpec:
    """Relative paths in `aqtra.yaml` (a SQLite file, a files folder) mean relative to that file's
    folder, not to wherever the process happens to run."""
    url = spec.url
    if not url or "${" in url:
        return spec
    if spec.kind == "files" and "://" not in url and not Path(url).is_absolute():
        return spec.model_copy(update={"url": str(folder / url)})
    if spec.kind == "sql" and url.startswith("sqlite"):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError:  # reported when the connection is opened
            return spec
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            if not Path(database).is_absolute():
                rebased = parsed.set(database=str(folder / database))
                return spec.model_copy(update={"url": rebased.render_as_string(hide_password=False)})
    return spec


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
