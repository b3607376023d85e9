"""index a campaign's messages by kind (its test sends, in the report)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:00:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_campaign_kind", "messages", ["campaign_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_messages_campaign_kind", table_name="messages")
