"""receipts: the operator-key and age indexes hold orphans only

Every query by operator key or by age is about orphans, and nearly every receipt is
stored already applied: partial indexes spare the receipt pipeline two index entries
per receipt.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 01:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ORPHAN = sa.text("state = 'orphan'")


def upgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_state")
        batch_op.drop_index("ix_receipts_operator")
        batch_op.create_index("ix_receipts_orphan_key", ["connector_id", "operator_key"],
                              unique=False, sqlite_where=ORPHAN, postgresql_where=ORPHAN)
        batch_op.create_index("ix_receipts_orphan_age", ["received_at"], unique=False,
                              sqlite_where=ORPHAN, postgresql_where=ORPHAN)


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_orphan_age")
        batch_op.drop_index("ix_receipts_orphan_key")
        batch_op.create_index("ix_receipts_operator", ["connector_id", "operator_key"],
                              unique=False)
        batch_op.create_index("ix_receipts_state", ["state", "received_at"], unique=False)
