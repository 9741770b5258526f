"""ORM models of workflows (migration `0003_workflows`): instances with their state, the history of their
steps, and the human tasks they wait on. State is written after every step, so a workflow resumes where it
stopped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .orm import Base, utcnow


class WorkflowInstance(Base):
    """One workflow over one record: its spec as started, where it is (`current_step`), what its steps
    returned (`results`), the record as last read, and its status (draft, running, waiting, succeeded,
    failed, cancelled). `epoch` counts resets to draft; `version` guards against two processes advancing
    it at once; `owner` is the host:pid that runs it."""

    __tablename__ = "workflows"
    __table_args__ = (Index("ix_workflows_name_created", "name", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(Text)
    base_dir: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]]
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    entity: Mapped[str | None] = mapped_column(String(200))
    record_id: Mapped[int | None] = mapped_column(Integer)
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current_step: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    owner: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        at = f" at {self.current_step!r}" if self.current_step else ""
        return f"<Workflow {self.id} {self.name!r} {self.status}{at}>"


class WorkflowStepRun(Base):
    """One execution of one step: started, then finished (with its result), failed or waiting."""

    __tablename__ = "workflow_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    step_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<WorkflowStep {self.step_id!r} {self.kind} {self.status}>"


class WorkflowTask(Base):
    """A human task (`ask_confirmation`): open until someone approves (maybe picking an option) or rejects."""

    __tablename__ = "workflow_tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    step_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"options": [...], "approve": bool}
    assignee: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    decision: Mapped[str | None] = mapped_column(String(20))
    option: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        decided = f" {self.decision}" if self.decision else ""
        return f"<Task {self.id} {self.title!r} {self.status}{decided} (step {self.step_id!r})>"
