"""The campaign timeline: every transition and notable event, with who did it and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.db.tables import CampaignEvent
from smscope.db.types import utcnow

__all__ = ["event_to_json", "record", "timeline"]


def record(session: Session, campaign_id: int, kind: str, message: str = "", *,
           actor: str = "system", **data: Any) -> None:
    """Add an event (``kind`` like ``created``, ``started``, ``suspended``) to the
    timeline of ``campaign_id``, in the caller's transaction."""
    session.add(CampaignEvent(campaign_id=campaign_id, kind=kind, message=message,
                              actor=actor, data=data, at=utcnow()))


def timeline(session: Session, campaign_id: int) -> list[CampaignEvent]:
    """The events of a campaign, oldest first."""
    return list(session.scalars(
        select(CampaignEvent).where(CampaignEvent.campaign_id == campaign_id)
        .order_by(CampaignEvent.at, CampaignEvent.id)))


def event_to_json(event: CampaignEvent) -> dict[str, Any]:
    return {"at": event.at, "kind": event.kind, "actor": event.actor,
            "message": event.message, "data": event.data or {}}
