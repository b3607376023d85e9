"""Sending windows: when marketing SMS may reach a country.

Per destination country, a window says on which days and between which local hours
marketing messages may be sent, and whether that country's public holidays are closed
(CONTRACTS §8). A message outside the window is not dropped: it waits for the next
opening, which is what :meth:`SendingWindows.next_opening` computes. Transactional
messages ignore windows; that choice belongs to the caller, which simply does not ask.

France is built in (Monday–Saturday 08:00–20:00 Europe/Paris, never on Sundays or
French public holidays); other countries are always open unless configured. The rules
run for every message of a campaign, so the two lookups they need — a country's time
zone and its public holidays for a year — are cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

from smscope.config import BUILTIN_WINDOWS, WEEKDAYS, WindowConfig

if TYPE_CHECKING:
    from smscope.config import Config

#: How far ahead :meth:`SendingWindows.next_opening` looks before giving up. A valid
#: window opens at least once a week, so running out means the window is broken, and
#: raising beats looping for ever in a worker.
MAX_DAYS_AHEAD: Final = 366

#: ``end = 23:59:59`` (the default) means "until midnight": the last second is open too.
END_OF_DAY: Final = time(23, 59, 59)


@cache
def zone_for_region(region: str) -> ZoneInfo:
    """The time zone of a country (ISO 3166 code, any case); UTC if unknown.

    A number's zone is its country's. For a country with several zones this is the
    first zone phonenumbers gives for the country's own example fixed-line number:
    that list is specific to the country, whereas the list phonenumbers keeps per
    calling code is shared by every country on that code (+1, +7, +262…) and sorted
    alphabetically, which would put the United States on America/Adak and Réunion on
    Mayotte's time. Only when the country has no example number do we fall back to the
    calling code's list.
    """
    for zone_name in _phonenumbers_zones(region.strip().upper()):
        if zone_name == UNKNOWN_TIMEZONE:
            continue
        try:
            return ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def _phonenumbers_zones(region: str) -> tuple[str, ...]:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return ()
    example = phonenumbers.example_number_for_type(
        region, PhoneNumberType.FIXED_LINE
    ) or phonenumbers.example_number(region)
    if example is not None:
        zones = tuple(time_zones_for_number(example))
        if zones and zones[0] != UNKNOWN_TIMEZONE:
            return zones
    # No usable example number (none in today's metadata): the calling code's list.
    calling_code = phonenumbers.country_code_for_region(region)
    if not calling_code:
        return ()
    # A number made of the calling code alone is not valid, so time_zones_for_number
    # would answer "unknown"; the geographical lookup reads the calling-code prefix.
    bare = phonenumbers.PhoneNumber(country_code=calling_code, national_number=0)
    return tuple(phonenumbers.timezone.time_zones_for_geographical_number(bare))


@lru_cache(maxsize=4096)
def public_holidays(region: str, year: int) -> frozenset[date]:
    """The public holidays of a country in one year (empty if ``holidays`` has none).

    Cached per (country, year) because the window of every message asks. We read the
    whole year once with ``expand=False`` and keep plain dates, so that a lookup never
    grows (mutates) a shared ``holidays`` object behind the cache's back.
    """
    try:
        calendar = holidays.country_holidays(region.upper(), years=year, expand=False)
    except NotImplementedError:
        return frozenset()
    return frozenset(day for day in calendar if day.year == year)


def has_holiday_calendar(region: str) -> bool:
    """Whether the ``holidays`` package knows this country's public holidays."""
    return region.upper() in holidays.list_supported_countries()


@dataclass(frozen=True, slots=True)
class _Window:
    """One country's window, checked and turned into what the computation needs."""

    region: str
    zone: ZoneInfo
    weekdays: frozenset[int]  # date.weekday() numbers, Monday = 0
    start: time
    end: time | None  # None: open until midnight
    holidays: bool

    def is_open_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        return not (self.holidays and day in public_holidays(self.region, day.year))

    def interval(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants the window opens and closes on a local day.

        Wall times are read with ``fold=0``: a time skipped by a spring-forward change
        lands just after the change, and a time that happens twice in autumn is taken
        at its first occurrence, so an 08:00 opening is the first 08:00 of that day.
        """
        opens = datetime.combine(day, self.start, tzinfo=self.zone)
        if self.end is None:
            closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        else:
            closes = datetime.combine(day, self.end, tzinfo=self.zone)
        return opens.astimezone(UTC), closes.astimezone(UTC)


def _check(region: str, config: WindowConfig) -> _Window:
    """Refuse a window that could never open, naming the country."""
    if not config.days:
        raise ValueError(f"sending window of {region}: no day is open; list at least one day")
    bad = [d for d in config.days if d not in WEEKDAYS]
    if bad:
        raise ValueError(f"sending window of {region}: unknown day {bad[0]!r}")
    end: time | None = None if config.end == END_OF_DAY else config.end
    if end is not None and end <= config.start:
        raise ValueError(
            f"sending window of {region}: end {config.end:%H:%M} is not after "
            f"start {config.start:%H:%M}; a window cannot run past midnight"
        )
    if config.holidays and not has_holiday_calendar(region):
        raise ValueError(
            f"sending window of {region}: closed on public holidays, but the holidays "
            "package has no calendar for that country"
        )
    return _Window(
        region=region,
        zone=zone_for_region(region),
        weekdays=frozenset(WEEKDAYS.index(d) for d in config.days),
        start=config.start,
        end=end,
        holidays=config.holidays,
    )


class SendingWindows:
    """The sending windows of all countries, and when each is next open.

    Built from an explicit mapping of country code to :class:`WindowConfig`; a country
    missing from it is always open. Use :meth:`from_config` to get France's built-in
    window unless the configuration overrides it.
    """

    def __init__(self, windows: Mapping[str, WindowConfig]) -> None:
        self._windows: dict[str, _Window] = {}
        for region, config in windows.items():
            code = region.strip().upper()
            self._windows[code] = _check(code, config)

    @classmethod
    def from_config(cls, config: Config) -> SendingWindows:
        """The windows a configuration asks for: its own, plus the built-in ones."""
        regions = {r.upper() for r in BUILTIN_WINDOWS} | {r.upper() for r in config.windows}
        windows: dict[str, WindowConfig] = {}
        for region in sorted(regions):
            window = config.window_for(region)
            if window is not None:
                windows[region] = window
        return cls(windows)

    @property
    def regions(self) -> frozenset[str]:
        """The countries that have a window (all others are always open)."""
        return frozenset(self._windows)

    def next_opening(self, region: str | None, at: datetime) -> datetime:
        """``at`` if the window of ``region`` is open then, else when it next opens (UTC).

        ``at`` must be timezone-aware. Closed days and, where configured, the country's
        public holidays are skipped; each day's opening and closing are placed in the
        country's zone, so the answer stays right across daylight-saving changes. No
        region, or one without a window, is always open.

        Raises ValueError when the window does not open within a year (a broken window
        must fail loudly rather than keep a worker looping).
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("next_opening needs a timezone-aware datetime")
        at = at.astimezone(UTC)
        window = self._windows.get(region.strip().upper()) if region else None
        if window is None:
            return at
        # Start from the day before: around a change of offset at midnight, the local
        # day of `at` is not always the day whose window contains it.
        day = at.astimezone(window.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS_AHEAD + 2):
            if window.is_open_day(day):
                opens, closes = window.interval(day)
                if at < closes and opens < closes:
                    return max(at, opens)
            day += timedelta(days=1)
        raise ValueError(
            f"sending window of {window.region} does not open within {MAX_DAYS_AHEAD} days "
            f"of {at.isoformat()}"
        )

    def is_open(self, region: str | None, at: datetime) -> bool:
        """Whether a marketing SMS to ``region`` may be sent at ``at`` (aware)."""
        return self.next_opening(region, at) == at
