"""Initial store: flows, runs, step runs, artifacts, secrets, entity types.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("name", "content_hash", name="uq_flows_name_hash"),
    )
    op.create_index("ix_flows_name", "flows", ["name"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("flow_id", sa.Integer, sa.ForeignKey("flows.id")),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("seconds", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("created_by", sa.String(200)),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_name_started", "runs", ["name", "started_at"])
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_id", sa.String(200), nullable=False),
        sa.Column("component", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows", sa.Integer),
        sa.Column("seconds", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("run_id", "step_id", name="uq_step_runs_run_step"),
    )
    op.create_index("ix_step_runs_run_id", "step_runs", ["run_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_id", sa.String(200)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "entity_types",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("table_name", sa.String(200), nullable=False, unique=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ["entity_types", "secrets", "artifacts", "step_runs", "runs", "flows"]:
        op.drop_table(table)
