"""Lineage: one JSON document per run (`run_lineage`), what it read and wrote.

Revision ID: 0006_run_lineage
Revises: 0005_step_cache
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_run_lineage"
down_revision = "0005_step_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_lineage",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_lineage")
