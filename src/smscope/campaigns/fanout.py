"""Fan-out: a campaign's lists and numbers become one message per distinct number.

Done once, when the campaign starts, in the transaction that starts it. Each message
gets its final text (placeholders rendered for its contact), segments, cost and first
status — ``queued`` (or ``scheduled`` until its country's sending window opens), or
one of the not-sent statuses with the filter that stopped it:

* ``invalid_number``: an ad-hoc number that does not validate, or a contact marked
  invalid (by an import or by hygiene after a permanent error);
* ``blacklisted``: the contact or the number is on the blacklist;
* ``duplicate``: the same text went to the same number within the anti-duplicate window
  (test sends and messages that were not sent do not count);
* ``insufficient_credit``: the balance ran out; credits are reserved in fan-out order.

Links in the text are rewritten as tracked links (:mod:`smscope.tracking`), unless
the campaign's ``track_links`` option is off; segments and cost count the text as sent.
Such messages are written with ids taken beforehand, since their tokens are made of
them; texts without links take the same path as before.

Messages are written with bulk inserts in chunks, so a million recipients fan out in
seconds, not hours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, literal, null, or_, select
from sqlalchemy.orm import Session

from smscope import numbers, text
from smscope.campaigns.counters import Tally, stat_key
from smscope.config import Config
from smscope.db.sql import table_of
from smscope.db.tables import (
    BlacklistEntry,
    Campaign,
    CampaignList,
    Contact,
    ListMember,
    Message,
    StatusEvent,
)
from smscope.errors import InvalidNumberError
from smscope.pricing import CreditBank, PriceTable
from smscope.rules.windows import SendingWindows
from smscope.statuses import Status
from smscope.tracking.links import preview
from smscope.tracking.store import Rewriter

__all__ = ["FanOut", "fan_out", "text_hash"]

#: messages written per INSERT, and numbers per blacklist / duplicate lookup
CHUNK = 5000


def text_hash(rendered: str) -> str:
    """What the anti-duplicate filter compares: the rendered text (not a secret)."""
    return hashlib.md5(rendered.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass
class FanOut:
    """What the fan-out produced, for the timeline and the command's output."""

    recipients: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    reserved: Decimal = Decimal(0)
    reservation_id: int | None = None


@dataclass(slots=True)
class _Recipient:
    number: str  # E.164, or the raw text of an invalid ad-hoc number
    contact_id: int | None = None
    region: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    state: str = "active"
    list_ids: list[int] = field(default_factory=list)
    invalid_reason: str | None = None
    #: what makes two recipients the same: the E.164 number, or the whole raw text of
    #: an invalid one (``number`` keeps only what fits the column)
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or self.number


def _from_lists(session: Session, campaign_id: int) -> Iterator[_Recipient]:
    """Contacts of the campaign's lists, one per contact, with every target list."""
    rows = session.execute(
        select(Contact.id, Contact.number, Contact.region, Contact.first_name,
               Contact.last_name, Contact.fields, Contact.state, ListMember.list_id)
        .join(ListMember, ListMember.contact_id == Contact.id)
        .join(CampaignList, CampaignList.list_id == ListMember.list_id)
        .where(CampaignList.campaign_id == campaign_id)
        .order_by(Contact.id, ListMember.list_id)
        .execution_options(yield_per=CHUNK)
    )
    current: _Recipient | None = None
    for cid, number, region, first, last, fields, state, list_id in rows:
        if current is not None and current.contact_id == cid:
            current.list_ids.append(list_id)
            continue
        if current is not None:
            yield current
        values = dict(fields or {})
        values.update(first_name=first, last_name=last, number=number)
        current = _Recipient(number=number, contact_id=cid, region=region, values=values,
                             state=state, list_ids=[list_id])
    if current is not None:
        yield current


def _from_numbers(session: Session, entries: Sequence[dict[str, Any]]) -> Iterator[_Recipient]:
    """The ad-hoc numbers, linked to their contact when the address book has one."""
    for start in range(0, len(entries), CHUNK):
        chunk = entries[start:start + CHUNK]
        valid = [e["number"] for e in chunk if e.get("number")]
        contacts = {
            row.number: row for row in session.execute(
                select(Contact.id, Contact.number, Contact.region, Contact.first_name,
                       Contact.last_name, Contact.fields, Contact.state)
                .where(Contact.number.in_(valid)))
        } if valid else {}
        for entry in chunk:
            number = entry.get("number")
            if not number:
                raw = str(entry.get("raw", ""))
                reason = entry.get("reason") or "invalid number"
                yield _Recipient(number=raw[:16], key=f"raw:{raw}",
                                 invalid_reason=f"{reason} ({raw!r})"[:500])
                continue
            row = contacts.get(number)
            if row is None:
                yield _Recipient(number=number, region=numbers.region_of(number),
                                 values={"number": number})
                continue
            values = dict(row.fields or {})
            values.update(first_name=row.first_name, last_name=row.last_name, number=number)
            yield _Recipient(number=number, contact_id=row.id, region=row.region,
                             values=values, state=row.state)


def _distinct(recipients: Iterator[_Recipient]) -> Iterator[_Recipient]:
    seen: set[str] = set()
    for recipient in recipients:
        if recipient.key in seen:
            continue
        seen.add(recipient.key)
        yield recipient


def _chunks(items: Iterator[_Recipient]) -> Iterator[list[_Recipient]]:
    chunk: list[_Recipient] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fan_out(session: Session, campaign: Campaign, *, config: Config, prices: PriceTable,
            now: datetime, windows: SendingWindows | None = None) -> FanOut:
    """Create the messages of ``campaign`` and reserve their credits (first attempts,
    in fan-out order, as far as the balance goes). Counters are updated; the caller
    commits, with the campaign's new state."""
    windows = windows or SendingWindows.from_config(config)
    template = campaign.text
    options = campaign.options or {}
    header = int(options.get("header_octets", 6))
    marketing = campaign.type == "marketing"
    names = [p.name for p in text.placeholders(template)]
    fixed = text.render(template, {}) if not names else None
    fixed_measure = text.measure(fixed, header) if fixed is not None else None
    links = (Rewriter.for_campaign(session, campaign.id, template, config.public_url)
             if options.get("track_links", True) else None)
    if links is not None:
        # the summary counts the links as they are sent, with this public URL
        summary = text.measure(preview(template, config.public_url), header)
        campaign.encoding, campaign.segments = summary.encoding, summary.segments
        if fixed is not None:
            fixed_measure = text.measure(links.render({}, 1)[1], header)
    bank = CreditBank(session)
    available = bank.balance().available
    window_start = now - config.duplicates.window
    result = FanOut()
    tally = Tally()
    total_cost = Decimal(0)
    out_of_credit = False
    recipients = _distinct(_chain(_from_lists(session, campaign.id),
                                  _from_numbers(session, campaign.numbers or [])))
    for chunk in _chunks(recipients):
        valid = [r.number for r in chunk if r.invalid_reason is None]
        blacklisted = set(session.scalars(
            select(BlacklistEntry.number).where(BlacklistEntry.number.in_(valid))))
        recent = _recent(session, valid, window_start, campaign.id)
        rows = []
        ids = links.ids(session, len(chunk)) if links is not None else None
        for r in chunk:
            if links is None or ids is None:
                rendered = fixed if fixed is not None else _render(template, r.values, names)
                sent = rendered
                measured = fixed_measure or text.measure(rendered, header)
            else:
                message_id = next(ids)
                for name in names:
                    r.values.setdefault(name, None)
                # links rewritten with this message's tokens; the duplicate filter
                # compares the text as written (CONTRACTS §8)
                rendered, sent = links.render(r.values, message_id)
                measured = fixed_measure or text.measure(sent, header)
            digest = text_hash(rendered)
            status, reason = _filter(r, blacklisted, recent, digest)
            cost = Decimal(0)
            not_before = None
            if status is None:
                cost = (prices.price_for(r.region) * measured.segments).quantize(
                    Decimal("0.0001"))
                if out_of_credit or total_cost + cost > available:
                    # once the balance has run out, every later message is refused too
                    # (CONTRACTS §8), even a cheaper one that would still fit
                    out_of_credit = True
                    status, reason = Status.INSUFFICIENT_CREDIT, "not enough credit"
                else:
                    total_cost += cost
                    status = Status.QUEUED
                    if marketing:
                        opens = windows.next_opening(r.region, now)
                        if opens > now:
                            status, not_before = Status.SCHEDULED, opens
            rows.append({
                "campaign_id": campaign.id, "contact_id": r.contact_id, "kind": "campaign",
                "number": r.number, "region": r.region, "sender": campaign.sender,
                "text": sent, "text_hash": digest, "encoding": measured.encoding,
                "segments": measured.segments, "credits": Decimal(0),
                "connector_id": campaign.connector_id, "list_ids": r.list_ids or None,
                "status": status.value, "category": status.category.value,
                "status_updated_at": now, "created_at": now, "not_before": not_before,
                "next_attempt_at": not_before, "error_detail": reason,
            })
            if ids is not None:
                rows[-1]["id"] = message_id
            tally.move(campaign.id, r.list_ids, None, status.value, stat=stat_key(rows[-1]))
            result.by_status[status.value] = result.by_status.get(status.value, 0) + 1
        session.execute(insert(table_of(Message)), rows)
        result.recipients += len(rows)
    filtered = sorted(set(result.by_status) & FILTERED)
    if filtered:
        _created_events(session, campaign.id, filtered)
    if total_cost > 0:
        result.reservation_id = bank.reserve(total_cost, campaign_id=campaign.id,
                                             note=f"campaign {campaign.id}: first attempts")
        result.reserved = total_cost
    tally.flush(session)
    return result


#: the statuses a filter gives a message at fan-out: final from the start
FILTERED = frozenset({Status.BLACKLISTED.value, Status.INVALID_NUMBER.value,
                      Status.DUPLICATE.value, Status.INSUFFICIENT_CREDIT.value})


def _created_events(session: Session, campaign_id: int, statuses: list[str]) -> None:
    """A history event (from no status) for each message a filter stopped: its outcome
    is known at once and is final, so it reaches the status webhooks like any other
    (a queued message's first event is its submit). One INSERT … SELECT through the
    index on (campaign, status): a few rows in most campaigns."""
    session.execute(insert(StatusEvent).from_select(
        ["message_id", "at", "from_status", "to_status", "attempt", "reason"],
        select(Message.id, Message.created_at, null(), Message.status, literal(0),
               func.coalesce(func.substr(Message.error_detail, 1, 500), ""))
        .where(Message.campaign_id == campaign_id, Message.status.in_(statuses),
               Message.kind == "campaign")
        .order_by(Message.id)))


def _chain(*iterators: Iterator[_Recipient]) -> Iterator[_Recipient]:
    for iterator in iterators:
        yield from iterator


def _render(template: str, values: dict[str, Any], names: list[str]) -> str:
    # a contact without a field the template names gets it empty (or its default):
    # the field exists, this contact just has no value
    for name in names:
        values.setdefault(name, None)
    return text.render(template, values)


def _recent(session: Session, valid: list[str], since: datetime,
            campaign_id: int) -> set[tuple[str, str]]:
    """(number, text hash) of messages these numbers got within the window."""
    if not valid:
        return set()
    rows = session.execute(
        select(Message.number, Message.text_hash)
        .where(Message.number.in_(valid), Message.created_at >= since,
               Message.kind != "test",
               # blacklisted messages were not sent either (their category is
               # "unsubscribed", not "not_sent")
               Message.category.not_in(("not_sent", "unsubscribed")),
               # single sends have no campaign: `campaign_id != x` alone is NULL for them
               or_(Message.campaign_id.is_(None), Message.campaign_id != campaign_id)))
    return {(n, h) for n, h in rows}


def _filter(r: _Recipient, blacklisted: set[str], recent: set[tuple[str, str]],
            digest: str) -> tuple[Status | None, str | None]:
    if r.invalid_reason is not None:
        return Status.INVALID_NUMBER, r.invalid_reason
    if r.state == "blacklisted" or r.number in blacklisted:
        return Status.BLACKLISTED, "the number is on the blacklist"
    if r.state == "invalid":
        return Status.INVALID_NUMBER, "the contact is marked invalid"
    if (r.number, digest) in recent:
        return Status.DUPLICATE, "the same text went to this number within the window"
    return None, None


def parse_numbers(lines: Sequence[str], default_region: str | None) -> list[dict[str, Any]]:
    """Ad-hoc numbers as stored with a campaign: ``{"raw", "number"}`` or ``{"raw",
    "reason"}`` for one that does not validate (it ends ``invalid_number``)."""
    out: list[dict[str, Any]] = []
    for raw in lines:
        try:
            out.append({"raw": raw, "number": numbers.normalize(raw, default_region)})
        except InvalidNumberError as exc:
            out.append({"raw": raw, "reason": exc.reason if hasattr(exc, "reason") else str(exc)})
    return out

