"""Auto-suspension of a sending campaign whose bounce or unsubscribe rate is too high.

Checked after each batch of outcomes (receipts, replies, expiries) for the campaigns
the batch touched, from their counters — a few rows, whatever the campaign's size. The
rule itself is :func:`smscope.rules.suspension.check_suspension`. After a user resumes a
suspended campaign, rates count from the figures at the resume, so the campaign is not
suspended again at once by what stopped it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session

from smscope.campaigns import timeline
from smscope.campaigns.counters import ALL_LISTS, read_counters
from smscope.config import Config
from smscope.db.sql import Driver, result_plan, table_of
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


def _figures_sql(driver: Driver, ids: list[int]) -> tuple[str, list[Any]]:
    """Each sending campaign among ``ids`` with its options (where the baseline is) and
    its whole-campaign figures: one statement, on the DB-API connection (through the
    ORM it cost more than running it, after every batch of receipts)."""
    q = driver.quote
    counter_ids, counter_params = driver.one_of(q("campaign_id"), ids, "integer")
    names, name_params = driver.one_of(q("name"), sorted(_FIGURE_COUNTERS), "varchar")
    campaign_ids, campaign_params = driver.one_of(f"c.{q('id')}", ids, "integer")
    sql = (f"SELECT c.{q('id')}, c.{q('options')}, s.{q('name')}, s.{q('value')} "
           f"FROM {q(Campaign.__tablename__)} AS c LEFT OUTER JOIN "
           f"(SELECT {q('campaign_id')}, {q('name')}, sum({q('value')}) AS {q('value')} "
           f"FROM {q(Counter.__tablename__)} WHERE {counter_ids} "
           f"AND {q('list_id')} = {ALL_LISTS} AND {names} "
           f"GROUP BY {q('campaign_id')}, {q('name')}) AS s "
           f"ON s.{q('campaign_id')} = c.{q('id')} "
           f"WHERE {campaign_ids} AND c.{q('state')} = 'sending'")
    return sql, [*counter_params, *name_params, *campaign_params]


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
    driver = Driver.of(session)
    options_of = _options_reader(driver.dialect)
    bases: dict[int, dict[str, int]] = {}
    counters: dict[int, dict[str, int]] = {}
    for campaign_id, options, name, value in driver.rows(*_figures_sql(driver, ids)):
        base = (options_of(options) or {}).get("suspension_baseline")
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


def _options_reader(dialect: Dialect) -> Callable[[Any], Any]:
    """A campaign's ``options`` as the driver gives them → a dict."""
    plan = result_plan(dialect, [table_of(Campaign).c.options])
    return plan[0][1] if plan else _same


def _same(value: Any) -> Any:
    return value


def baseline(session: Session, campaign_id: int) -> dict[str, int]:
    """The figures to count from after a resume."""
    return figures(read_counters(session, campaign_id))
