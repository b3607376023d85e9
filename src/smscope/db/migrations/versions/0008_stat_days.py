"""statistics by day of the account's zone

``stat_days`` holds the quarter-hour figures of ``stat_counters`` summed by day of one
zone, so that statistics over a range read a few rows per day. It starts empty:
``smscope stats`` fills it from ``stat_counters`` the first time it runs (and again
when the account's zone changes).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "campaign_id", "region", "sender", "connector_id",
                                "name", name=op.f("pk_stat_days")),
    )


def downgrade() -> None:
    op.drop_table("stat_days")
    op.execute("DELETE FROM settings WHERE key = 'stat_days'")
