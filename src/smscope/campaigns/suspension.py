"""Auto-suspension of a sending campaign whose bounce or unsubscribe rate is too high.

Checked after each batch of outcomes (receipts, replies, expiries) for the campaigns
the batch touched, from their counters — a few rows, whatever the campaign's size. The
rule itself is :func:`smscope.rules.suspension.check_suspension`. After a user resumes a
suspended campaign, rates count from the figures at the resume, so the campaign is not
suspended again at once by what stopped it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.campaigns import timeline
from smscope.campaigns.counters import read_counters
from smscope.config import Config
from smscope.db.tables import Campaign
from smscope.rules.suspension import Outcomes, check_suspension
from smscope.statuses import Category, statuses_in

__all__ = ["check_campaigns", "figures"]

_HARD = [s.value for s in statuses_in(Category.HARD_BOUNCE)]


def figures(counters: dict[str, int]) -> dict[str, int]:
    """The suspension figures of a campaign's counters."""
    return {
        "sample": counters.get("outcomes", 0),
        "soft_bounced": counters.get("temporary_errors", 0),
        "hard_bounced": sum(counters.get(s, 0) for s in _HARD),
        "unsubscribed": counters.get("stop_replies", 0),
    }


def check_campaigns(session: Session, campaign_ids: Iterable[int], *, config: Config,
                    now: datetime) -> list[int]:
    """Suspend the sending campaigns among ``campaign_ids`` that break a threshold;
    returns their ids."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return []
    suspended = []
    for campaign in session.scalars(
            select(Campaign).where(Campaign.id.in_(ids), Campaign.state == "sending")):
        now_figures = figures(read_counters(session, campaign.id))
        base = (campaign.options or {}).get("suspension_baseline") or {}
        delta = {k: max(0, v - int(base.get(k, 0))) for k, v in now_figures.items()}
        verdict = check_suspension(Outcomes(**delta), config.suspension)
        if verdict is None:
            continue
        campaign.state = "suspended"
        campaign.state_reason = verdict.reason
        campaign.updated_at = now
        timeline.record(session, campaign.id, "suspended", f"suspended: {verdict.reason}",
                        actor="auto-suspension", rule=verdict.rule, rate=verdict.rate,
                        threshold=verdict.threshold, sample=verdict.sample)
        suspended.append(campaign.id)
    return suspended


def baseline(session: Session, campaign_id: int) -> dict[str, int]:
    """The figures to count from after a resume."""
    return figures(read_counters(session, campaign_id))
