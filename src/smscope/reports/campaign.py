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

from smscope.campaigns.counters import LATENCY_BOUNDS, read_counters, read_list_counters
from smscope.campaigns.service import get_campaign
from smscope.campaigns.timeline import event_to_json, timeline
from smscope.db.tables import CampaignList, Connector, ContactList, Message
from smscope.reports.figures import FORMULAS, figures

__all__ = ["FORMULAS", "campaign_report", "delivery_times"]


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
    report.update(figures(counters))
    report["tests"] = [
        {"id": row.id, "number": row.number, "status": row.status,
         "status_updated_at": row.status_updated_at, "error": row.error_detail}
        for row in session.execute(
            select(Message.id, Message.number, Message.status, Message.status_updated_at,
                   Message.error_detail)
            .where(Message.campaign_id == campaign_id, Message.kind == "test")
            .order_by(Message.id).limit(100))]
    report["by_list"] = _by_list(session, campaign_id)
    report["delivery_times"] = delivery_times(counters)
    report["timeline"] = [event_to_json(e) for e in timeline(session, campaign_id)]
    report["formulas"] = dict(FORMULAS)
    return report


def _by_list(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    """The figures of each list the campaign was sent to (the lists a contact was in
    when its message was created, CONTRACTS §5)."""
    per_list = read_list_counters(session, campaign_id)
    names = dict(session.execute(
        select(ContactList.id, ContactList.name).where(ContactList.id.in_(per_list))).all())
    rows = []
    for list_id, counters in per_list.items():
        f = figures(counters)
        rows.append({"list_id": list_id, "name": names.get(list_id, f"list {list_id}"),
                     **{k: f[k] for k in ("recipients", "sent", "counts", "unsubscribes",
                                          "rates", "replies", "clicks", "unique_clicks")}})
    return sorted(rows, key=lambda row: row["name"])


def delivery_times(counters: dict[str, int]) -> list[dict[str, Any]]:
    """How long received messages took from their first submit to their receipt, as a
    cumulative curve: for each bound, how many were received within it and which share
    of all the received ones that is (``within_seconds`` None: the rest)."""
    bounds: list[int | None] = [*LATENCY_BOUNDS, None]
    counts = [counters.get(f"latency:{b if b is not None else 'more'}", 0) for b in bounds]
    total = sum(counts)
    curve, running = [], 0
    for bound, count in zip(bounds, counts, strict=True):
        running += count
        curve.append({"within_seconds": bound, "received": count, "cumulative": running,
                      "share": running / total if total else 0.0})
    return curve

