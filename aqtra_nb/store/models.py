"""ORM models of the run store (SQLAlchemy 2, typed). Schema changes go through Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The tables of jobs and of workflows join the same metadata (each has its own migration branch).
from . import job_models, workflow_models  # noqa: F401
from .orm import Base, utcnow  # other modules import utcnow from here too


class FlowVersion(Base):
    """A saved version of a flow document; the same content is stored once (content hash)."""

    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("name", "content_hash", name="uq_flows_name_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """One run of a flow (later also of a job or notebook): parameters, status, times, error."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_name_started", "name", "started_at"),
        Index("uq_runs_job_scheduled_attempt", "job_id", "scheduled_for", "attempt", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="flow")
    name: Mapped[str] = mapped_column(String(200))
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id"))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    # Job runs (migration 0003_jobs): which job and due time, the attempt, who runs it, its heartbeat.
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)
    scheduled_for: Mapped[dt.datetime | None]
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    queued_at: Mapped[dt.datetime | None]
    not_before: Mapped[dt.datetime | None]
    worker: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[dt.datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    retried: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The run this one ran inside (migration 0007): a flow run that a notebook job's kernel recorded.
    parent_run_id: Mapped[str | None] = mapped_column(String(32), index=True)

    def __repr__(self) -> str:
        seconds = f" in {self.seconds:.2f} s" if self.seconds is not None else ""
        return f"<Run {self.id} {self.kind} {self.name!r} {self.status}{seconds}>"

    steps: Mapped[list[StepRun]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="StepRun.id"
    )
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="run", cascade="all, delete-orphan")
    flow: Mapped[FlowVersion | None] = relationship()


class StepRun(Base):
    """Per-step outcome of a run, written from the engine's event stream."""

    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("run_id", "step_id", name="uq_step_runs_run_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str] = mapped_column(String(200))
    component: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int | None] = mapped_column(Integer)
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]
    cached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    run: Mapped[Run] = relationship(back_populates="steps")


class RunLineage(Base):
    """What a run read and wrote (`engine/lineage.py`): one JSON document per run, in its own table so
    that run lists never load it."""

    __tablename__ = "run_lineage"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]]


class Artifact(Base):
    """A file a run wrote (an output, a notebook, a log)."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    uri: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    run: Mapped[Run] = relationship(back_populates="artifacts")


class Secret(Base):
    """An encrypted secret (Fernet token); the clear value is never stored."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EntityType(Base):
    """A declared entity (data model): its table and the field schema it was last migrated to."""

    __tablename__ = "entity_types"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(200), unique=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoredConnection(Base):
    """A named connection saved in the store; like aqtra.yaml entries it holds references, not secrets."""

    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
