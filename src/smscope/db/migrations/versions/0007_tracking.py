"""click tracking: links numbered within their campaign; clicks name their link

Click tokens are signed and checked without a stored row per recipient (see
``smscope.tracking.tokens``): a token carries the message id and the number of the
link within its campaign, so ``links`` gets that ``position`` (unique per campaign),
and ``clicks`` refers to its link and its message instead of a ``tracked_links`` row,
with a ``bot`` flag for link-preview fetchers (recorded, not counted).

No earlier version wrote ``links`` or ``clicks``: the tables are made anew, and any
row in them (there is none) is dropped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clicks_tracked_link_id"))
        batch_op.drop_index(batch_op.f("ix_clicks_message_id"))
        batch_op.drop_index(batch_op.f("ix_clicks_campaign_id"))
    op.drop_table("clicks")
    op.execute("DELETE FROM tracked_links")
    op.execute("DELETE FROM links")
    with op.batch_alter_table("links", schema=None, recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False))
        batch_op.create_unique_constraint("uq_links_campaign_position",
                                          ["campaign_id", "position"])
    op.create_table(
        "clicks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("message_id", _BIG_ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("bot", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"],
                                name=op.f("fk_clicks_link_id_links"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_clicks_message_id_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
    )
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clicks_campaign_id"), ["campaign_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_clicks_message_id"), ["message_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clicks_message_id"))
        batch_op.drop_index(batch_op.f("ix_clicks_campaign_id"))
    op.drop_table("clicks")
    op.execute("DELETE FROM tracked_links")
    op.execute("DELETE FROM links")
    with op.batch_alter_table("links", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint("uq_links_campaign_position", type_="unique")
        batch_op.drop_column("position")
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracked_link_id", _BIG_ID, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tracked_link_id"], ["tracked_links.id"],
                                name=op.f("fk_clicks_tracked_link_id_tracked_links"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
    )
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clicks_campaign_id"), ["campaign_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_clicks_message_id"), ["message_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_clicks_tracked_link_id"), ["tracked_link_id"],
                              unique=False)
