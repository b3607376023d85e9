"""Campaigns: create, send (fan-out), pause, resume, cancel, complete — the lifecycle of
SPEC §2, each step written to the timeline with who did it and why.

``draft → scheduled → sending → completed``, plus ``paused`` (by a user), ``suspended``
(automatically, see :mod:`smscope.campaigns.suspension`) and ``cancelled``. Every
function works in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from smscope import text as sms_text
from smscope.campaigns import suspension, timeline
from smscope.campaigns.fanout import fan_out
from smscope.config import Config, parse_duration
from smscope.connectors.registry import get_connector
from smscope.contacts.book import get_list
from smscope.db.tables import (
    Campaign,
    CampaignList,
    Contact,
    CreditReservation,
    ListMember,
    Message,
)
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, TemplateError, UsageError
from smscope.output import credits_text
from smscope.pricing import CreditBank, PriceTable
from smscope.statuses import Category
from smscope.tracking import links as tracking_links
from smscope.tracking.store import Rewriter

__all__ = [
    "CampaignStateError",
    "cancel",
    "complete_finished",
    "create_campaign",
    "get_campaign",
    "measure_text",
    "parse_validity",
    "pause",
    "resume",
    "send",
    "send_single",
    "start_due",
]

TYPES = ("marketing", "transactional")
FINAL_STATES = ("completed", "cancelled")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ._&-]{1,11}$")
_NUMERIC_SENDER = re.compile(r"^\+?[0-9]{3,15}$")
#: fields every contact has, usable as placeholders
BUILTIN_FIELDS = ("first_name", "last_name", "number")


class CampaignStateError(UsageError):
    """The campaign is not in a state that allows this."""


def parse_validity(value: str | None, option: str = "--validity") -> timedelta | None:
    """A campaign's validity period as written (``48h``); None: the configuration's."""
    if value is None:
        return None
    try:
        period = parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if period <= timedelta(0):
        raise UsageError(f"{option} must be positive")
    return period


def check_sender(sender: str) -> str:
    value = sender.strip()
    if _ALPHANUMERIC_SENDER.match(value) or _NUMERIC_SENDER.match(value):
        return value
    raise UsageError(
        f"sender {sender!r}: use at most 11 letters, digits, spaces or . _ & - (with a "
        "letter), or a phone number of 3 to 15 digits"
    )


def _known_fields(session: Session, list_ids: Sequence[int], wanted: set[str]) -> set[str]:
    """The placeholders of ``wanted`` that contacts of these lists have (stops scanning
    once all are found)."""
    found = set(BUILTIN_FIELDS) & wanted
    missing = wanted - found
    if not missing or not list_ids:
        return found
    rows = session.execute(
        select(Contact.fields).join(ListMember, ListMember.contact_id == Contact.id)
        .where(ListMember.list_id.in_(list_ids)).execution_options(yield_per=5000))
    for (fields,) in rows:
        if fields:
            missing -= set(fields)
            if not missing:
                break
    return wanted - missing


def create_campaign(
    session: Session,
    *,
    name: str,
    sender: str,
    text: str,
    config: Config,
    now: datetime,
    lists: Sequence[str] = (),
    numbers: list[dict[str, Any]] | None = None,
    type_: str = "marketing",
    connector: str | None = None,
    schedule: datetime | None = None,
    validity: timedelta | None = None,
    track_links: bool = True,
    actor: str = "cli",
) -> Campaign:
    """A new draft campaign; UsageError / NotFoundError / TemplateError say what to fix.

    With ``track_links`` (the default) the links of the text are sent as tracked links
    (:mod:`smscope.tracking`), and the segment count says so."""
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("a campaign needs a name of 1 to 200 characters")
    sender = check_sender(sender)
    if not text.strip():
        raise UsageError("a campaign needs a text")
    if type_ not in TYPES:
        raise UsageError(f"campaign type {type_!r}: use marketing or transactional")
    if not lists and not numbers:
        raise UsageError("a campaign needs recipients: give --list NAME or --numbers FILE")
    if schedule is not None and schedule <= now:
        raise UsageError(f"the schedule {schedule.isoformat()} is in the past; give a later "
                         "date-time, or none to send at once")
    list_rows = [get_list(session, list_name) for list_name in dict.fromkeys(lists)]
    # a placeholder with a default reads fine for a contact without the field
    wanted = {p.name for p in sms_text.placeholders(text) if p.default is None}
    known = _known_fields(session, [row.id for row in list_rows], wanted)
    unknown = sorted(wanted - known)
    if unknown:
        raise TemplateError(
            f"the text uses {{{unknown[0]}}}, which no contact of the target lists has; "
            f"fields: {', '.join(BUILTIN_FIELDS)} and the lists' custom fields"
        )
    connector_id = get_connector(session, connector).id if connector else None
    options: dict[str, Any] = {}
    if validity is not None:
        options["validity_seconds"] = validity.total_seconds()
    if not track_links:
        options["track_links"] = False
    measured = sms_text.measure(_as_sent(text, config, options))
    campaign = Campaign(name=name, sender=sender, text=text, type=type_, state="draft",
                        connector_id=connector_id, schedule_at=schedule, options=options,
                        numbers=numbers or None,
                        encoding=measured.encoding, segments=measured.segments,
                        created_at=now, updated_at=now)
    session.add(campaign)
    session.flush()
    session.add_all(CampaignList(campaign_id=campaign.id, list_id=row.id) for row in list_rows)
    timeline.record(session, campaign.id, "created", f"created as a {type_} campaign",
                    actor=actor)
    return campaign


def edit_campaign(session: Session, campaign_id: int, *, config: Config, now: datetime,
                  name: str | None = None, sender: str | None = None,
                  text: str | None = None, schedule: datetime | None = None,
                  unschedule: bool = False, connector: str | None = None,
                  lists: Sequence[str] | None = None,
                  numbers: list[dict[str, Any]] | None = None, type_: str | None = None,
                  validity: timedelta | None = None, actor: str = "cli") -> Campaign:
    """Change a draft (or a scheduled campaign not started yet, which goes back to
    waiting for its new schedule). The timeline records what changed.

    ``lists`` and ``numbers`` replace the campaign's targets when given (an empty
    ``numbers`` list drops the ad-hoc numbers); a campaign keeps needing one of them."""
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.state not in ("draft", "scheduled") or campaign.started_at is not None:
        raise CampaignStateError(f"campaign {campaign_id} is {campaign.state}; only a draft "
                                 "or a scheduled campaign not started yet can be edited")
    changed = _retarget(session, campaign, lists, numbers)
    if type_ is not None and type_ != campaign.type:
        if type_ not in TYPES:
            raise UsageError(f"campaign type {type_!r}: use marketing or transactional")
        campaign.type = type_
        changed.append("type")
    if validity is not None:
        campaign.options = {**(campaign.options or {}),
                            "validity_seconds": validity.total_seconds()}
        changed.append("validity")
    if name is not None:
        if not name.strip() or len(name.strip()) > 200:
            raise UsageError("a campaign needs a name of 1 to 200 characters")
        campaign.name = name.strip()
        changed.append("name")
    if sender is not None:
        campaign.sender = check_sender(sender)
        changed.append("sender")
    if text is not None:
        if not text.strip():
            raise UsageError("a campaign needs a text")
        session.flush()
        list_ids = list(session.scalars(select(CampaignList.list_id)
                                        .where(CampaignList.campaign_id == campaign_id)))
        wanted = {p.name for p in sms_text.placeholders(text) if p.default is None}
        unknown = sorted(wanted - _known_fields(session, list_ids, wanted))
        if unknown:
            raise TemplateError(f"the text uses {{{unknown[0]}}}, which no contact of the "
                                "target lists has")
        measured = sms_text.measure(_as_sent(text, config, campaign.options or {}))
        campaign.text, campaign.encoding, campaign.segments = (
            text, measured.encoding, measured.segments)
        changed.append("text")
    if connector is not None:
        campaign.connector_id = get_connector(session, connector).id
        changed.append("connector")
    if schedule is not None or unschedule:
        if schedule is not None and schedule <= now:
            raise UsageError(f"the schedule {schedule.isoformat()} is in the past")
        campaign.schedule_at = schedule
        if campaign.state == "scheduled" and schedule is None:
            campaign.state = "draft"
        changed.append("schedule")
    if not changed:
        raise UsageError("nothing to change: give --name, --sender, --text, --connector, "
                         "--schedule or --no-schedule")
    campaign.updated_at = now
    timeline.record(session, campaign.id, "edited", f"edited: {', '.join(changed)}",
                    actor=actor, fields=changed)
    return campaign


def _retarget(session: Session, campaign: Campaign, lists: Sequence[str] | None,
              numbers: list[dict[str, Any]] | None) -> list[str]:
    """Replace the lists and ad-hoc numbers of a campaign not started yet; what changed."""
    changed = []
    if lists is not None:
        rows = [get_list(session, name) for name in dict.fromkeys(lists)]
        current = set(session.scalars(select(CampaignList.list_id)
                                      .where(CampaignList.campaign_id == campaign.id)))
        if {row.id for row in rows} != current:
            session.query(CampaignList).filter(
                CampaignList.campaign_id == campaign.id).delete()
            session.add_all(CampaignList(campaign_id=campaign.id, list_id=row.id)
                            for row in rows)
            changed.append("lists")
    if numbers is not None and (numbers or None) != campaign.numbers:
        campaign.numbers = numbers or None
        changed.append("numbers")
    if changed:
        session.flush()
        has_lists = session.scalar(select(exists().where(
            CampaignList.campaign_id == campaign.id)))
        if not has_lists and not campaign.numbers:
            raise UsageError("a campaign needs recipients: give a list or numbers")
    return changed


def measure_text(template: str, config: Config, *, track_links: bool = True
                 ) -> sms_text.Measure:
    """Encoding and segments of a campaign's text as it will be sent (its links as
    tracked links when they are tracked): what a new campaign records."""
    return sms_text.measure(_as_sent(template, config, {"track_links": track_links}))


def _as_sent(template: str, config: Config, options: dict[str, Any]) -> str:
    """The template with its links as they will be sent, for the segment count."""
    if not options.get("track_links", True):
        return template
    return tracking_links.preview(template, config.public_url)


#: the largest campaign id (a 32-bit integer column on PostgreSQL)
MAX_CAMPAIGN_ID = 2**31 - 1


def get_campaign(session: Session, campaign_id: int, *, lock: bool = False) -> Campaign:
    # an id beyond the column's range names no campaign (PostgreSQL would refuse to
    # even compare it: "integer out of range")
    if not 1 <= campaign_id <= MAX_CAMPAIGN_ID:
        raise NotFoundError(f"campaign {campaign_id} does not exist "
                            "(see 'smscope campaign list')")
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()
    campaign = session.scalar(stmt)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist "
                            "(see 'smscope campaign list')")
    return campaign


def _set_state(session: Session, campaign: Campaign, state: str, kind: str, message: str,
               actor: str, now: datetime, reason: str | None = None, **data: Any) -> None:
    campaign.state = state
    campaign.state_reason = reason
    campaign.updated_at = now
    timeline.record(session, campaign.id, kind, message, actor=actor, **data)


def send(session: Session, campaign_id: int, *, config: Config, prices: PriceTable,
         now: datetime, actor: str = "cli") -> Campaign:
    """Send a draft: at once (fan-out, ``sending``) or at its schedule (``scheduled``)."""
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.state != "draft":
        raise CampaignStateError(
            f"campaign {campaign_id} is {campaign.state}; only a draft can be sent"
            + (" (resume it with 'smscope campaign resume')"
               if campaign.state in ("paused", "suspended") else ""))
    if campaign.connector_id is None:
        raise UsageError(f"campaign {campaign_id} has no connector; create it with "
                         "--connector NAME")
    if campaign.schedule_at is not None and campaign.schedule_at > now:
        _set_state(session, campaign, "scheduled", "scheduled",
                   f"scheduled for {campaign.schedule_at.isoformat()}", actor, now)
        return campaign
    _start(session, campaign, config=config, prices=prices, now=now, actor=actor)
    return campaign


def _start(session: Session, campaign: Campaign, *, config: Config, prices: PriceTable,
           now: datetime, actor: str) -> None:
    result = fan_out(session, campaign, config=config, prices=prices, now=now)
    if result.recipients == 0:
        raise UsageError(f"campaign {campaign.id} has no recipients: its lists are empty "
                         "and it has no numbers")
    campaign.recipients = result.recipients
    campaign.started_at = now
    parts = ", ".join(f"{n:,} {status}" for status, n in sorted(result.by_status.items()))
    _set_state(session, campaign, "sending", "started",
               f"started: {result.recipients:,} recipients ({parts}); "
               f"{credits_text(result.reserved)} credits reserved", actor, now,
               by_status=result.by_status, reserved=str(result.reserved))


def start_due(session: Session, *, config: Config, prices: PriceTable,
              now: datetime) -> list[int]:
    """Start the scheduled campaigns whose time has come; their ids."""
    due = list(session.scalars(
        select(Campaign).where(Campaign.state == "scheduled", Campaign.schedule_at <= now)
        .order_by(Campaign.schedule_at).with_for_update(skip_locked=True)))
    for campaign in due:
        _start(session, campaign, config=config, prices=prices, now=now, actor="scheduler")
    return [c.id for c in due]


def pause(session: Session, campaign_id: int, *, now: datetime, actor: str = "cli") -> Campaign:
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.state not in ("sending", "scheduled"):
        raise CampaignStateError(f"campaign {campaign_id} is {campaign.state}; only a "
                                 "sending or scheduled campaign can be paused")
    _set_state(session, campaign, "paused", "paused", "paused", actor, now,
               reason="paused by a user", was=campaign.state)
    return campaign


def resume(session: Session, campaign_id: int, *, now: datetime,
           actor: str = "cli") -> Campaign:
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.state not in ("paused", "suspended"):
        raise CampaignStateError(f"campaign {campaign_id} is {campaign.state}; only a "
                                 "paused or suspended campaign can be resumed")
    was = campaign.state
    target = "sending" if campaign.started_at is not None else "scheduled"
    _set_state(session, campaign, target, "resumed", f"resumed ({was} before)", actor, now)
    if was == "suspended":
        # a resumed campaign is not suspended again by the figures that stopped it
        campaign.options = {**(campaign.options or {}),
                            "suspension_baseline": suspension.baseline(session, campaign.id)}
    return campaign


def cancel(session: Session, campaign_id: int, *, now: datetime, actor: str = "cli") -> Campaign:
    """Stop for good: messages not yet submitted stay unsent; credits held are released."""
    campaign = get_campaign(session, campaign_id, lock=True)
    if campaign.state in FINAL_STATES:
        raise CampaignStateError(f"campaign {campaign_id} is already {campaign.state}")
    unsent = session.scalar(
        select(func.count()).select_from(Message)
        .where(Message.campaign_id == campaign_id,
               Message.status.in_(("queued", "scheduled", "retry_scheduled")))) or 0
    released = _release(session, campaign_id)
    _set_state(session, campaign, "cancelled", "cancelled",
               f"cancelled; {unsent:,} messages not submitted, "
               f"{credits_text(released)} credits released", actor, now,
               reason="cancelled by a user")
    campaign.completed_at = now
    return campaign


def _release(session: Session, campaign_id: int) -> Decimal:
    """Give back what the campaign's reservations still hold; the amount."""
    total = Decimal(0)
    bank = CreditBank(session)
    for reservation in list(session.scalars(
            select(CreditReservation).where(CreditReservation.campaign_id == campaign_id,
                                            CreditReservation.closed_at.is_(None)))):
        total += reservation.amount
        bank.release(reservation.id, note=f"campaign {campaign_id} ended")
        reservation.closed_at = reservation.closed_at or utcnow()
    return total


def complete_finished(session: Session, *, now: datetime) -> list[int]:
    """Mark ``sending`` campaigns whose every message is final as ``completed``."""
    pending = exists().where(and_(Message.campaign_id == Campaign.id,
                                  Message.category == Category.PENDING.value))
    done = list(session.scalars(
        select(Campaign).where(Campaign.state == "sending", ~pending)))
    for campaign in done:
        released = _release(session, campaign.id)
        campaign.completed_at = now
        _set_state(session, campaign, "completed", "completed",
                   f"completed: every message has its final status; "
                   f"{credits_text(released)} unused credits released", "system", now)
    return [c.id for c in done]


#: most numbers one test send may go to
MAX_TEST_NUMBERS = 20


def test_send(session: Session, campaign_id: int, numbers: Sequence[str], *,
              config: Config, now: datetime, actor: str = "cli") -> list[int]:
    """Queue a test message of the campaign to each of ``numbers`` (status tracked like
    any message, kept out of the campaign's figures); returns their ids."""
    from sqlalchemy import insert

    from smscope import numbers as phone
    from smscope.campaigns.fanout import text_hash
    from smscope.contacts import blacklist
    from smscope.db.tables import Message

    campaign = get_campaign(session, campaign_id)
    if campaign.state in FINAL_STATES:
        raise CampaignStateError(f"campaign {campaign_id} is {campaign.state}; test sends "
                                 "are for campaigns still to send")
    if campaign.connector_id is None:
        raise UsageError(f"campaign {campaign_id} has no connector; create it with "
                         "--connector NAME")
    if not numbers or len(numbers) > MAX_TEST_NUMBERS:
        raise UsageError(f"give 1 to {MAX_TEST_NUMBERS} numbers to test with (--to)")
    links = (Rewriter.for_campaign(session, campaign.id, campaign.text, config.public_url)
             if (campaign.options or {}).get("track_links", True) else None)
    wanted = list(dict.fromkeys(numbers))
    # tracked links carry the message id: taken before the messages are written
    new_ids = links.ids(session, len(wanted)) if links is not None else None
    rows = []
    for raw in wanted:
        e164 = phone.normalize(raw, config.default_region)
        if blacklist.is_blacklisted(session, e164):
            raise UsageError(f"{e164} is on the blacklist: it gets no message, tests "
                             "included")
        contact = session.scalar(select(Contact).where(Contact.number == e164))
        values: dict[str, Any] = {"number": e164}
        if contact is not None:
            values.update(contact.fields or {})
            values.update(first_name=contact.first_name, last_name=contact.last_name)
        for placeholder in sms_text.placeholders(campaign.text):
            values.setdefault(placeholder.name, None)
        row: dict[str, Any] = {}
        if links is None or new_ids is None:
            rendered = sent = sms_text.render(campaign.text, values)
        else:
            row["id"] = next(new_ids)
            rendered, sent = links.render(values, row["id"])
        measured = sms_text.measure(sent)
        rows.append({**row,
            "campaign_id": campaign.id, "contact_id": contact.id if contact else None,
            "kind": "test", "number": e164, "region": phone.region_of(e164),
            "sender": campaign.sender, "text": sent, "text_hash": text_hash(rendered),
            "encoding": measured.encoding, "segments": measured.segments,
            "connector_id": campaign.connector_id, "status": "queued",
            "category": "pending", "status_updated_at": now, "created_at": now,
        })
    ids = list(session.execute(insert(Message).returning(Message.id), rows).scalars())
    sent_to = ", ".join(str(r["number"]) for r in rows)
    timeline.record(session, campaign.id, "test_sent", f"test sent to {sent_to}",
                    actor=actor)
    return ids


def is_single_message() -> Any:
    """SQL: the campaign is a single transactional message (:func:`send_single`), which
    the campaign lists keep apart from real campaigns."""
    return func.coalesce(Campaign.options["single"].as_boolean(), False)


def send_single(session: Session, number: str, *, sender: str, text: str, config: Config,
                prices: PriceTable, now: datetime, connector: str | None = None,
                track_links: bool = True, actor: str = "cli") -> Message:
    """One transactional message, sent at once: a transactional campaign of one
    number (named after it), so that it goes through the same fan-out, filters,
    credits, dispatch and receipts as any other message and has a report. Returns the
    message (its status says whether a filter stopped it)."""
    from smscope.campaigns.fanout import parse_numbers

    [entry] = parse_numbers([number], config.default_region)
    if "reason" in entry:
        raise UsageError(f"{number!r} is not a mobile number: {entry['reason']}")
    campaign = create_campaign(session, name=f"message to {entry['number']}", sender=sender,
                               text=text, config=config, now=now, numbers=[entry],
                               type_="transactional", connector=connector,
                               track_links=track_links, actor=actor)
    campaign.options = {**(campaign.options or {}), "single": True}
    send(session, campaign.id, config=config, prices=prices, now=now, actor=actor)
    message = session.scalar(select(Message).where(Message.campaign_id == campaign.id))
    assert message is not None  # the fan-out wrote the one message
    return message
