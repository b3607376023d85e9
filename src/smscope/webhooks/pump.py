"""The pump: status changes → webhook deliveries, read after the fact.

**Why a pump.** Every status change is already written to ``status_events`` in the
transaction that makes it (the receipt pipeline's general and lean paths, dispatch,
expiry). Writing a delivery there too would add a write per change and per endpoint to
the hottest transaction of the product, and a read of the endpoints to every batch of
receipts. Instead the pump, a task of the worker beside the others, reads the events
after a cursor in batches, joined with their messages (campaign, number, sender,
connector, segments), parts (operator id) and receipts (error code), and inserts one
delivery per event and matching endpoint. With no active endpoint nothing is read at
all: the receipt path does not change whether webhooks are used or not.

**Cursors.** Each endpoint keeps the id of the last event it has been given
(``webhook_endpoints.cursor``): a new endpoint starts at the last event of the moment
it is added, and every endpoint advances to the pump's *safe point* after each batch.
The delivery's unique key (endpoint, event id) makes inserting an event twice a no-op,
so the pump can always read again from the stored cursor (after a restart, or in two
workers at once).

**Ids become visible out of order on PostgreSQL.** Two transactions take event ids
100 and 101 from one sequence; 101 commits first; a reader that moved a plain
``id > cursor`` cursor to 101 would never see 100. So the pump remembers the *gaps*
(ids below the highest one read that it has not seen) and reads them again on every
run; the safe point stays below the oldest open gap. A gap closes when its row appears
or when it can no longer appear: on PostgreSQL once every transaction that was
running when the gap was noted has ended (the current snapshot's ``xmin`` has passed
the ``xmax`` noted with the gap, and a second has gone by: a transaction that took an
id an instant before it got a transaction id), since a rolled-back transaction leaves
its ids unused forever. Rows past a gap are delivered at once; only the cursor waits.
On SQLite one writer at a time commits ids in order, so a gap is a deleted row and is
closed at once. In-memory gaps are lost on restart: the stored cursor is below them,
so the next run reads them again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.orm import Session, aliased

from smscope.db.sql import insert_returning, is_postgresql, one_of
from smscope.db.tables import (
    Connector,
    Message,
    MessagePart,
    Receipt,
    StatusEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from smscope.webhooks.payload import payload_of

__all__ = ["EventPump", "PumpResult", "active_endpoints"]

log = logging.getLogger(__name__)

#: events read per run
BATCH = 1000
#: a gap younger than this stays open on PostgreSQL whatever the snapshot says
GAP_MIN_AGE = 1.0
#: open gaps kept at most (a flood of rolled-back transactions); the oldest are closed
MAX_GAPS = 50_000
#: PostgreSQL advisory lock: one pump at a time among the workers ("smswebh")
_PUMP_LOCK = 0x736D7377656268

_DELIVERY_COLUMNS = ("endpoint_id", "event_id", "status_event_id", "message_id", "payload",
                     "state", "attempts", "next_attempt_at", "created_at")


def active_endpoints(session: Session) -> list[tuple[int, int | None, int]]:
    """(id, campaign id, cursor) of every active endpoint."""
    return [(r.id, r.campaign_id, r.cursor) for r in session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.campaign_id, WebhookEndpoint.cursor)
        .where(WebhookEndpoint.active.is_(True)))]


def _events_query() -> Any:
    """Events with what their payload says. The operator id is the part's the event
    names (a receipt's), else the first part of the event's attempt (a submit's)."""
    part, first_part = aliased(MessagePart), aliased(MessagePart)
    return (
        select(StatusEvent.id, StatusEvent.message_id, StatusEvent.at,
               StatusEvent.from_status, StatusEvent.to_status, StatusEvent.attempt,
               Message.campaign_id, Message.kind, Message.number, Message.sender,
               Message.segments, Message.error_code,
               Connector.name.label("connector"),
               func.coalesce(part.operator_id, first_part.operator_id).label("operator_id"),
               Receipt.err.label("receipt_err"))
        .join(Message, Message.id == StatusEvent.message_id)
        .outerjoin(Connector, Connector.id == Message.connector_id)
        .outerjoin(part, part.id == StatusEvent.part_id)
        .outerjoin(first_part, and_(StatusEvent.part_id.is_(None),
                                    first_part.message_id == StatusEvent.message_id,
                                    first_part.attempt == StatusEvent.attempt,
                                    first_part.part_no == 1))
        .outerjoin(Receipt, Receipt.id == StatusEvent.receipt_id)
    )


@dataclass
class PumpResult:
    """What one run did: events read, deliveries made, whether more are waiting."""

    events: int = 0
    deliveries: int = 0
    more: bool = False


@dataclass
class EventPump:
    """The pump of one worker process (its gaps are its own; see the module)."""

    batch: int = BATCH
    clock: Callable[[], float] = time.monotonic
    #: the highest event id read so far
    read_upto: int = -1
    #: open gaps: event id → (PostgreSQL xmax when noted, or None; when noted)
    gaps: dict[int, tuple[int | None, float]] = field(default_factory=dict)

    def run(self, session: Session, *, now: datetime) -> PumpResult:
        """One batch: read the events after the cursors, make their deliveries, move
        the cursors to the safe point. In the caller's transaction."""
        endpoints = active_endpoints(session)
        if not endpoints:
            return PumpResult()
        postgresql = is_postgresql(session)
        if postgresql and not session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _PUMP_LOCK}).scalar():
            return PumpResult()  # another worker's pump is at it
        base = min(cursor for _, _, cursor in endpoints)
        if self.read_upto < base:
            self.read_upto = base
            self.gaps = {g: v for g, v in self.gaps.items() if g > base}
        xmin = self._xmin(session) if postgresql else None
        rows = self._reread_gaps(session, postgresql)
        new = list(session.execute(_events_query().where(StatusEvent.id > self.read_upto)
                                   .order_by(StatusEvent.id).limit(self.batch)).mappings())
        if new:
            xmax = self._xmax(session) if postgresql else None
            self._note_gaps([r["id"] for r in new], xmax, postgresql)
            self.read_upto = new[-1]["id"]
            rows.extend(new)
        self._close_gaps(xmin)
        made = self._deliver(session, endpoints, rows, now)
        safe = (min(self.gaps) - 1) if self.gaps else self.read_upto
        session.execute(update(WebhookEndpoint)
                        .where(WebhookEndpoint.active.is_(True), WebhookEndpoint.cursor < safe)
                        .values(cursor=safe))
        return PumpResult(events=len(rows), deliveries=made, more=len(new) >= self.batch)

    # -- gaps -------------------------------------------------------------------------

    @staticmethod
    def _xmin(session: Session) -> int:
        return int(session.execute(
            text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one())

    @staticmethod
    def _xmax(session: Session) -> int:
        return int(session.execute(
            text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")).scalar_one())

    def _reread_gaps(self, session: Session, postgresql: bool) -> list[Any]:
        if not self.gaps:
            return []
        stmt = _events_query().where(one_of(StatusEvent.id, "ids", postgresql=postgresql))
        found: list[Any] = []
        wanted = sorted(self.gaps)
        for start in range(0, len(wanted), 1000):
            found.extend(session.execute(stmt, {"ids": wanted[start:start + 1000]}).mappings())
        for row in found:
            self.gaps.pop(row["id"], None)
        return found

    def _note_gaps(self, ids: list[int], xmax: int | None, postgresql: bool) -> None:
        if not postgresql:
            return  # SQLite commits ids in order: a missing id was deleted
        noted = self.clock()
        expected = self.read_upto + 1
        for found in ids:
            for missing in range(max(expected, found - MAX_GAPS), found):
                self.gaps[missing] = (xmax, noted)
            expected = found + 1
        if len(self.gaps) > MAX_GAPS:
            dropped = sorted(self.gaps)[:len(self.gaps) - MAX_GAPS]
            log.warning("webhooks: %d event ids never appeared; no longer waiting for "
                        "them (ids %d-%d)", len(dropped), dropped[0], dropped[-1])
            for gap in dropped:
                del self.gaps[gap]

    def _close_gaps(self, xmin: int | None) -> None:
        """Close the gaps no transaction can fill any more (see the module)."""
        if xmin is None:
            return
        old = self.clock() - GAP_MIN_AGE
        for gap, (xmax, noted) in list(self.gaps.items()):
            if xmax is not None and xmax <= xmin and noted <= old:
                del self.gaps[gap]

    # -- deliveries -------------------------------------------------------------------

    @staticmethod
    def _deliver(session: Session, endpoints: list[tuple[int, int | None, int]],
                 rows: list[Any], now: datetime) -> int:
        deliveries = []
        for row in rows:
            payload = None
            for endpoint_id, campaign_id, cursor in endpoints:
                if row["id"] <= cursor or (campaign_id is not None
                                           and campaign_id != row["campaign_id"]):
                    continue
                if payload is None:
                    payload = payload_of(row)
                deliveries.append({
                    "endpoint_id": endpoint_id, "event_id": payload["event_id"],
                    "status_event_id": row["id"], "message_id": row["message_id"],
                    "payload": payload, "state": "pending", "attempts": 0,
                    "next_attempt_at": now, "created_at": now})
        if not deliveries:
            return 0
        made = insert_returning(session, WebhookDelivery, _DELIVERY_COLUMNS, deliveries,
                                returning=("id",),
                                skip_conflicts_on=("endpoint_id", "event_id"))
        return len(made)
