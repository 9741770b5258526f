"""A run's parent: the notebook job run inside which a flow run was recorded (`runs.parent_run_id`).

Revision ID: 0007_run_parent
Revises: 0006_run_lineage
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_run_parent"
down_revision = "0006_run_lineage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parent_run_id", sa.String(32), nullable=True))
        batch.create_index("ix_runs_parent_run_id", ["parent_run_id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_parent_run_id")
        batch.drop_column("parent_run_id")
