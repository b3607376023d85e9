"""``/``: the dashboard, the first page behind the login — the last 30 days' figures
(the statistics document of ``smscope stats``) and the recent campaigns with their
state and main rates (the campaign report's figures): nothing computed twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from smscope.campaigns.counters import read_counters
from smscope.campaigns.service import is_single_message
from smscope.db.tables import Campaign
from smscope.reports.figures import figures
from smscope.reports.stats import ensure_days, statistics
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._render import render

__all__ = ["router"]

router = APIRouter()

DAYS = 30
RECENT = 10


def recent_campaigns(session: Session, limit: int = RECENT) -> list[dict[str, Any]]:
    """The newest campaigns with the figures of their report (single messages, one-
    number campaigns, are not campaigns here)."""
    rows = session.scalars(select(Campaign).where(Campaign.type != "test",
                                                  ~is_single_message())
                           .order_by(Campaign.id.desc()).limit(limit))
    return [{"id": c.id, "name": c.name, "state": c.state, "type": c.type,
             "created_at": c.created_at, **figures(read_counters(session, c.id))}
            for c in rows]


@router.get("/", include_in_schema=False)
def dashboard(request: Request, login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    zone = smscope.config.zone
    last = datetime.now(zone).date()
    first = last - timedelta(days=DAYS - 1)
    ensure_days(smscope.db, zone)
    with smscope.db.session() as session:
        stats = statistics(session, date_from=first, date_to=last, by="day", zone=zone)
        campaigns = recent_campaigns(session)
    return render(request, "dashboard.html",
                  {"totals": stats["totals"], "first": first, "last": last,
                   "campaigns": campaigns})
