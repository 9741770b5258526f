"""The Store: one session factory over the run database, shared by everything that records or reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..errors import AqtraError, NotFound
from ..spec import FlowSpec
from .database import default_url, make_engine, migrate, safe_url
from .models import FlowVersion, Run

T = TypeVar("T")


class Store:
    """Opens (and migrates) the database at `url` (default: the settings' database)."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, upgrade: bool = True) -> None:
        self.url = url or (str(engine.url) if engine is not None else default_url())
        self.engine = engine or make_engine(self.url)
        if upgrade:
            migrate(self.engine)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- flows ---------------------------------------------------------------------------------------
    def save_flow(self, spec: FlowSpec) -> FlowVersion:
        """Store this version of a flow unless the same content is stored already."""
        document = spec.to_document()
        digest = content_hash(document)
        with self.session.begin() as session:
            found = session.scalar(
                select(FlowVersion).where(FlowVersion.name == spec.flow, FlowVersion.content_hash == digest)
            )
            if found is None:
                found = FlowVersion(
                    name=spec.flow, content_hash=digest, document=document, source=spec.source
                )
                session.add(found)
                session.flush()
            return found

    def flow_versions(self, name: str) -> list[FlowVersion]:
        with self.session() as session:
            query = select(FlowVersion).where(FlowVersion.name == name).order_by(FlowVersion.id)
            return list(session.scalars(query))

    # -- runs ----------------------------------------------------------------------------------------
    def runs(self, *, name: str | None = None, status: str | None = None, limit: int = 50) -> list[Run]:
        """Newest first."""
        query = select(Run).options(selectinload(Run.steps)).order_by(Run.started_at.desc()).limit(limit)
        if name:
            query = query.where(Run.name == name)
        if status:
            query = query.where(Run.status == status)
        with self.session() as session:
            return list(session.scalars(query))

    def run(self, run_id: str) -> Run:
        """A run by id or unique id prefix, with its steps and artifacts."""
        with self.session() as session:
            return by_id_prefix(
                session,
                select(Run).options(
                    selectinload(Run.steps), selectinload(Run.artifacts), selectinload(Run.flow)
                ),
                Run.id,
                run_id,
                what="run",
                missing=f"no run with id {run_id!r}; `aqtra-nb runs list` shows recent runs",
            )


def by_id_prefix(
    session: Session,
    query: Select[tuple[T]],
    id_column: Any,
    prefix: str,
    *,
    what: str,
    missing: str,
    error: type[AqtraError] = NotFound,
) -> T:
    """The one row of `query` whose id starts with `prefix` (users type short ids, like git's); `error`
    with `missing` when none does, and naming `what` when the prefix is ambiguous."""
    found = list(session.scalars(query.where(id_column.startswith(prefix, autoescape=True)).limit(2)))
    if not found:
        raise error(missing)
    if len(found) > 1:
        raise error(f"{what} id prefix {prefix!r} is ambiguous; give more characters")
    return found[0]


def content_hash(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready parameter values (dates as ISO strings)."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


__all__: Sequence[str] = ["Store", "by_id_prefix", "content_hash", "plain"]
