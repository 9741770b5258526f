"""Workflows: instances with their state, their step history, and human tasks.

Revision ID: 0003_workflows
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_workflows"
down_revision = "0002"
branch_labels = ("workflows",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("base_dir", sa.Text),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("entity", sa.String(200)),
        sa.Column("record_id", sa.Integer),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("current_step", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_workflows_status", "workflows", ["status"])
    op.create_index("ix_workflows_name_created", "workflows", ["name", "created_at"])
    op.create_table(
        "workflow_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "workflow_id", sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("step_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_workflow_steps_workflow_id", "workflow_steps", ["workflow_id"])
    op.create_table(
        "workflow_tasks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "workflow_id", sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("step_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decision", sa.String(20)),
        sa.Column("option", sa.String(200)),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS),
    )
    op.create_index("ix_workflow_tasks_workflow_id", "workflow_tasks", ["workflow_id"])
    op.create_index("ix_workflow_tasks_status", "workflow_tasks", ["status"])


def downgrade() -> None:
    op.drop_table("workflow_tasks")
    op.drop_table("workflow_steps")
    op.drop_table("workflows")
