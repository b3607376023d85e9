"""Status changes of messages: the one place they are made, whatever caused them
(a submit response, a receipt, expiry, an in-doubt submit that was never answered).

:class:`Outcomes` gathers the changes of one transaction. For each it applies the
precedence rule of :func:`smscope.statuses.should_replace`, turns a temporary error
into ``retry_scheduled`` while attempts remain (:mod:`smscope.rules.retry`), writes the
transition to ``status_events``, moves the campaign's counters, and queues the
address-book hygiene a permanent error calls for. :meth:`Outcomes.flush` writes it all
with a few bulk statements, in the caller's transaction, so that what a report counts
is always what the messages say.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.campaigns.counters import Tally, latency_counter, stat_key
from smscope.config import Config
from smscope.contacts import book
from smscope.db.sql import insert_rows, is_postgresql, one_of, update_by_id
from smscope.db.tables import Contact, Message, StatusEvent
from smscope.rules.retry import next_attempt_at
from smscope.statuses import Category, ContactAction, Status, should_replace

__all__ = ["EVENT_COLUMNS", "MESSAGE_COLUMNS", "NOT_OUTCOMES", "RECEIPT_COLUMNS", "TEMPORARY",
           "WRITTEN", "Outcomes", "load_messages"]

#: temporary errors, which are retried while attempts remain
TEMPORARY = frozenset({
    Status.TEMPORARY_ERROR_OPERATOR, Status.TEMPORARY_ERROR_ABSENCE,
    Status.TEMPORARY_ERROR_PHONE, Status.TEMPORARY_ERROR_PORTABILITY,
})
#: categories that are not an outcome of sending (kept out of the suspension sample)
NOT_OUTCOMES = frozenset({Category.NOT_SENT, Category.UNSUBSCRIBED, Category.TEST})

#: the columns of a message that status changes read
MESSAGE_COLUMNS = (
    Message.id, Message.campaign_id, Message.contact_id, Message.kind, Message.list_ids,
    Message.status, Message.status_is_guess, Message.attempts, Message.first_submitted_at,
    Message.validity_until, Message.next_attempt_at, Message.error_code,
    Message.error_detail, Message.number, Message.sender, Message.segments,
    Message.region, Message.connector_id, Message.in_doubt, Message.credits,
    Message.sent_at, Message.created_at,
)
#: the columns of a message that a receipt's status change reads (what
#: :meth:`Outcomes.change` and its retries and hygiene use): fewer than a claim needs
RECEIPT_COLUMNS = (
    Message.id, Message.campaign_id, Message.contact_id, Message.kind, Message.list_ids,
    Message.status, Message.status_is_guess, Message.attempts, Message.first_submitted_at,
    Message.validity_until, Message.next_attempt_at, Message.error_code,
    Message.error_detail, Message.created_at, Message.region, Message.sender,
    Message.connector_id,
)
#: the columns of a status event
EVENT_COLUMNS = ("message_id", "at", "from_status", "to_status", "attempt", "part_id",
                 "receipt_id", "reason")
#: the columns of a message a status change writes
WRITTEN = ("status", "category", "status_is_guess", "status_updated_at", "next_attempt_at",
           "error_code", "error_detail")


def load_messages(session: Session, ids: Iterable[int],
                  columns: Sequence[Any] = MESSAGE_COLUMNS) -> dict[int, dict[str, Any]]:
    """Messages by id as mutable dicts of ``columns``, locked until the transaction
    ends (PostgreSQL; SQLite has one writer at a time)."""
    wanted = sorted(set(ids))
    found: dict[int, dict[str, Any]] = {}
    stmt = _load_statement(tuple(columns), is_postgresql(session))
    for start in range(0, len(wanted), 1000):
        rows = session.execute(stmt, {"ids": wanted[start:start + 1000]})
        for row in rows.mappings():
            found[row["id"]] = dict(row)
    return found


@functools.cache
def _load_statement(columns: tuple[Any, ...], lock: bool) -> Any:
    """The statement of :func:`load_messages`, built once per column set (it runs for
    every batch of receipts; building it cost more than running it)."""
    stmt = select(*columns).where(one_of(Message.id, "ids", postgresql=lock))
    if lock:
        # Two transactions (two workers' receipts, or a receipt and an orphan sweep)
        # may change one message at once; each would move the counters from the
        # status it read, counting the message twice. The lock makes the second
        # wait and then read the first one's result (READ COMMITTED re-reads a
        # locked row). Ids in order, so two batches lock in the same order.
        stmt = stmt.order_by(Message.id).with_for_update()
    return stmt


class Outcomes:
    """The status changes of one transaction; :meth:`flush` before committing."""

    def __init__(self, session: Session, *, config: Config, now: datetime) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.tally = Tally()
        self._updates: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._hygiene: list[tuple[int, int, str]] = []
        #: campaigns whose figures changed (for the suspension check)
        self.campaigns: set[int] = set()

    def change(
        self,
        msg: dict[str, Any],
        new: Status,
        *,
        reason: str,
        guess: bool = False,
        error_code: str | None = None,
        attempt: int | None = None,
        part_id: int | None = None,
        receipt_id: int | None = None,
        retry: bool = True,
    ) -> Status | None:
        """Give ``msg`` the status ``new`` if precedence allows; returns the status it
        got (``retry_scheduled`` for a temporary error with attempts left, unless
        ``retry`` is False: a retry that cannot be made), or None when nothing changed.
        ``msg`` is updated in place."""
        current = Status(msg["status"])
        if not should_replace(current, new, current_is_guess=bool(msg["status_is_guess"])):
            return None
        target = new
        retry_at = None
        if retry and new in TEMPORARY and msg["kind"] != "test":
            retry_at = self._retry_at(msg)
            if retry_at is not None:
                target = Status.RETRY_SCHEDULED
        if target is current:
            return None
        first_outcome = (
            current is not Status.RETRY_SCHEDULED and not current.is_final
            and (target.is_final or target is Status.RETRY_SCHEDULED)
            and target.category not in NOT_OUTCOMES and (msg["attempts"] or 0) <= 1
        )
        msg.update(
            status=target.value, category=target.category.value,
            status_is_guess=guess and target.is_final, status_updated_at=self.now,
            next_attempt_at=retry_at if retry_at is not None else (
                None if target.is_final else msg.get("next_attempt_at")),
        )
        if error_code is not None:
            msg["error_code"] = error_code
        if target is Status.RETRY_SCHEDULED or new is not target:
            msg["error_detail"] = f"{new.value}: {reason}"
        elif target.is_final and target is not Status.RECEIVED:
            msg["error_detail"] = reason
        self._updates[msg["id"]] = msg
        self._events.append({
            "message_id": msg["id"], "at": self.now, "from_status": current.value,
            "to_status": target.value, "attempt": attempt or msg["attempts"] or 0,
            "part_id": part_id, "receipt_id": receipt_id, "reason": reason[:500],
        })
        # test sends are tracked like any message but stay out of the figures
        campaign_id = msg["campaign_id"] if msg["kind"] != "test" else None
        lists = msg["list_ids"]
        stat = stat_key(msg)
        self.tally.move(campaign_id, lists, current.value, target.value, stat=stat)
        if first_outcome:
            self.tally.add(campaign_id, lists, "outcomes")
            if new in TEMPORARY or new is Status.EXPIRED:
                self.tally.add(campaign_id, lists, "temporary_errors")
        if target is Status.RECEIVED and msg["first_submitted_at"] is not None:
            # how long delivery took, for the report's delivery-time curve
            seconds = (self.now - msg["first_submitted_at"]).total_seconds()
            self.tally.add(campaign_id, lists, latency_counter(seconds))
        if campaign_id is not None:
            self.campaigns.add(campaign_id)
        if (target.contact_action is ContactAction.MARK_INVALID_REMOVE_FROM_LISTS
                and msg["contact_id"] is not None):
            self._hygiene.append((msg["contact_id"], msg["id"], f"{target.value}: {reason}"))
        return target

    def _retry_at(self, msg: dict[str, Any]) -> datetime | None:
        first = msg["first_submitted_at"]
        if first is None:
            return None
        validity = msg["validity_until"]
        span = (validity - first) if validity is not None else self.config.validity.default
        return next_attempt_at(int(msg["attempts"] or 0), self.now, first,
                               self.config.retry.backoff, span)

    def flush(self) -> None:
        """Write the changes gathered so far."""
        session = self.session
        if self._updates:
            update_by_id(session, Message, WRITTEN,
                         [{"_id": msg_id, **{k: msg[k] for k in WRITTEN}}
                          for msg_id, msg in self._updates.items()])
            self._updates.clear()
        if self._events:
            insert_rows(session, StatusEvent, EVENT_COLUMNS, self._events)
            self._events.clear()
        for contact_id, message_id, reason in self._hygiene:
            contact = session.get(Contact, contact_id)
            if contact is not None:
                book.mark_invalid(session, contact, reason, remove_from_lists=True,
                                  message_id=message_id, actor="hygiene")
        self._hygiene.clear()
        self.tally.flush(session)

