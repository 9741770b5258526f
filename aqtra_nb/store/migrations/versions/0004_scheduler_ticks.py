"""Schedulers: each scheduler process's last tick, so monitoring sees a stalled scheduler whatever
process it runs in (`aqtra-nb scheduler`, the Jupyter server's, a cluster's).

Revision ID: 0004_scheduler_ticks
Revises: 0003_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_scheduler_ticks"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedulers",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_tick", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("schedulers")
