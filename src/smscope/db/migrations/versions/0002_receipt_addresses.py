"""receipts keep their addresses, to match in-doubt submits later

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("source_addr", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("dest_addr", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("dest_addr")
        batch.drop_column("source_addr")
