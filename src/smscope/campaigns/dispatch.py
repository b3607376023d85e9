"""Dispatch: claim due messages, submit them through a connector, record what happened.

One :class:`Dispatcher` per connector and worker, in three steps per batch:

1. **claim** (one transaction): due messages of sending campaigns are taken with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has one writer at a time), their
   attempt is counted and they are marked *in doubt* — submitted, answer not recorded;
2. **submit** them all at once through the SMPP session (the window keeps at most
   ``window`` outstanding);
3. **record** (one transaction): each part's operator id, status ``sent``, the charge,
   and any receipt that arrived before this record (an orphan); permanent submit
   errors give a final status, temporary ones a retry.

A worker that dies between 1 and 3 leaves at most one batch in doubt: those messages
are never submitted again on their own (a recipient must not get a marketing text
twice); a receipt matched by its addresses settles them, else they end ``undefined``
when their validity is over (:func:`expire`).
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from smscope.campaigns.charges import charge_campaigns
from smscope.campaigns.counters import ACCEPTED_COUNTER, COST_COUNTER, Tally, stat_key
from smscope.campaigns.outcomes import MESSAGE_COLUMNS, Outcomes
from smscope.campaigns.suspension import check_campaigns
from smscope.config import Config
from smscope.contacts import blacklist
from smscope.db.sql import is_postgresql, table_of, update_by_id
from smscope.db.tables import Campaign, Message, MessagePart
from smscope.db.types import to_credit_units
from smscope.errors import InsufficientCreditError, InvalidNumberError
from smscope.pricing import CreditBank, PriceTable
from smscope.receipts.ids import index_key
from smscope.receipts.ingest import apply_orphans
from smscope.receipts.mapping import StatusMapping
from smscope.rules.windows import SendingWindows
from smscope.smpp.client import SubmitResult
from smscope.smpp.constants import CommandStatus
from smscope.statuses import Status

__all__ = ["OPTED_OUT", "Claimed", "claim", "expire", "record", "submit_error_status"]

log = logging.getLogger(__name__)

_S = CommandStatus
#: how long a claimed batch belongs to its worker: until then, a receipt for one of its
#: messages waits for that worker to record the submit response; after it (the worker
#: died), the receipt settles the in-doubt message by its addresses
LEASE = timedelta(seconds=30)
_DUE_STATUSES = ("queued", "scheduled", "retry_scheduled")

#: submit_sm_resp errors that say the destination itself is wrong
_ROUTING = frozenset({int(_S.ESME_RINVDSTADR), int(_S.ESME_RINVDSTTON),
                      int(_S.ESME_RINVDSTNPI)})
#: errors of the SMSC itself, worth trying again later
_TEMPORARY = frozenset({int(_S.ESME_RTHROTTLED), int(_S.ESME_RMSGQFUL),
                        int(_S.ESME_RSYSERR)})


#: not an SMPP command status: an HTTP provider refused the number because its owner
#: opted out (Twilio 21610, Vonage SMS API status 7, Messages API 1050)
OPTED_OUT = -1


def submit_error_status(command_status: int | None) -> Status:
    """The status of a message whose submit_sm was refused with ``command_status``."""
    if command_status == OPTED_OUT:
        return Status.BLACKLISTED
    if command_status in _ROUTING:
        return Status.ROUTING_ERROR
    if command_status in _TEMPORARY:
        return Status.TEMPORARY_ERROR_OPERATOR
    return Status.REJECTED


class Claimed(dict[str, Any]):
    """A claimed message: its columns, plus ``cost`` of this attempt and ``validity``."""


def claim(session: Session, *, connector_id: int, limit: int, now: datetime,
          worker_id: str, config: Config, prices: PriceTable,
          windows: SendingWindows, campaign_id: int | None = None) -> list[Claimed]:
    """Take up to ``limit`` due messages of ``connector_id`` and mark them in flight."""
    stmt = (
        select(*MESSAGE_COLUMNS, Message.text)
        .join(Campaign, Campaign.id == Message.campaign_id)
        .where(Message.connector_id == connector_id,
               Message.status.in_(_DUE_STATUSES),
               Message.in_doubt.is_(False),
               or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
               or_(Message.claimed_until.is_(None), Message.claimed_until < now),
               # test sends go before the campaign itself does
               or_(Campaign.state == "sending",
                   and_(Message.kind == "test", Campaign.state != "cancelled")))
        .order_by(Message.id)
        .limit(limit)
    )
    if campaign_id is not None:
        stmt = stmt.where(Message.campaign_id == campaign_id)
    if is_postgresql(session):
        stmt = stmt.with_for_update(of=Message, skip_locked=True)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    if not rows:
        return []
    # the campaign's columns once per campaign, not joined into every row: its options
    # hold an ad-hoc numbers campaign's whole list: only the key needed is read
    campaigns = {c.id: (c.type, c.validity)
                 for c in session.execute(
                     select(Campaign.id, Campaign.type,
                            Campaign.options["validity_seconds"].as_float().label("validity"))
                     .where(Campaign.id.in_({r["campaign_id"] for r in rows})))}
    for row in rows:
        row["campaign_type"], row["validity_seconds"] = campaigns[row["campaign_id"]]
    outcomes = Outcomes(session, config=config, now=now)
    claimed: list[Claimed] = []
    waiting: list[dict[str, Any]] = []
    for row in rows:
        if row["campaign_type"] == "marketing":
            opens = windows.next_opening(row["region"], now)
            if opens > now:
                # through Outcomes, so that the counters and the history follow a queued
                # (or retry_scheduled) message to `scheduled`; next_attempt_at is set on
                # the row first because Outcomes.flush writes it from there
                row["next_attempt_at"] = opens
                if outcomes.change(row, Status.SCHEDULED,
                                   reason="waiting for the sending window") is None:
                    waiting.append({"_id": row["id"], "opens": opens})  # already scheduled
                continue
        cost = (prices.price_for(row["region"]) * row["segments"]).quantize(Decimal("0.0001"))
        item = Claimed(row)
        item["cost"] = cost
        claimed.append(item)
    for wait in waiting:
        session.execute(update(Message).where(Message.id == wait["_id"])
                        .values(next_attempt_at=wait["opens"]))
    claimed = _pay_retries(session, outcomes, claimed)
    for item in claimed:
        # only once the retry is paid: one that is not made ends from retry_scheduled
        if Status(item["status"]) is Status.RETRY_SCHEDULED:
            outcomes.change(item, Status.QUEUED, reason=f"attempt {item['attempts'] + 1}")
        first = item["first_submitted_at"] or now
        validity = _validity(item, config)
        values = {"attempts": item["attempts"] + 1, "in_doubt": True,
                  "claimed_by": worker_id, "claimed_until": now + LEASE,
                  "first_submitted_at": first,
                  "validity_until": item["validity_until"] or first + validity}
        item.update(values)
    # one executemany for the batch: a statement per message was most of a claim's time
    update_by_id(session, Message, _CLAIM_COLUMNS,
                 [{"_id": item["id"], **{k: item[k] for k in _CLAIM_COLUMNS}}
                  for item in claimed])
    outcomes.flush()
    return claimed


_CLAIM_COLUMNS = ("attempts", "in_doubt", "claimed_by", "claimed_until",
                  "first_submitted_at", "validity_until")
_RECORD_COLUMNS = ("claimed_by", "claimed_until", "in_doubt", "attempts",
                   "first_submitted_at", "validity_until", "credits", "sent_at",
                   "error_detail")


def _validity(item: dict[str, Any], config: Config) -> timedelta:
    seconds = item.get("validity_seconds")
    return timedelta(seconds=float(seconds)) if seconds else config.validity.default


def _pay_retries(session: Session, outcomes: Outcomes,
                 claimed: list[Claimed]) -> list[Claimed]:
    """Retries are paid from the balance before they go, each as far as the balance
    goes, in claim order; once one cannot be paid, no later one is made either (as at
    fan-out, CONTRACTS §8). A retry not made ends the message with its soft-bounce
    status. If another worker spends the balance between the reading and the charge,
    the charge of that campaign's retries fails and none of them is made."""
    if not any(item["attempts"] for item in claimed):
        return claimed
    bank = CreditBank(session)
    left = bank.balance().available
    paid: dict[int, Decimal] = defaultdict(Decimal)
    unpaid: list[Claimed] = []
    for item in claimed:
        if not item["attempts"]:
            continue
        if unpaid or item["cost"] > left:
            unpaid.append(item)
            continue
        left -= item["cost"]
        paid[item["campaign_id"]] += item["cost"]
    refused: set[int] = set()
    for campaign_id, amount in paid.items():
        try:
            if amount > 0:
                bank.charge(amount, campaign_id=campaign_id, note="retries")
        except InsufficientCreditError:
            # another worker spent the balance since it was read
            refused.add(campaign_id)
    not_made = {id(item) for item in unpaid} | {
        id(item) for item in claimed if item["attempts"] and item["campaign_id"] in refused}
    kept = []
    for item in claimed:
        if id(item) in not_made:
            final = _soft_bounce_of(item)
            # retry=False: the soft bounce is final here, not another retry_scheduled
            outcomes.change(item, final, reason="retry not made: not enough credit",
                            retry=False)
            continue
        if item["attempts"]:
            item["paid"] = True
        kept.append(item)
    return kept


def _soft_bounce_of(item: dict[str, Any]) -> Status:
    detail = (item.get("error_detail") or "").split(":", 1)[0]
    try:
        status = Status(detail)
    except ValueError:
        return Status.TEMPORARY_ERROR_OPERATOR
    return status if status.is_final else Status.TEMPORARY_ERROR_OPERATOR


def record(session: Session, items: Sequence[Claimed], results: Sequence[SubmitResult | None],
           *, connector_id: int, id_format: str, mapping: StatusMapping, config: Config,
           now: datetime) -> dict[str, int]:
    """Record the submit results of claimed messages (None: not submitted at all, so
    the claim is simply released). Returns counts by outcome."""
    outcomes = Outcomes(session, config=config, now=now)
    tally: Tally = outcomes.tally
    counts = {"sent": 0, "failed": 0, "in_doubt": 0, "released": 0, "not_held": 0}
    held = _still_held(session, items)
    new_parts: list[dict[str, Any]] = []
    charges: dict[int, Decimal] = defaultdict(Decimal)
    test_charges: dict[int, Decimal] = defaultdict(Decimal)
    part_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    opted_out: list[Claimed] = []
    for item, result in zip(items, results, strict=True):
        if item["id"] not in held:
            # the lease ran out before this record and a receipt settled the submit
            # meanwhile (ingest's in-doubt match): it is counted and paid already
            counts["not_held"] += 1
            continue
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
        if result is None:
            values.update(in_doubt=False, attempts=item["attempts"] - 1)
            if item["attempts"] == 1:
                # never submitted after all: its validity, which runs from the first
                # submit, has not started (the claim set it in advance)
                values.update(first_submitted_at=None, validity_until=None)
            counts["released"] += 1
        elif result.ok:
            rows = [{"message_id": item["id"], "attempt": item["attempts"], "part_no": n,
                     "part_count": len(result.parts), "connector_id": connector_id,
                     "operator_id": (p.message_id or "")[:128],
                     "operator_key": index_key(p.message_id or "", id_format),
                     "status": Status.SENT.value, "submitted_at": now,
                     "status_updated_at": now}
                    for n, p in enumerate(result.parts, 1)]
            part_rows.extend(rows)
            values.update(in_doubt=False, credits=item["credits"] + item["cost"])
            # test sends are charged (from the balance) but stay out of the figures
            counted = item["campaign_id"] if item["kind"] != "test" else None
            stat = stat_key(item)
            tally.add(counted, None, COST_COUNTER, to_credit_units(item["cost"]), stat=stat)
            if item["sent_at"] is None:
                values["sent_at"] = now
                tally.add(counted, item["list_ids"], ACCEPTED_COUNTER, stat=stat)
            if item["kind"] == "test":
                test_charges[item["campaign_id"]] += item["cost"]
            elif not item.get("paid"):
                charges[item["campaign_id"]] += item["cost"]
            outcomes.change(item, Status.SENT, reason="accepted by the operator",
                            attempt=item["attempts"])
            counts["sent"] += 1
        elif result.in_doubt:
            counts["in_doubt"] += 1
            values["error_detail"] = f"in doubt: {result.error}"
        else:
            part = next(p for p in result.parts if p.outcome == "failed")
            values.update(in_doubt=False)
            status = submit_error_status(part.status)
            code = (f"0x{part.status:08X}" if part.status is not None and part.status >= 0
                    else None)
            outcomes.change(item, status, reason=f"submit refused: {part.error}",
                            error_code=code, attempt=item["attempts"])
            if status is Status.BLACKLISTED:
                opted_out.append(item)
            counts["failed"] += 1
        item.update(values)
        updates.append({"_id": item["id"], **{k: item[k] for k in _RECORD_COLUMNS}})
    if part_rows:
        # the batch's parts in one INSERT … RETURNING, ids in the order of the rows
        parts_table = table_of(MessagePart)
        ids = session.execute(
            insert(parts_table).returning(parts_table.c.id, sort_by_parameter_order=True),
            part_rows).scalars().all()
        for row, part_id in zip(part_rows, ids, strict=True):
            new_parts.append({"id": part_id, **row, "error_code": None})
    update_by_id(session, Message, _RECORD_COLUMNS, updates)
    for item in opted_out:
        # like a STOP reply: never texted again
        with contextlib.suppress(InvalidNumberError):
            blacklist.add(session, item["number"], source="provider_optout",
                          actor="provider", campaign_id=item["campaign_id"],
                          reason="refused by the provider: the recipient opted out")
    charge_campaigns(session, charges)
    charge_campaigns(session, test_charges, reserved=False, note="test sends")
    if new_parts:
        apply_orphans(session, outcomes, connector_id=connector_id, id_format=id_format,
                      mapping=mapping, parts=new_parts,
                      messages={item["id"]: item for item in items if item["id"] in held})
    outcomes.flush()
    check_campaigns(session, outcomes.campaigns, config=config, now=now)
    return counts


def _still_held(session: Session, items: Sequence[Claimed]) -> set[int]:
    """The ids among ``items`` that are still this claim's: in doubt and claimed by the
    worker that claimed them (locked on PostgreSQL until the record commits, so that a
    receipt settling one by its addresses waits and then finds it recorded)."""
    if not items:
        return set()
    stmt = (select(Message.id, Message.claimed_by)
            .where(Message.id.in_(sorted(item["id"] for item in items)),
                   Message.in_doubt.is_(True)))
    if is_postgresql(session):
        stmt = stmt.order_by(Message.id).with_for_update()
    claimant = {item["id"]: item["claimed_by"] for item in items}
    return {row.id for row in session.execute(stmt) if row.claimed_by == claimant[row.id]}


def expire(session: Session, *, config: Config, now: datetime,
           limit: int = 5000) -> int:
    """Messages past their validity with no final receipt become ``expired`` (a guess a
    later receipt replaces); in-doubt submits with no receipt become ``undefined``."""
    rows = [dict(r) for r in session.execute(
        select(*MESSAGE_COLUMNS)
        .where(Message.validity_until < now,
               or_(Message.status.in_(("sent", "delivered_to_operator")),
                   and_(Message.in_doubt.is_(True),
                        Message.status.in_(("queued", "scheduled")))))
        .limit(limit)).mappings()]
    if not rows:
        return 0
    outcomes = Outcomes(session, config=config, now=now)
    for row in rows:
        if row["in_doubt"]:
            outcomes.change(row, Status.UNDEFINED, guess=True,
                            reason="submit in doubt (no answer recorded) and no receipt "
                                   "within the validity period")
            session.execute(update(Message).where(Message.id == row["id"])
                            .values(in_doubt=False, claimed_by=None, claimed_until=None))
        else:
            outcomes.change(row, Status.EXPIRED, guess=True,
                            reason="no final receipt within the validity period")
    outcomes.flush()
    check_campaigns(session, outcomes.campaigns, config=config, now=now)
    return len(rows)
