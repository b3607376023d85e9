"""The recipients part of a campaign report (SPEC §5.1): one row per recipient, filtered
by status or category, searched, sorted and paginated; each row's full history; and the
whole list streamed for the CSV export.

Rows come from ``messages`` (test sends are not recipients) with the contact's name,
the number of clicks and the last reply. Clicks and replies are read per page or per
batch, by campaign, so a page costs the same on page 1 and page 1,000 and an export of a
million rows holds one batch in memory.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from smscope.campaigns.service import get_campaign
from smscope.csvio import SafeCsvWriter
from smscope.db.tables import (
    Click,
    Contact,
    Message,
    MessagePart,
    Receipt,
    Reply,
    StatusEvent,
)
from smscope.errors import NotFoundError, UsageError
from smscope.output import local_time
from smscope.pagination import Page, check_limit, text_filter
from smscope.statuses import Category, Status

__all__ = ["CSV_COLUMNS", "SORTS", "StatusFilter", "iter_recipients", "message_history",
           "recipients_page", "write_recipients_csv"]

#: the columns of the recipients CSV (CONTRACTS §11), in order
CSV_COLUMNS = ("number", "first_name", "last_name", "status", "category",
               "status_updated_at", "attempts", "error_code", "error", "segments", "cost",
               "clicks", "reply", "sent_at")
#: what the recipients can be sorted by
SORTS = {
    "id": Message.id, "number": Message.number, "status": Message.status,
    "status_updated_at": Message.status_updated_at, "attempts": Message.attempts,
    "cost": Message.credits, "segments": Message.segments,
}
_EXPORT_BATCH = 2000


@dataclass(frozen=True)
class StatusFilter:
    """``--status``: a canonical status or a category (CONTRACTS §11)."""

    status: str | None = None
    category: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> StatusFilter:
        if not value:
            return cls()
        value = value.strip().lower()
        if value in {s.value for s in Status if s is not Status.TEST}:
            return cls(status=value)
        if value in {c.value for c in Category if c is not Category.TEST}:
            return cls(category=value)
        raise UsageError(
            f"unknown status or category {value!r}; use a category ("
            + ", ".join(c.value for c in Category if c is not Category.TEST)
            + ") or a canonical status such as received, expired, blacklisted")

    def conditions(self) -> list[Any]:
        if self.status:
            return [Message.status == self.status]
        if self.category:
            return [Message.category == self.category]
        return []


def _query(campaign_id: int, status: StatusFilter, search: str | None) -> Any:
    conditions = [Message.campaign_id == campaign_id, Message.kind != "test",
                  *status.conditions()]
    if search and search.strip():
        digits = "".join(ch for ch in search if ch.isdigit())
        matches = [text_filter(search, Contact.first_name, Contact.last_name)]
        if digits:
            matches.append(Message.number.contains(digits, autoescape=True))
        conditions.append(or_(*matches))
    return (select(Message.id, Message.number, Contact.first_name, Contact.last_name,
                   Message.status, Message.category, Message.status_updated_at,
                   Message.attempts, Message.error_code, Message.error_detail,
                   Message.segments, Message.credits, Message.sent_at)
            .outerjoin(Contact, Contact.id == Message.contact_id).where(*conditions))


def _rows(session: Session, campaign_id: int, rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts, with their clicks and last reply (read for these ids only)."""
    ids = [row.id for row in rows]
    clicks: dict[int, int] = {}
    replies: dict[int, str] = {}
    if ids:
        clicks = {mid: int(n) for mid, n in session.execute(
            select(Click.message_id, func.count()).where(
                Click.campaign_id == campaign_id, Click.message_id.in_(ids))
            .group_by(Click.message_id))}
        for mid, text in session.execute(
                select(Reply.message_id, Reply.text)
                .where(Reply.campaign_id == campaign_id, Reply.message_id.in_(ids))
                .order_by(Reply.received_at, Reply.id)):
            if mid is not None:
                replies[mid] = text  # the last one wins
    return [{
        "id": row.id, "number": row.number, "first_name": row.first_name,
        "last_name": row.last_name, "status": row.status, "category": row.category,
        "status_updated_at": row.status_updated_at, "attempts": row.attempts,
        "error_code": row.error_code, "error": row.error_detail,
        "segments": row.segments, "cost": row.credits, "clicks": clicks.get(row.id, 0),
        "reply": replies.get(row.id), "sent_at": row.sent_at,
    } for row in rows]


def _encode(value: Any, last_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif value is not None and not isinstance(value, int | str):
        value = str(value)
    raw = json.dumps([value, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        value, last_id = json.loads(raw)
        if not isinstance(last_id, int):
            raise ValueError
        return value, last_id
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise UsageError(
            f"invalid cursor {cursor!r}; use the next_cursor of the previous page") from None


def recipients_page(session: Session, campaign_id: int, *, status: str | None = None,
                    search: str | None = None, sort: str = "id", descending: bool = False,
                    cursor: str | None = None, limit: int | None = None
                    ) -> Page[dict[str, Any]]:
    """One page of a campaign's recipients (keyset pagination on the sort key and id)."""
    get_campaign(session, campaign_id)
    if sort not in SORTS:
        raise UsageError(f"cannot sort by {sort!r}; use one of {', '.join(SORTS)}")
    limit = check_limit(limit)
    column = SORTS[sort]
    query = _query(campaign_id, StatusFilter.parse(status), search)
    if cursor:
        value, last_id = _decode(cursor)
        if sort == "id":
            query = query.where(Message.id < last_id if descending else Message.id > last_id)
        else:
            if sort == "status_updated_at" and isinstance(value, str):
                value = datetime.fromisoformat(value)
            beyond = column < value if descending else column > value
            same = and_(column == value,
                        Message.id < last_id if descending else Message.id > last_id)
            query = query.where(or_(beyond, same))
    order = [column.desc(), Message.id.desc()] if descending else [column, Message.id]
    if sort == "id":
        order = order[:1]
    rows = list(session.execute(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        key = {"cost": "credits"}.get(sort, sort)
        next_cursor = _encode(getattr(last, key), last.id)
    return Page(_rows(session, campaign_id, rows), next_cursor)


def iter_recipients(session: Session, campaign_id: int, *, status: str | None = None,
                    search: str | None = None) -> Iterator[dict[str, Any]]:
    """Every recipient (in id order), read in batches: memory stays bounded whatever the
    campaign's size."""
    get_campaign(session, campaign_id)
    base = _query(campaign_id, StatusFilter.parse(status), search)
    last_id = 0
    while True:
        rows = list(session.execute(
            base.where(Message.id > last_id).order_by(Message.id).limit(_EXPORT_BATCH)))
        if not rows:
            return
        yield from _rows(session, campaign_id, rows)
        last_id = rows[-1].id


def write_recipients_csv(stream: IO[str], rows: Iterator[dict[str, Any]],
                         zone: ZoneInfo) -> int:
    """Write recipients as CSV (open ``stream`` with :func:`smscope.csvio.open_export`);
    returns the number of rows."""
    writer = SafeCsvWriter(stream, CSV_COLUMNS, raw_columns=("number",))
    count = 0
    for row in rows:
        writer.writerow([
            local_time(value, zone) if isinstance(value, datetime) else value
            for value in (row[name] for name in CSV_COLUMNS)])
        count += 1
    return count


def message_history(session: Session, message_id: int) -> dict[str, Any]:
    """One message with everything that happened to it, oldest first: its transitions,
    the parts submitted for it, the receipts applied to it, clicks and replies."""
    msg = session.get(Message, message_id)
    if msg is None:
        raise NotFoundError(f"no message {message_id}; the recipients table lists them")
    events = [{"at": e.at, "kind": "status", "from": e.from_status, "to": e.to_status,
               "attempt": e.attempt, "reason": e.reason}
              for e in session.scalars(select(StatusEvent)
                                       .where(StatusEvent.message_id == message_id))]
    events += [{"at": p.submitted_at, "kind": "submit", "attempt": p.attempt,
                "part": f"{p.part_no}/{p.part_count}", "operator_id": p.operator_id,
                "status": p.status}
               for p in session.scalars(select(MessagePart)
                                        .where(MessagePart.message_id == message_id))
               if p.submitted_at is not None]
    events += [{"at": r.received_at, "kind": "receipt", "stat": r.stat, "err": r.err,
                "mapped_status": r.mapped_status, "raw": r.raw}
               for r in session.scalars(select(Receipt).where(Receipt.message_id == message_id))]
    events += [{"at": c.at, "kind": "click", "user_agent": c.user_agent}
               for c in session.scalars(select(Click).where(Click.message_id == message_id))]
    events += [{"at": r.received_at, "kind": "reply", "text": r.text, "is_stop": r.is_stop}
               for r in session.scalars(select(Reply).where(Reply.message_id == message_id))]
    # at the same moment, what happened (a submit, a receipt) before the status it made
    events.sort(key=lambda e: (e["at"], e["kind"] == "status"))
    # the status a message was created with is where its first transition started
    # from (or the status still held); a filter's status at fan-out has an event from
    # no status, which is that creation
    first = next((e for e in events if e["kind"] == "status"), None)
    created: dict[str, Any] = {"at": msg.created_at, "kind": "created",
                               "to": msg.status if first is None else first["from"]}
    if first is not None and first["from"] is None:
        created.update(to=first["to"], reason=first["reason"])
        events.remove(first)
    events.insert(0, created)
    contact = session.get(Contact, msg.contact_id) if msg.contact_id else None
    return {
        "id": msg.id, "campaign_id": msg.campaign_id, "kind": msg.kind, "number": msg.number,
        "first_name": contact.first_name if contact else None,
        "last_name": contact.last_name if contact else None,
        "sender": msg.sender, "text": msg.text, "encoding": msg.encoding,
        "segments": msg.segments, "cost": msg.credits, "status": msg.status,
        "category": msg.category, "status_updated_at": msg.status_updated_at,
        "attempts": msg.attempts, "error_code": msg.error_code, "error": msg.error_detail,
        "created_at": msg.created_at, "sent_at": msg.sent_at, "history": events,
    }
