"""imports: the file's size, how much of it is read, its header and options

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-24 22:50:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("bytes_read", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("header", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("header")
        batch_op.drop_column("bytes_read")
        batch_op.drop_column("size")
