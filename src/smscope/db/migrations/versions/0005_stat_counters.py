"""statistics counters by quarter hour; delivery-time counters

``daily_counters`` (never written) is replaced by ``stat_counters``: the figures of
``counters`` by the quarter hour (UTC) messages were created in, and by country, sender
and connector. A day of the account's zone is a whole number of quarter hours in every
zone in use, so the zone can change without rewriting anything.

The new rows are filled from the messages already stored (statuses, accepted, cost,
replies, STOP replies), and the campaigns' delivery-time counters (``latency:<s>``)
from their received messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 20:00:00
"""

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from smscope.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# the delivery-time bounds of smscope.campaigns.counters at the time of this revision
_LATENCY_BOUNDS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400,
                   172800, 259200)

_messages = sa.table(
    "messages", sa.column("id", sa.Integer), sa.column("campaign_id", sa.Integer),
    sa.column("kind", sa.String), sa.column("region", sa.String),
    sa.column("sender", sa.String), sa.column("connector_id", sa.Integer),
    sa.column("status", sa.String), sa.column("credits", sa.BigInteger),  # 1/10,000ths
    sa.column("created_at", UTCDateTime()), sa.column("sent_at", UTCDateTime()),
    sa.column("first_submitted_at", UTCDateTime()),
    sa.column("status_updated_at", UTCDateTime()), sa.column("list_ids", sa.JSON),
)
_replies = sa.table("replies", sa.column("id", sa.Integer),
                    sa.column("message_id", sa.Integer), sa.column("is_stop", sa.Boolean))
_blacklist = sa.table("blacklist", sa.column("reply_id", sa.Integer),
                      sa.column("source", sa.String))
_stat = sa.table(
    "stat_counters", sa.column("bucket", UTCDateTime()), sa.column("campaign_id", sa.Integer),
    sa.column("region", sa.String), sa.column("sender", sa.String),
    sa.column("connector_id", sa.Integer), sa.column("name", sa.String),
    sa.column("value", sa.BigInteger),
)
_counters = sa.table(
    "counters", sa.column("campaign_id", sa.Integer), sa.column("list_id", sa.Integer),
    sa.column("name", sa.String), sa.column("shard", sa.Integer),
    sa.column("value", sa.BigInteger),
)


def upgrade() -> None:
    op.drop_table("daily_counters")
    op.create_table(
        "stat_counters",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "campaign_id", "region", "sender", "connector_id",
                                "name", name=op.f("pk_stat_counters")),
    )
    _fill_stat_counters()
    _fill_latency_counters()


def downgrade() -> None:
    op.execute(_counters.delete().where(_counters.c.name.like("latency:%")))
    op.drop_table("stat_counters")
    op.create_table(
        "daily_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "campaign_id", "region", "sender", "connector_id",
                                "name", name=op.f("pk_daily_counters")),
    )


def _bucket(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _fill_stat_counters() -> None:
    bind = op.get_bind()
    m = _messages.c
    key_columns = (m.created_at, m.campaign_id, m.region, m.sender, m.connector_id)
    totals: defaultdict[tuple[object, ...], int] = defaultdict(int)

    def add(row: sa.Row, name: str, value: int) -> None:  # type: ignore[type-arg]
        if value:
            totals[(_bucket(row.created_at), row.campaign_id or 0, row.region or "",
                     row.sender or "", row.connector_id or 0, name)] += int(value)

    not_test = m.kind != "test"
    for row in bind.execute(sa.select(*key_columns, m.status, sa.func.count(),
                                      sa.func.count(m.sent_at), sa.func.sum(m.credits))
                            .where(not_test).group_by(*key_columns, m.status)):
        add(row, row.status, row[6])
        add(row, "accepted", row[7])
        add(row, "cost_units", row[8] or 0)
    replies = (sa.select(*key_columns, sa.func.count())
               .select_from(_replies.join(_messages, m.id == _replies.c.message_id))
               .where(not_test).group_by(*key_columns))
    for row in bind.execute(replies):
        add(row, "replies", row[5])
    stops = (sa.select(*key_columns, sa.func.count())
             .select_from(_replies.join(_messages, m.id == _replies.c.message_id)
                          .join(_blacklist, _blacklist.c.reply_id == _replies.c.id))
             .where(not_test, _blacklist.c.source == "stop_reply").group_by(*key_columns))
    for row in bind.execute(stops):
        add(row, "stop_replies", row[5])
    rows = [dict(zip(("bucket", "campaign_id", "region", "sender", "connector_id", "name"),
                     key, strict=True), value=value)
            for key, value in totals.items()]
    for start in range(0, len(rows), 1000):
        bind.execute(_stat.insert(), rows[start:start + 1000])


def _fill_latency_counters() -> None:
    bind = op.get_bind()
    m = _messages.c
    totals: defaultdict[tuple[int, int, str], int] = defaultdict(int)
    received = (sa.select(m.campaign_id, m.list_ids, m.first_submitted_at,
                          m.status_updated_at)
                .where(m.status == "received", m.kind != "test",
                       m.campaign_id.is_not(None), m.first_submitted_at.is_not(None))
                .execution_options(yield_per=10000))
    for row in bind.execute(received):
        seconds = (row.status_updated_at - row.first_submitted_at).total_seconds()
        name = next((f"latency:{b}" for b in _LATENCY_BOUNDS if seconds <= b), "latency:more")
        for list_id in (0, *(row.list_ids or ())):
            totals[(row.campaign_id, list_id, name)] += 1
    rows = [{"campaign_id": c, "list_id": lst, "name": name, "shard": 0, "value": value}
            for (c, lst, name), value in totals.items()]
    for start in range(0, len(rows), 1000):
        bind.execute(_counters.insert(), rows[start:start + 1000])
