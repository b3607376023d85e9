"""From counters to figures: the one place that turns counted statuses into counts by
category, rates (CONTRACTS §5) and the other figures of a report, whether the counters
are a campaign's, a list's or a period's.

Every rate is a fraction in [0, 1] (0 when its denominator is 0). ``recipients`` counts
every targeted number, not-sent ones included; test sends are counted nowhere.
"""

from __future__ import annotations

from typing import Any

from smscope.campaigns.counters import ACCEPTED_COUNTER, COST_COUNTER
from smscope.db.types import from_credit_units
from smscope.statuses import Category, Status

__all__ = ["FORMULAS", "RATE_OF_CATEGORY", "figures", "rates_of"]

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
    "click_through_rate": "recipients who clicked a link at least once / delivered",
}


#: the rate that goes with each category (the others are shown as a share of recipients)
RATE_OF_CATEGORY = {"delivered": "receipt_rate", "pending": "waiting_rate",
                    "soft_bounce": "temporary_error_rate",
                    "hard_bounce": "permanent_error_rate", "error": "error_rate"}


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


def figures(counters: dict[str, int]) -> dict[str, Any]:
    """Counts by category and status, rates, cost, replies and clicks from counters
    (``name → value``: status ids and the named figures of
    :mod:`smscope.campaigns.counters`)."""
    statuses = {s.value: counters.get(s.value, 0) for s in Status if s is not Status.TEST}
    counts = {c.value: 0 for c in Category if c is not Category.TEST}
    for status in Status:
        if status is not Status.TEST:
            counts[status.category.value] += statuses[status.value]
    recipients = sum(statuses.values())
    stop_replies = counters.get("stop_replies", 0)
    unsubscribes = counts[Category.UNSUBSCRIBED.value] + stop_replies
    sent = counters.get(ACCEPTED_COUNTER, 0)
    rates = rates_of(counts, recipients=recipients, unsubscribes=unsubscribes,
                     received=statuses[Status.RECEIVED.value], sent=sent)
    unique_clicks = counters.get("unique_clicks", 0)
    rates["click_through_rate"] = _ratio(unique_clicks, counts[Category.DELIVERED.value])
    return {
        "recipients": recipients,
        "sent": sent,
        "counts": counts,
        "statuses": statuses,
        "unsubscribes": unsubscribes,
        "rates": rates,
        "cost_credits": from_credit_units(counters.get(COST_COUNTER, 0)),
        "replies": counters.get("replies", 0),
        "stop_replies": stop_replies,
        # numbers like ``replies``: scripts compare them directly
        "clicks": counters.get("clicks", 0),
        "unique_clicks": unique_clicks,
    }


