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

from smscope.campaigns.counters import read_counters
from smscope.campaigns.service import get_campaign
from smscope.db.tables import CampaignList, Connector, ContactList, Message
from smscope.reports.figures import FORMULAS, figures

__all__ = ["FORMULAS", "campaign_report"]


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
    report["formulas"] = dict(FORMULAS)
    return report

