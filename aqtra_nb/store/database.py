"""Opening the database: the URL from settings, SQLite pragmas, drivers loaded when used, migrations."""

from __future__ import annotations

import ast
import contextlib
import functools
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InvalidatePoolError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from ..errors import AqtraError
from ..private_files import private_file, private_folder
from ..settings import AqtraNb

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(AqtraError):
    """The store cannot be opened or used (bad URL, unreachable server, missing driver)."""


def default_url() -> str:
    """The settings' database URL (`AqtraNb.store_url`); the embedded SQLite file's folder is made here."""
    settings = AqtraNb()
    if not settings.database_url:
        private_folder(settings.home_path)
    return settings.store_url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def make_engine(url: str, connect_args: dict | None = None, *, tuned: bool = True) -> Engine:
    """An engine for `url`. `tuned` applies the store's SQLite settings (WAL, foreign keys); a user's own
    database opened through a connection is left as its owner configured it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {safe_url(url)!s} (expected e.g. sqlite:///file.db or "
            "postgresql+psycopg://user@host/db)"
        ) from None
    options: dict = {"connect_args": dict(connect_args or {})}
    # Connections are cheap to keep and dear to open (a file's WAL pragmas; a database server's new
    # backend process and authentication): keep one for every thread of a server (API pool, run
    # launcher, scheduler, change token) instead of closing QueuePool's overflow (beyond 5) after each
    # use. A process that uses fewer threads opens fewer: the pool opens connections when asked.
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        options["connect_args"].setdefault("timeout", 30)
    if not sqlite or parsed.database not in (None, "", ":memory:"):
        options.update(pool_size=20, max_overflow=20)
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        hint = ' pip install "aqtra-nb[postgres]"' if parsed.get_backend_name() == "postgresql" else ""
        raise StoreError(f"no database driver for {parsed.drivername!r}: {exc}.{hint}") from None
    if not sqlite:
        _ping_unless_just_used(engine)
    elif tuned:
        _private_database_file(parsed.database)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


#: a connection given back to the pool less than this long ago is not pinged when it is taken again
PING_AFTER_IDLE = 0.5
_USED = "aqtra_used_at"


def _ping_unless_just_used(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, skipped for a connection used within the last `PING_AFTER_IDLE`
    seconds (HikariCP's "alive bypass window"). Pinging every checkout is a round trip per read; on a
    busy API most checkouts take a connection given back a millisecond ago. A connection that died
    since (a database restart) is found by the next idle checkout; a read in between fails once and
    SQLAlchemy drops the pool's connections."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def fresh(dbapi_connection: Any, record: Any) -> None:
        record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def used(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if time.monotonic() - record.info.get(_USED, 0.0) < PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise InvalidatePoolError(f"connection lost: {err}") from err  # the pool reconnects
            raise


def _private_database_file(database: str | None) -> None:
    """The store's SQLite file is made 0600 before SQLite opens it; its -wal and -shm files take the
    file's mode. A missing folder is left for SQLite to report."""
    if database and database != ":memory:" and not database.startswith("file:"):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            private_file(Path(database))


def _sqlite_pragmas(connection, record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (Alembic); rows are kept across upgrades. The default, "heads",
    applies every branch: each package area (jobs, workflows) keeps its own chain of migrations.
    A database at the heads already is left alone without importing Alembic (0.1–0.2 s of every
    command that opens the store)."""
    if revision == "heads" and _at_heads(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise StoreError(f"cannot open the database {safe_url(str(engine.url))}: {exc.orig}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database {safe_url(str(engine.url))}: {exc}") from None


def _at_heads(engine: Engine) -> bool:
    """Whether the database's `alembic_version` rows are exactly the migrations' heads (False when it
    cannot say, e.g. no table yet: Alembic then decides)."""
    heads = _heads()
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database {safe_url(str(engine.url))}: {exc.orig}") from None
    with connection:
        try:
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
        except SQLAlchemyError:
            return False
    return bool(heads) and current == heads


@functools.cache
def _heads() -> frozenset[str]:
    """The revisions no other migration revises, read from the files' `revision` and `down_revision`
    (empty, so that Alembic decides, when a file does not say)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):
                    values[target.id] = ast.literal_eval(value)
        if not isinstance(values.get("revision"), str):
            return frozenset()
        revisions.add(values["revision"])
        down = values.get("down_revision")
        revised.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - revised)
