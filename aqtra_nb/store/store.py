"""The Store: one session factory over the run database, shared by everything that records or reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ..errors import AqtraError, NotFound
from ..spec import FlowSpec
from ..spec.digest import content_hash
from .database import StoreError, default_url, make_engine, migrate, safe_url
from .models import FlowVersion, Run, RunLineage, StepRun


class Store:
    """Opens (and migrates) the database at `url` (default: the settings' database).

    `url` may name environment variables (`postgresql+psycopg://aqtra:${env:PGPASSWORD}@db/aqtra`), so that
    a password is not written into `jupyter_server_config.py`; they are read when the engine is made, and
    `url` keeps the reference (it is what run processes are given). `${secret:…}` cannot be used here: the
    secret store lives in this database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, upgrade: bool = True) -> None:
        self.url = url or (str(engine.url) if engine is not None else default_url())
        self.engine = engine or make_engine(_resolved(self.url))
        if upgrade:
            migrate(self.engine)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        # Plain reads on a database server need no transaction: PostgreSQL's default (read committed)
        # gives each statement its own snapshot either way, and a transaction costs two more round trips
        # (BEGIN, and the pool's ROLLBACK when the connection goes back). SQLite begins none for reads.
        self._reads = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

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

    def run_page(
        self,
        *,
        name: str | None = None,
        job: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of runs newest first as plain records (with their steps), and how many match in all.

        Core queries, not ORM objects: this answers the API's busiest route, where building mapped
        instances cost three times the queries themselves."""
        from .job_models import Job

        conditions = []
        if name:
            conditions.append(Run.name == name)
        if status:
            conditions.append(Run.status == status)
        if job:
            conditions.append(Run.job_id.in_(select(Job.id).where(Job.name == job)))
        query = select(*RUN_COLUMNS).where(*conditions).order_by(Run.started_at.desc(), Run.id)
        with self._reads.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(Run).where(*conditions)) or 0
            runs = [dict(row._mapping) for row in connection.execute(query.offset(offset).limit(limit))]
            _attach_steps(connection, runs)
        return runs, int(total)

    def run_record(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique id prefix as a plain record with its steps (see `run_page`). A whole
        id (what the API is asked most) is one statement built once, the run joined with its steps:
        building statements per call, and SQLAlchemy adapting its cached compilation to each new one,
        took three quarters of a 0.5 ms read, and on a database server each statement is a round trip."""
        with self._reads.connect() as connection:
            rows = connection.execute(_RUN_WITH_STEPS, {"id": run_id}).all()
            if not rows:
                found = by_id_prefix(
                    connection, select(Run.id), Run.id, run_id, what="run", missing=_no_run(run_id)
                )
                rows = connection.execute(_RUN_WITH_STEPS, {"id": found.id}).all()
        first = rows[0]._mapping
        record = {name: first[name] for name in _RUN_NAMES}
        record["parameters"] = record["parameters"] or {}
        record["steps"] = [
            {name: row._mapping[f"step_{name}"] for name in _STEP_NAMES}
            for row in rows
            if row._mapping["step_step"] is not None
        ]
        return record

    def run_lineage(self, run_id: str) -> dict[str, Any]:
        """{"run_id", "name", "status", "lineage"} of one run by id or unique prefix; `lineage` is None
        for runs recorded before lineage was kept (migration 0006) or that failed before they started."""
        columns = (Run.id, Run.name, Run.status, RunLineage.document)
        query = select(*columns).outerjoin(RunLineage, RunLineage.run_id == Run.id)
        with self._reads.connect() as connection:
            row = by_id_prefix(connection, query, Run.id, run_id, what="run", missing=_no_run(run_id))
        return {"run_id": row.id, "name": row.name, "status": row.status, "lineage": row.document}

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
                missing=_no_run(run_id),
            )


def _no_run(run_id: str) -> str:
    return f"no run with id {run_id!r}; `aqtra-nb runs list` shows recent runs"


RUN_COLUMNS = (
    Run.id, Run.kind, Run.name, Run.status, Run.parameters, Run.job_id, Run.attempt, Run.queued_at,
    Run.started_at, Run.finished_at, Run.seconds, Run.error, Run.created_by, Run.parent_run_id,
)  # fmt: skip
STEP_COLUMNS = (
    StepRun.run_id, StepRun.step_id.label("step"), StepRun.component, StepRun.status, StepRun.rows,
    StepRun.seconds, StepRun.error, StepRun.cached,
)  # fmt: skip


# One run and its steps in one statement (one round trip to a database server), built once.
_RUN_NAMES = [column.key for column in RUN_COLUMNS]
_STEP_NAMES = [column.key for column in STEP_COLUMNS[1:]]
_RUN_WITH_STEPS = (
    select(*RUN_COLUMNS, *(column.label(f"step_{column.key}") for column in STEP_COLUMNS[1:]))
    .select_from(Run)
    .outerjoin(StepRun, StepRun.run_id == Run.id)
    .where(Run.id == bindparam("id"))
    .order_by(StepRun.id)
)


def _attach_steps(connection: Any, runs: list[dict[str, Any]]) -> None:
    """Each run record's `steps`, in the order they were recorded, with one query for all of them."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        run["parameters"] = run["parameters"] or {}
        run["steps"] = by_id.setdefault(run["id"], [])
    if not by_id:
        return
    query = select(*STEP_COLUMNS).where(StepRun.run_id.in_(list(by_id))).order_by(StepRun.id)
    for row in connection.execute(query):
        step = dict(row._mapping)
        by_id[step.pop("run_id")].append(step)


def by_id_prefix(
    source: Session | Connection,
    query: Select[Any],
    id_column: Any,
    prefix: str,
    *,
    what: str,
    missing: str,
    error: type[AqtraError] = NotFound,
) -> Any:
    """The one row of `query` whose id starts with `prefix` (users type short ids, like git's); `error`
    with `missing` when none does, and naming `what` when the prefix is ambiguous. From a session, the
    row is `query`'s ORM object; from a connection, its Core row."""

    def fetch(statement: Select[Any]) -> Sequence[Any]:
        if isinstance(source, Session):
            return source.scalars(statement).all()
        return source.execute(statement).all()

    exact = fetch(query.where(id_column == prefix).limit(1))  # an index lookup; LIKE scans
    if exact:
        return exact[0]
    found = fetch(query.where(id_column.startswith(prefix, autoescape=True)).limit(2))
    if not found:
        raise error(missing)
    if len(found) > 1:
        raise error(f"{what} id prefix {prefix!r} is ambiguous; give more characters")
    return found[0]


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready parameter values (dates as ISO strings)."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}


__all__: Sequence[str] = ["Store", "by_id_prefix", "content_hash", "plain"]


def _resolved(url: str) -> str:
    """The store's URL with its `${env:NAME}` references read (percent-encoded in the user and password)."""
    from ..secrets import REFERENCE, SecretError, resolve_url

    if not REFERENCE.search(url):
        return url
    where = "the store's database URL (AqtraNb.database_url / AQTRA_DATABASE_URL): "
    if "${secret:" in url:
        raise StoreError(f"{where}use ${{env:NAME}}; ${{secret:NAME}} is kept in the store itself")
    try:
        return resolve_url(url, None, where=where)
    except SecretError as exc:
        raise StoreError(exc.message) from None
