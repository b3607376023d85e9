"""Statistics over a date range (SPEC §5.2, CONTRACTS §11): per day, ISO week or month
of the account's zone, per country, per sender, per connector, and the totals.

Everything is read from ``stat_counters`` (quarter-hour buckets kept with every status
change), never from the messages: a range costs the same whatever the number of
messages in it. A message belongs to the day it was created (queued) in the account's
zone; every zone in use is a whole number of quarter hours from UTC, so each bucket
falls in exactly one local day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smscope.db.tables import Connector, StatCounter
from smscope.errors import UsageError
from smscope.reports.days import day_bounds
from smscope.reports.figures import figures
from smscope.statuses import Category

__all__ = ["GROUPINGS", "period_of", "statistics", "stats_row"]

#: the ways periods are grouped
GROUPINGS = ("day", "week", "month")
#: the longest range, in days (every period of a range is listed, empty or not)
MAX_DAYS = 3660


def period_of(day: date, by: str) -> str:
    """The period a local day belongs to: ``2026-11-24``, ``2026-W48`` or ``2026-11``."""
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def stats_row(counters: dict[str, int]) -> dict[str, Any]:
    """The figures of one row (a period, a country…) from its counters: the counts of
    CONTRACTS §11 and the same rates as the campaign report."""
    f = figures(counters)
    counts = f["counts"]
    return {
        "recipients": f["recipients"],
        "sent": f["sent"],
        "received": counts[Category.DELIVERED.value],
        "pending": counts[Category.PENDING.value],
        "soft_bounce": counts[Category.SOFT_BOUNCE.value],
        "hard_bounce": counts[Category.HARD_BOUNCE.value],
        "errors": counts[Category.ERROR.value],
        "not_sent": counts[Category.NOT_SENT.value],
        "blacklisted": counts[Category.UNSUBSCRIBED.value],
        "unsubscribes": f["unsubscribes"],
        "replies": f["replies"],
        "clicks": f["clicks"],
        "unique_clicks": f["unique_clicks"],
        "cost_credits": f["cost_credits"],
        "rates": f["rates"],
    }


def statistics(session: Session, *, date_from: date, date_to: date, by: str = "day",
               zone: ZoneInfo) -> dict[str, Any]:
    """The statistics document of CONTRACTS §11 for the local days ``date_from`` to
    ``date_to`` (both included) of ``zone``."""
    if by not in GROUPINGS:
        raise UsageError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    start, end = day_bounds(date_from, date_to, zone)
    if (date_to - date_from).days >= MAX_DAYS:
        raise UsageError(f"a range of at most {MAX_DAYS:,} days (ten years), please; "
                         "narrow --from/--to")
    in_range = [StatCounter.bucket >= start] if start else []
    if end:
        in_range.append(StatCounter.bucket < end)

    def grouped(column: Any) -> dict[Any, dict[str, int]]:
        result: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        rows = session.execute(
            select(column, StatCounter.name, func.sum(StatCounter.value))
            .where(*in_range).group_by(column, StatCounter.name))
        for key, name, value in rows:
            result[key][name] += int(value or 0)
        return result

    periods: dict[str, dict[str, int]] = {
        period_of(day, by): defaultdict(int) for day in _days(date_from, date_to)}
    for bucket, counters in grouped(StatCounter.bucket).items():
        local_day = bucket.astimezone(zone).date()
        target = periods[period_of(local_day, by)]
        for name, value in counters.items():
            target[name] += value
    totals: dict[str, int] = defaultdict(int)
    for counters in periods.values():
        for name, value in counters.items():
            totals[name] += value
    names: dict[int, str] = {cid: name for cid, name in
                             session.execute(select(Connector.id, Connector.name))}

    def breakdown(column: Any, key: str, label: Any = None) -> list[dict[str, Any]]:
        rows = [{key: label(k) if label else (k or None), **stats_row(c)}
                for k, c in grouped(column).items()]
        rows = [row for row in rows if any(row[f] for f in ("recipients", "replies",
                                                             "clicks"))]
        return sorted(rows, key=lambda row: (-row["recipients"], str(row[key])))

    return {
        "from": date_from, "to": date_to, "by": by, "timezone": zone.key,
        "totals": stats_row(totals),
        "periods": [{"period": period, **stats_row(counters)}
                    for period, counters in periods.items()],
        "by_country": breakdown(StatCounter.region, "country"),
        "by_sender": breakdown(StatCounter.sender, "sender"),
        "by_connector": breakdown(StatCounter.connector_id, "connector",
                                  lambda cid: names.get(cid, str(cid)) if cid else None),
    }
