"""Jobs: the jobs table, and the columns job runs need in `runs` (schedule, attempts, worker, heartbeat).

A unique index on (job_id, scheduled_for, attempt) makes enqueueing idempotent: two schedulers that see
the same due time insert one run.

Revision ID: 0003_jobs
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003_jobs"
down_revision = "0002"
branch_labels = ("jobs",)
depends_on = None

TS = sa.DateTime(timezone=True)
RUN_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("job_id", sa.Integer),
    sa.Column("scheduled_for", TS),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("queued_at", TS),
    sa.Column("not_before", TS),
    sa.Column("worker", sa.String(200)),
    sa.Column("pid", sa.Integer),
    sa.Column("heartbeat_at", TS),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("retried", sa.Boolean, nullable=False, server_default=sa.false()),
]


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("cursor", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for column in RUN_COLUMNS:
        op.add_column("runs", column)
    op.create_index("ix_runs_job_id", "runs", ["job_id"])
    op.create_index(
        "uq_runs_job_scheduled_attempt", "runs", ["job_id", "scheduled_for", "attempt"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_runs_job_scheduled_attempt", "runs")
    op.drop_index("ix_runs_job_id", "runs")
    with op.batch_alter_table("runs") as batch:
        for column in RUN_COLUMNS:
            batch.drop_column(column.name)
    op.drop_table("jobs")
