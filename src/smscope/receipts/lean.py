"""The common case of a batch of receipts, applied with a few prepared statements.

Nearly every receipt an SMSC sends is the only one of its batch for a one-part message
whose submit was recorded: a ``DELIVRD`` (or ``ENROUTE``, a rejection…) that moves the
message and its part, writes one history event and moves a few counters. For those,
:class:`LeanBatch` works on the rows as the driver gave them (no conversion of the
message unless it is needed), with the status rules turned into tables once, gathers
the counter moves of the whole batch by campaign, lists and statistics key, and writes
the parts, messages and events with one prepared statement each.

Anything else goes to the general path (:class:`smscope.receipts.ingest._Applier` with
:class:`smscope.campaigns.outcomes.Outcomes`): a message with several parts, or with
another receipt in the same batch, a submit settled by its receipt, a temporary error
(a retry may follow), a permanent one (address-book hygiene follows). Both leave the
database in the same state; a property test runs random receipt streams through both.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect

from smscope.campaigns.counters import bucket_of, latency_counter
from smscope.campaigns.outcomes import (
    EVENT_COLUMNS,
    NOT_OUTCOMES,
    RECEIPT_COLUMNS,
    TEMPORARY,
    WRITTEN,
    Outcomes,
)
from smscope.db.sql import Conversions, Driver, bind_value, result_plan, table_of
from smscope.db.tables import Message, MessagePart, StatusEvent
from smscope.statuses import ContactAction, Status, should_replace

__all__ = ["MESSAGE_NAMES", "PART_WRITTEN", "LeanBatch", "message_plan"]

#: the message columns the batch's read gives, in order (the general path's columns)
MESSAGE_NAMES = tuple(column.key for column in RECEIPT_COLUMNS)
_MESSAGE_COLUMNS = tuple(table_of(Message).c[name] for name in MESSAGE_NAMES)
#: the columns of a part a receipt writes
PART_WRITTEN = ("status", "status_updated_at", "error_code")
_AT = {name: n for n, name in enumerate(MESSAGE_NAMES)}
_ID, _CAMPAIGN, _KIND, _LISTS = _AT["id"], _AT["campaign_id"], _AT["kind"], _AT["list_ids"]
_STATUS, _GUESS, _ATTEMPTS = _AT["status"], _AT["status_is_guess"], _AT["attempts"]
_FIRST_SUBMIT, _NEXT = _AT["first_submitted_at"], _AT["next_attempt_at"]
_ERROR_CODE, _ERROR_DETAIL = _AT["error_code"], _AT["error_detail"]
_CREATED, _REGION, _SENDER = _AT["created_at"], _AT["region"], _AT["sender"]
_CONNECTOR = _AT["connector_id"]



@dataclass(frozen=True, slots=True)
class _Info:
    """What the rules need to know of a status, looked up by its value."""

    final: bool
    category: str
    #: a temporary error: a retry may be scheduled (general path)
    temporary: bool
    #: a permanent error: the contact is marked invalid (general path)
    hygiene: bool
    #: counts in the suspension sample when it is a message's first outcome
    outcome: bool
    #: counts as a temporary error in the suspension figures
    soft: bool


_INFO = {
    status.value: _Info(
        final=status.is_final, category=status.category.value,
        temporary=status in TEMPORARY,
        hygiene=status.contact_action is ContactAction.MARK_INVALID_REMOVE_FROM_LISTS,
        outcome=status.category not in NOT_OUTCOMES,
        soft=status in TEMPORARY or status is Status.EXPIRED)
    for status in Status
}


@functools.cache
def _replaces(current: str, new: str, guess: bool) -> bool:
    """:func:`smscope.statuses.should_replace` on status values (a few hundred pairs)."""
    return should_replace(Status(current), Status(new), current_is_guess=guess)


class LeanBatch:
    """The lean receipts of one batch; :meth:`flush` before the general path's
    ``Outcomes.flush`` (the counters go through its tally)."""

    def __init__(self, driver: Driver, outcomes: Outcomes) -> None:
        self.driver = driver
        self.outcomes = outcomes
        self.convert = _Converter(driver.dialect)
        now = outcomes.now
        self.now = now
        self._bound_now = bind_value(driver.dialect, table_of(Message).c.status_updated_at, now)
        self._not_guess = bind_value(driver.dialect, table_of(Message).c.status_is_guess, False)
        self._parts: list[tuple[Any, ...]] = []
        self._messages: list[tuple[Any, ...]] = []
        self._events: list[tuple[Any, ...]] = []
        #: counter moves by (message columns they depend on, from, to, first outcome,
        #: delivery-time counter): counted once per group at flush
        self._moves: Counter[tuple[Any, ...]] = Counter()
        self._latency: dict[Any, str] = {}

    def apply(self, receipt_id: int, status: Status, stat: str, err: str | None,
              part: dict[str, Any], msg: Sequence[Any]) -> bool:
        """Apply a receipt to the one-part message ``msg`` (its row, unconverted) as
        the general path would, if it is a case this path knows; False (and nothing
        done) otherwise."""
        new = status.value
        info = _INFO[new]
        if not _replaces(part["status"], new, False):
            return True  # the part has this status or a final one: history only
        kind = msg[_KIND]
        if (info.temporary and kind != "test") or info.hygiene:
            return False
        error_code = err if info.final else part["error_code"]
        part.update(status=new, status_updated_at=self.now, error_code=error_code)
        self._parts.append((new, self._bound_now, error_code, part["id"]))
        attempt = part["attempt"]
        attempts = msg[_ATTEMPTS] or 0
        if not info.final and attempt < attempts:
            return True  # progress of an older attempt says nothing about the current one
        current = msg[_STATUS]
        if current == new or not _replaces(current, new, bool(msg[_GUESS])):
            return True
        reason = f"receipt stat:{stat}" + (f" err:{err}" if err else "")
        code = msg[_ERROR_CODE] if not info.final or err is None else err
        detail = reason if info.final and status is not Status.RECEIVED else msg[_ERROR_DETAIL]
        message_id = msg[_ID]
        # the columns of WRITTEN, then the id
        self._messages.append((new, info.category, self._not_guess, self._bound_now,
                               None if info.final else msg[_NEXT], code, detail,
                               message_id))
        self._events.append((message_id, self._bound_now, current, new, attempt or attempts,
                             part["id"], receipt_id, reason[:500]))
        was = _INFO[current]
        first_outcome = (current != Status.RETRY_SCHEDULED.value and not was.final
                         and info.final and info.outcome and attempts <= 1)
        latency = None
        if status is Status.RECEIVED and msg[_FIRST_SUBMIT] is not None:
            latency = self._latency.get(msg[_FIRST_SUBMIT])
            if latency is None:
                submitted = self.convert.moment(msg[_FIRST_SUBMIT])
                latency = self._latency[msg[_FIRST_SUBMIT]] = latency_counter(
                    (self.now - submitted).total_seconds())
        lists = msg[_LISTS]
        if isinstance(lists, list):  # as PostgreSQL's driver gives JSON: a key needs a tuple
            lists = tuple(lists)
        self._moves[(msg[_CAMPAIGN], kind == "test", lists, msg[_CREATED],
                     msg[_REGION], msg[_SENDER], msg[_CONNECTOR], current, new,
                     first_outcome, first_outcome and info.soft, latency)] += 1
        return True

    def flush(self) -> None:
        """Write what :meth:`apply` gathered; the counters go to the outcomes' tally."""
        driver = self.driver
        driver.update(table_of(MessagePart), PART_WRITTEN, self._parts)
        driver.update(table_of(Message), WRITTEN, self._messages)
        driver.insert(table_of(StatusEvent), EVENT_COLUMNS, self._events)
        self._parts, self._messages, self._events = [], [], []
        tally, campaigns = self.outcomes.tally, self.outcomes.campaigns
        for key, count in self._moves.items():
            (campaign_id, test, lists, created, region, sender, connector_id, current, new,
             first_outcome, soft, latency) = key
            # as Outcomes.change counts: test sends stay out of the figures
            counted = None if test else campaign_id
            list_ids = self.convert.lists(lists)
            stat = None if test else (bucket_of(self.convert.moment(created)),
                                      campaign_id or 0, region or "", sender or "",
                                      connector_id or 0)
            tally.add(counted, list_ids, current, -count, stat=stat)
            tally.add(counted, list_ids, new, count, stat=stat)
            if first_outcome:
                tally.add(counted, list_ids, "outcomes", count)
                if soft:
                    tally.add(counted, list_ids, "temporary_errors", count)
            if latency is not None:
                tally.add(counted, list_ids, latency, count)
            if counted is not None:
                campaigns.add(counted)
        self._moves.clear()


class _Converter:
    """Column values of the batch's read as Python values, each distinct one once."""

    def __init__(self, dialect: Dialect) -> None:
        plan = dict(message_plan(dialect))
        self._moment: Callable[[Any], Any] = plan.get(_CREATED, _same)
        self._lists: Callable[[Any], Any] = plan.get(_LISTS, _same)
        self._lists_seen: dict[Any, list[int] | None] = {}

    def moment(self, value: Any) -> datetime:
        return self._moment(value)  # type: ignore[no-any-return]

    def lists(self, value: Any) -> list[int] | None:
        if isinstance(value, tuple):
            return list(value)
        if not isinstance(value, str | bytes):
            return self._lists(value)  # type: ignore[no-any-return]
        if value not in self._lists_seen:
            self._lists_seen[value] = self._lists(value)
        return self._lists_seen[value]


def message_plan(dialect: Dialect) -> Conversions:
    """The result processors of the message columns of the batch's read."""
    return result_plan(dialect, _MESSAGE_COLUMNS)


def _same(value: Any) -> Any:
    return value
