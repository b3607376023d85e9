"""What a campaign's text will cost before it exists: encoding, characters and segments
as sent (tracked links included, as :func:`smscope.campaigns.service.create_campaign`
counts them), the estimated cost over its recipients (segments × each destination's
price), and the text rendered for one of its contacts.

The campaign form's live counter (``POST /api/v1/texts/segments``) and the form itself
(without JavaScript) both read this, so they never disagree with the stored campaign.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smscope import numbers as phone
from smscope import text as sms_text
from smscope.campaigns.service import measure_text
from smscope.config import Config
from smscope.db.tables import Contact, ContactList, ListMember
from smscope.errors import SmscopeError
from smscope.pricing import PriceTable
from smscope.tracking import links as tracking_links

__all__ = ["text_counter"]


def _list_ids(session: Session, names: Sequence[str]) -> list[int]:
    if not names:
        return []
    return list(session.scalars(select(ContactList.id).where(ContactList.name.in_(names))))


def _regions(session: Session, list_ids: list[int], numbers: Sequence[str],
             config: Config) -> dict[str | None, int]:
    """How many distinct active contacts (and valid ad-hoc numbers) per country."""
    regions: dict[str | None, int] = {}
    if list_ids:
        members = (select(Contact.id, Contact.region).join(
            ListMember, ListMember.contact_id == Contact.id)
            .where(ListMember.list_id.in_(list_ids), Contact.state == "active")
            .distinct().subquery())
        for region, count in session.execute(
                select(members.c.region, func.count()).group_by(members.c.region)):
            regions[region] = regions.get(region, 0) + int(count)
    for raw in dict.fromkeys(numbers):
        try:
            e164 = phone.normalize(raw, config.default_region)
        except SmscopeError:
            continue
        region = phone.region_of(e164)
        regions[region] = regions.get(region, 0) + 1
    return regions


def _contact(session: Session, list_ids: list[int], offset: int) -> Contact | None:
    if not list_ids:
        return None
    # the contacts the counter counts: active ones (a blacklisted or invalid contact
    # gets no message, so its text is no preview)
    return session.scalar(
        select(Contact).where(Contact.state == "active", Contact.id.in_(
            select(ListMember.contact_id).where(ListMember.list_id.in_(list_ids))))
        .order_by(Contact.id).offset(offset).limit(1))


def _preview(session: Session, template: str, config: Config, list_ids: list[int],
             numbers: Sequence[str], offset: int, track_links: bool) -> dict[str, Any] | None:
    """The text as the ``offset``-th contact of the lists gets it (then the ad-hoc
    numbers); None when there is nobody to show it for."""
    contact = _contact(session, list_ids, offset)
    values: dict[str, Any]
    if contact is not None:
        values = {**(contact.fields or {}), "first_name": contact.first_name,
                  "last_name": contact.last_name, "number": contact.number}
        who = {"number": contact.number, "first_name": contact.first_name,
               "last_name": contact.last_name}
    elif numbers:
        raw = numbers[offset % len(numbers)]
        try:
            e164 = phone.normalize(raw, config.default_region)
        except SmscopeError:
            return None
        values = {"number": e164}
        who = {"number": e164, "first_name": None, "last_name": None}
    else:
        return None
    for placeholder in sms_text.placeholders(template):
        values.setdefault(placeholder.name, None)
    rendered = sms_text.render(template, values)
    sent = tracking_links.preview(rendered, config.public_url) if track_links else rendered
    measured = sms_text.measure(sent)
    return {**who, "offset": offset, "text": sent, "segments": measured.segments,
            "encoding": measured.encoding}


def text_counter(session: Session, template: str, *, config: Config, prices: PriceTable,
                 lists: Sequence[str] = (), numbers: Sequence[str] = (),
                 track_links: bool = True, offset: int = 0) -> dict[str, Any]:
    """The counter of a campaign's text: ``encoding``, ``characters``, ``units``,
    ``segments``, ``per_segment``, ``remaining`` (units left in the last segment),
    ``links`` (tracked links), ``recipients`` (estimated), ``price`` (default price of
    a segment), ``cost`` (estimated credits), ``preview`` (one contact's text or None)
    and ``problem`` (a template error in words, or None)."""
    measured = measure_text(template, config, track_links=track_links)
    list_ids = _list_ids(session, lists)
    regions = _regions(session, list_ids, numbers, config)
    cost = sum((prices.price_for(region) * measured.segments * count
                for region, count in regions.items()), Decimal(0))
    problem = None
    preview = None
    try:
        preview = _preview(session, template, config, list_ids, numbers, max(offset, 0),
                           track_links)
    except SmscopeError as exc:
        problem = str(exc)
    return {
        "encoding": measured.encoding, "characters": measured.characters,
        "units": measured.units, "segments": measured.segments,
        "per_segment": measured.per_segment, "remaining": measured.remaining,
        "links": len(tracking_links.find_links(template)) if track_links else 0,
        "recipients": sum(regions.values()), "price": prices.price_for(None),
        "cost": cost, "preview": preview, "problem": problem,
    }
