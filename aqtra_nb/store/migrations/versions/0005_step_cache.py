"""Step cache: whether a step's output came from the cache (`step_runs.cached`).

Revision ID: 0005_step_cache
Revises: 0004_scheduler_ticks
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_step_cache"
down_revision = "0004_scheduler_ticks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("step_runs") as table:
        table.add_column(sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("step_runs") as table:
        table.drop_column("cached")
