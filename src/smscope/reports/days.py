"""Days of the account's zone, as the command line and the API give them
(CONTRACTS §2: ``YYYY-MM-DD``, inclusive, in the account's zone), and the moments they
start and end: the one reading of a date range for search and statistics alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smscope.errors import UsageError

__all__ = ["day_bounds", "parse_day"]


def parse_day(value: str, option: str) -> date:
    """A ``YYYY-MM-DD`` day; a clear error otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD, "
                         "e.g. 2026-11-24") from None


def day_bounds(first: date | None, last: date | None,
               zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The moments (UTC) where local day ``first`` starts and the day after ``last``
    starts: a message created at ``t`` is in the range when ``start <= t < end``."""
    if first is not None and last is not None and last < first:
        raise UsageError(f"--from {first} is after --to {last}; swap them")
    return _midnight(first, zone), _midnight(last, zone, next_day=True)


def _midnight(day: date | None, zone: ZoneInfo, *, next_day: bool = False) -> datetime | None:
    if day is None:
        return None
    try:
        if next_day:
            day += timedelta(days=1)
        # midnight that a DST change skips is read as the moment of the change
        return datetime.combine(day, time(), zone).astimezone(UTC)
    except OverflowError:
        return None  # before year 1 or after 9999: no bound on that side
