"""Orphan receipts applied late: the sweep that closes the race between two workers.

A receipt that names no known part waits as an orphan, and the worker that records the
submit response applies it (:func:`smscope.receipts.ingest.apply_orphans`). With several
workers on PostgreSQL the two can cross: worker A records the part while worker B,
which received the receipt, stores it as an orphan, each transaction unable to see the
other's rows. This sweep, run by every worker each second, looks again at the recent
orphans of a connector and applies those whose part now exists — or, for a submit left
in doubt by a worker that died, whose message matches the receipt's addresses once that
worker's claim has lapsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.campaigns.outcomes import Outcomes
from smscope.campaigns.suspension import check_campaigns
from smscope.config import Config
from smscope.db.sql import is_postgresql
from smscope.db.tables import ORPHAN_RECEIPT, Connector
from smscope.db.tables import Receipt as ReceiptRow
from smscope.pricing import PriceTable
from smscope.receipts.ingest import _Applier, _Incoming, stored_status
from smscope.receipts.mapping import StatusMapping
from smscope.receipts.parser import Receipt

__all__ = ["RECENT", "stale_orphans", "sweep_orphans"]

#: orphans younger than this are looked at again; older ones are reported, not retried
RECENT = timedelta(minutes=10)


def _network(value: str | None) -> tuple[int, int] | None:
    if value and ":" in value:
        kind, code = value.split(":", 1)
        if kind.isdigit() and code.isdigit():
            return int(kind), int(code)
    return None


def sweep_orphans(session: Session, *, connector_id: int, id_format: str,
                  mapping: StatusMapping, config: Config, now: datetime,
                  limit: int = 5000, prices: PriceTable | None = None) -> int:
    """Apply the connector's recent orphans whose part is now known; how many."""
    stmt = (
        select(ReceiptRow.id, ReceiptRow.operator_id, ReceiptRow.stat, ReceiptRow.err,
               ReceiptRow.network_error, ReceiptRow.source_addr, ReceiptRow.dest_addr,
               ReceiptRow.source, ReceiptRow.mapped_status)
        .where(ReceiptRow.connector_id == connector_id, ORPHAN_RECEIPT,
               ReceiptRow.received_at >= now - RECENT, ReceiptRow.operator_id.is_not(None))
        .order_by(ReceiptRow.received_at, ReceiptRow.id).limit(limit))
    if is_postgresql(session):
        # two workers sweeping at once must not both apply one receipt
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.execute(stmt).all()
    if not rows:
        return 0
    items = []
    for row in rows:
        network = _network(row.network_error)
        receipt = Receipt(id=row.operator_id, stat=row.stat or "", err=row.err,
                          network_error=network)
        items.append(_Incoming({"id": row.id}, receipt,
                               stored_status(row, receipt, mapping),
                               row.source_addr or "", row.dest_addr or ""))
    outcomes = Outcomes(session, config=config, now=now)
    applier = _Applier(session, outcomes, connector_id, id_format, prices)
    matched = applier.match(items)
    # a receipt for a submit whose worker died before recording it: by its addresses,
    # once that worker's claim has lapsed
    matched.update(applier.match_in_doubt(
        [item for item in items if id(item) not in matched and item.source]))
    applier.settled(items, matched)
    for item in items:
        part = matched.get(id(item))
        if part is not None:
            applier.apply(item, part)
    applier.flush()
    outcomes.flush()
    check_campaigns(session, outcomes.campaigns, config=config, now=now)
    return len(matched)


def stale_orphans(session: Session, *, now: datetime, age: timedelta = RECENT,
                  limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
    """Receipts that have waited longer than ``age`` for a message they could name:
    how many, and the oldest ``limit`` of them (what an operator should look into —
    ids from another system, or a mapping of ids that does not fit): id, connector (id
    and name), source (smpp, http), received at, the provider's (operator's) id, stat,
    err, raw."""
    from sqlalchemy import func

    where = (ORPHAN_RECEIPT, ReceiptRow.received_at < now - age)
    count = int(session.scalar(select(func.count()).select_from(ReceiptRow).where(*where))
                or 0)
    rows = session.execute(
        select(ReceiptRow.id, ReceiptRow.connector_id, Connector.name.label("connector"),
               ReceiptRow.source, ReceiptRow.received_at, ReceiptRow.operator_id,
               ReceiptRow.operator_id.label("provider_id"), ReceiptRow.stat, ReceiptRow.err,
               ReceiptRow.raw)
        .outerjoin(Connector, Connector.id == ReceiptRow.connector_id)
        .where(*where).order_by(ReceiptRow.received_at, ReceiptRow.id).limit(limit))
    return count, [dict(row._mapping) for row in rows]
