"""indexes of the monitoring search (``smscope messages search``)

The search lists messages newest first (``created_at`` then ``id``, descending) and
reads a page as one stretch of an index in that order after the filtered column, so
page 1,000 costs what page 1 does:

* campaign, sender and connector: columns written once with the message, so their
  indexes cost the fan-out one insert each and a status change nothing (SQLite touches
  only the indexes of the columns an UPDATE changes);
* problem statuses (every category but pending and delivered), partial: a message
  enters it once, when it ends in such a status; the common path (pending, then
  received) never writes it;
* test sends, partial: only test sends are in it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# the same predicates as the models' (smscope.db.tables.Message); the search repeats
# them word for word, which is how SQLite knows a partial index holds every row wanted
_PROBLEM = "category NOT IN ('delivered', 'pending')"
_TEST = "kind = 'test'"


def upgrade() -> None:
    op.create_index("ix_messages_search_campaign", "messages",
                    ["campaign_id", "created_at", "id"])
    op.create_index("ix_messages_search_sender", "messages", ["sender", "created_at", "id"])
    op.create_index("ix_messages_search_connector", "messages",
                    ["connector_id", "created_at", "id"])
    op.create_index("ix_messages_search_problem", "messages", ["status", "created_at", "id"],
                    sqlite_where=sa.text(_PROBLEM), postgresql_where=sa.text(_PROBLEM))
    op.create_index("ix_messages_search_test", "messages", ["created_at", "id"],
                    sqlite_where=sa.text(_TEST), postgresql_where=sa.text(_TEST))


def downgrade() -> None:
    for name in ("ix_messages_search_test", "ix_messages_search_problem",
                 "ix_messages_search_connector", "ix_messages_search_sender",
                 "ix_messages_search_campaign"):
        op.drop_index(name, table_name="messages")
