"""The campaign report's figures (CONTRACTS §5): counts by category and by status,
rates with their formulas, cost, replies, clicks — read from the campaign's counters,
so the report costs the same for 100 or 10,000,000 recipients.

Every rate is a fraction in [0, 1] (0 when its denominator is 0). ``recipients`` counts
every targeted number, not-sent ones included; test sends are not recipients: they
are listed apart (``tests``) and counted nowhere else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.campaigns.counters import ACCEPTED_COUNTER, COST_COUNTER, read_counters
from smscope.campaigns.service import get_campaign
from smscope.db.tables import CampaignList, Connector, ContactList, Message
from smscope.db.types import from_credit_units
from smscope.statuses import Category, Status

__all__ = ["FORMULAS", "campaign_report", "rates_of"]

#: how each rate is computed, in words (shown next to it in every rendering)
FORMULAS: dict[str, str] = {
    "receipt_rate": "delivered (received on the handset) / recipients",
    "waiting_rate": "pending (queued, scheduled, sent, at the operator, retry scheduled) "
                    "/ recipients",
    "temporary_error_rate": "soft bounces (temporary errors after the last attempt, "
                            "expired) / recipients",
    "permanent_error_rate": "hard bounces (unknown or unallocated numbers, routing "
                            "errors) / recipients",
    "error_rate": "errors (rejected, reception or operator errors, undefined) / recipients",
    "unsubscribe_rate": "unsubscribes (blacklisted, not sent + STOP replies after this "
                        "campaign) / recipients",
    "delivery_rate": "received / messages an operator accepted at least once",
}

def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def rates_of(counts: dict[str, int], *, recipients: int, unsubscribes: int,
             received: int, sent: int) -> dict[str, float]:
    """The rates of CONTRACTS §5 from the counts by category."""
    return {
        "receipt_rate": _ratio(counts[Category.DELIVERED.value], recipients),
        "waiting_rate": _ratio(counts[Category.PENDING.value], recipients),
        "temporary_error_rate": _ratio(counts[Category.SOFT_BOUNCE.value], recipients),
        "permanent_error_rate": _ratio(counts[Category.HARD_BOUNCE.value], recipients),
        "error_rate": _ratio(counts[Category.ERROR.value], recipients),
        "unsubscribe_rate": _ratio(unsubscribes, recipients),
        "delivery_rate": _ratio(received, sent),
    }


def _figures(counters: dict[str, int]) -> dict[str, Any]:
    statuses = {s.value: counters.get(s.value, 0) for s in Status if s is not Status.TEST}
    counts = {c.value: 0 for c in Category if c is not Category.TEST}
    for status in Status:
        if status is not Status.TEST:
            counts[status.category.value] += statuses[status.value]
    recipients = sum(statuses.values())
    stop_replies = counters.get("stop_replies", 0)
    unsubscribes = counts[Category.UNSUBSCRIBED.value] + stop_replies
    sent = counters.get(ACCEPTED_COUNTER, 0)
    return {
        "recipients": recipients,
        "sent": sent,
        "counts": counts,
        "statuses": statuses,
        "unsubscribes": unsubscribes,
        "rates": rates_of(counts, recipients=recipients, unsubscribes=unsubscribes,
                          received=statuses[Status.RECEIVED.value], sent=sent),
        "cost_credits": from_credit_units(counters.get(COST_COUNTER, 0)),
        "replies": counters.get("replies", 0),
        "stop_replies": stop_replies,
        # numbers like ``replies``: scripts compare them directly
        "clicks": counters.get("clicks", 0),
        "unique_clicks": counters.get("unique_clicks", 0),
    }


def campaign_report(session: Session, campaign_id: int) -> dict[str, Any]:
    """The report of one campaign as one JSON-ready object."""
    campaign = get_campaign(session, campaign_id)
    counters = read_counters(session, campaign_id)
    lists = list(session.scalars(
        select(ContactList.name).join(CampaignList, CampaignList.list_id == ContactList.id)
        .where(CampaignList.campaign_id == campaign_id).order_by(ContactList.name)))
    connector = (session.scalar(select(Connector.name)
                                .where(Connector.id == campaign.connector_id))
                 if campaign.connector_id else None)
    report: dict[str, Any] = {
        "id": campaign.id, "name": campaign.name, "state": campaign.state,
        "state_reason": campaign.state_reason, "type": campaign.type,
        "sender": campaign.sender, "text": campaign.text, "encoding": campaign.encoding,
        "segments": campaign.segments, "lists": lists, "connector": connector,
        "created_at": campaign.created_at, "scheduled_at": campaign.schedule_at,
        "started_at": campaign.started_at, "completed_at": campaign.completed_at,
    }
    report.update(_figures(counters))
    report["tests"] = [
        {"id": row.id, "number": row.number, "status": row.status,
         "status_updated_at": row.status_updated_at, "error": row.error_detail}
        for row in session.execute(
            select(Message.id, Message.number, Message.status, Message.status_updated_at,
                   Message.error_detail)
            .where(Message.campaign_id == campaign_id, Message.kind == "test")
            .order_by(Message.id).limit(100))]
    report["formulas"] = dict(FORMULAS)
    return report

