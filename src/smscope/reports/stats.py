"""Statistics over a date range (SPEC §5.2, CONTRACTS §11): per day, ISO week or month
of the account's zone, per country, per sender, per connector, and the totals.

Everything is read from counters kept with every status change, never from the
messages. A message belongs to the day it was created (queued) in the account's zone.
The figures are kept by quarter hour (``stat_counters``: every zone in use is a whole
number of quarter hours from UTC, so each falls in exactly one local day of any zone),
and by day of the account's zone (``stat_days``, a few rows per day, so that a month
costs the same on ten thousand or ten million messages). :func:`ensure_days` makes the
days from the quarter hours the first time, and again when the account's zone changes;
a zone the days are not kept in is answered from the quarter hours, exactly, slower.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from smscope.campaigns.counters import day_zone, rebuild_days
from smscope.db import Database
from smscope.db.tables import Connector, StatCounter, StatDay
from smscope.errors import UsageError
from smscope.reports.days import day_bounds
from smscope.reports.figures import figures
from smscope.statuses import Category

__all__ = ["GROUPINGS", "ensure_days", "period_of", "statistics", "stats_row"]

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
    labels, starts = _periods(date_from, date_to, by, zone)
    periods: list[dict[str, int]] = [defaultdict(int) for _ in labels]
    totals: dict[str, int] = defaultdict(int)
    dims: dict[str, dict[Any, dict[str, int]]] = {
        "region": defaultdict(lambda: defaultdict(int)),
        "sender": defaultdict(lambda: defaultdict(int)),
        "connector": defaultdict(lambda: defaultdict(int))}
    kept = day_zone(session)
    if kept is not None and kept.key == zone.key:
        rows = _day_rows(session, date_from, date_to, by, labels)
    else:
        rows = _quarter_hour_rows(session, start, end, starts)
    for index, region, sender, connector_id, name, value in rows:
        periods[index][name] += value
        totals[name] += value
        dims["region"][region][name] += value
        dims["sender"][sender][name] += value
        dims["connector"][connector_id][name] += value
    names: dict[int, str] = {cid: name for cid, name in
                             session.execute(select(Connector.id, Connector.name))}

    def breakdown(groups: dict[Any, dict[str, int]], key: str,
                  label: Any = None) -> list[dict[str, Any]]:
        rows = [{key: label(k) if label else (k or None), **stats_row(c)}
                for k, c in groups.items()]
        rows = [row for row in rows if any(row[f] for f in ("recipients", "replies",
                                                             "clicks"))]
        return sorted(rows, key=lambda row: (-row["recipients"], str(row[key])))

    return {
        "from": date_from, "to": date_to, "by": by, "timezone": zone.key,
        "totals": stats_row(totals),
        "periods": [{"period": label, **stats_row(counters)}
                    for label, counters in zip(labels, periods, strict=True)],
        "by_country": breakdown(dims["region"], "country"),
        "by_sender": breakdown(dims["sender"], "sender"),
        "by_connector": breakdown(dims["connector"], "connector",
                                  lambda cid: names.get(cid, str(cid)) if cid else None),
    }


def ensure_days(db: Database, zone: ZoneInfo) -> bool:
    """Make sure the figures are kept by day of ``zone`` (the account's), so statistics
    read a few rows per day: when they are not (first use, or the zone changed), make
    them from the quarter hours. Returns whether it did."""
    with db.session() as session:
        kept = day_zone(session)
    if kept is not None and kept.key == zone.key:
        return False
    with db.transaction() as session:
        rebuild_days(session, zone)
    return True


Row = tuple[int, str, str, int, str, int]


def _day_rows(session: Session, first: date, last: date, by: str,
              labels: list[str]) -> Iterator[Row]:
    """The range's figures from ``stat_days``: a few rows per day."""
    index = {label: i for i, label in enumerate(labels)}
    rows = session.execute(
        select(StatDay.day, StatDay.region, StatDay.sender, StatDay.connector_id,
               StatDay.name, func.sum(StatDay.value))
        .where(StatDay.day >= first, StatDay.day <= last)
        .group_by(StatDay.day, StatDay.region, StatDay.sender, StatDay.connector_id,
                  StatDay.name))
    for day, region, sender, connector_id, name, value in rows:
        yield index[period_of(day, by)], region, sender, connector_id, name, int(value or 0)


def _quarter_hour_rows(session: Session, start: datetime | None, end: datetime | None,
                       starts: list[datetime]) -> Iterator[Row]:
    """The range's figures from the quarter hours (exact in any zone; up to 96 rows a
    day per figure and breakdown): one pass, summed by period in SQL."""
    in_range = [StatCounter.bucket >= start] if start else []
    if end:
        in_range.append(StatCounter.bucket < end)
    period = _period_index(starts)
    rows = session.execute(
        select(period, StatCounter.region, StatCounter.sender, StatCounter.connector_id,
               StatCounter.name, func.sum(StatCounter.value))
        .where(*in_range)
        .group_by(period, StatCounter.region, StatCounter.sender, StatCounter.connector_id,
                  StatCounter.name))
    by_bucket = period is StatCounter.bucket
    for key, region, sender, connector_id, name, value in rows:
        index = _index_of(key, starts) if by_bucket else int(key)
        yield index, region, sender, connector_id, name, int(value or 0)


#: above this many periods, rows are summed by bucket and put in periods here (a
#: ``CASE`` of that many branches for every row would cost more)
_MAX_CASE = 120


def _periods(first: date, last: date, by: str,
             zone: ZoneInfo) -> tuple[list[str], list[datetime]]:
    """The periods of the range, in order, and the moment (UTC) each starts."""
    labels: list[str] = []
    starts: list[datetime] = []
    for day in _days(first, last):
        label = period_of(day, by)
        if not labels or labels[-1] != label:
            labels.append(label)
            start, _ = day_bounds(day, day, zone)
            starts.append(start or datetime.min.replace(tzinfo=UTC))
    return labels, starts


def _period_index(starts: list[datetime]) -> Any:
    """A SQL expression: the index of the period a bucket falls in."""
    if len(starts) > _MAX_CASE:
        return StatCounter.bucket
    if len(starts) == 1:
        return literal(0)
    return case(*[(StatCounter.bucket < start, index - 1)
                  for index, start in enumerate(starts[1:], start=1)],
                else_=len(starts) - 1)


def _index_of(bucket: datetime, starts: list[datetime]) -> int:
    return max(bisect_right(starts, bucket) - 1, 0)
