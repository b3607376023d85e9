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

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from smscope.campaigns import timeline
from smscope.campaigns.counters import ALL_LISTS, read_counters
from smscope.config import Config
from smscope.db.tables import Campaign, Counter
from smscope.rules.suspension import Outcomes, check_suspension
from smscope.statuses import Category, statuses_in

__all__ = ["check_campaigns", "figures"]

_HARD = [s.value for s in statuses_in(Category.HARD_BOUNCE)]
#: the counters :func:`figures` reads
_FIGURE_COUNTERS = frozenset({"outcomes", "temporary_errors", "stop_replies", *_HARD})


def figures(counters: dict[str, int]) -> dict[str, int]:
    """The suspension figures of a campaign's counters."""
    return {
        "sample": counters.get("outcomes", 0),
        "soft_bounced": counters.get("temporary_errors", 0),
        "hard_bounced": sum(counters.get(s, 0) for s in _HARD),
        "unsubscribed": counters.get("stop_replies", 0),
    }


_SUMS = (
    select(Counter.campaign_id, Counter.name, func.sum(Counter.value).label("value"))
    .where(Counter.campaign_id.in_(bindparam("ids", expanding=True)),
           Counter.list_id == ALL_LISTS, Counter.name.in_(sorted(_FIGURE_COUNTERS)))
    .group_by(Counter.campaign_id, Counter.name).subquery())
#: each sending campaign's baseline with its whole-campaign figures, by ``ids``; built
#: once (building it cost more than running it, after every batch of receipts)
_FIGURES = (
    select(Campaign.id, Campaign.options["suspension_baseline"], _SUMS.c.name, _SUMS.c.value)
    .outerjoin(_SUMS, _SUMS.c.campaign_id == Campaign.id)
    .where(Campaign.id.in_(bindparam("ids", expanding=True)), Campaign.state == "sending"))


def check_campaigns(session: Session, campaign_ids: Iterable[int], *, config: Config,
                    now: datetime) -> list[int]:
    """Suspend the sending campaigns among ``campaign_ids`` that break a threshold;
    returns their ids.

    Run after every batch of receipts: the figures of every campaign the batch touched
    come in one statement (each campaign's baseline with its whole-campaign counters),
    and a campaign is loaded only to be suspended.
    """
    ids = sorted(set(campaign_ids))
    if not ids:
        return []
    bases: dict[int, dict[str, int]] = {}
    counters: dict[int, dict[str, int]] = {}
    for campaign_id, base, name, value in session.execute(_FIGURES, {"ids": ids}):
        bases[campaign_id] = base if isinstance(base, dict) else {}
        found = counters.setdefault(campaign_id, {})
        if name is not None and value:
            found[name] = int(value)
    suspended = []
    for campaign_id, found in counters.items():
        base = bases[campaign_id]
        delta = {k: max(0, v - int(base.get(k, 0))) for k, v in figures(found).items()}
        verdict = check_suspension(Outcomes(**delta), config.suspension)
        if verdict is None:
            continue
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
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
