"""Sending windows: France built in, configured countries, holidays, DST, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.config import BUILTIN_WINDOWS, WEEKDAYS, Config, WindowConfig
from smscope.rules import windows as windows_module
from smscope.rules.windows import SendingWindows, public_holidays, zone_for_region

PARIS = ZoneInfo("Europe/Paris")
MADRID = ZoneInfo("Europe/Madrid")

ES_WINDOW = WindowConfig(
    days=["mon", "tue", "wed", "thu", "fri"], start=time(9), end=time(21), holidays=True
)


def _local(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0,
           us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=zone).astimezone(UTC)


def paris(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    """A Paris wall-clock time, as the UTC instant the rules work with."""
    return _local(PARIS, y, mo, d, h, mi, s, us)


def madrid(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return _local(MADRID, y, mo, d, h, mi)


@pytest.fixture(scope="module")
def windows() -> SendingWindows:
    return SendingWindows({**BUILTIN_WINDOWS, "ES": ES_WINDOW})


# -- zones -------------------------------------------------------------------------


def test_zone_of_france_is_paris() -> None:
    assert zone_for_region("FR") == PARIS
    assert zone_for_region("fr") == PARIS


def test_zone_of_a_multi_zone_country_is_its_mainland_first_zone() -> None:
    # phonenumbers' calling-code lists are alphabetical and shared (+1, +34…); the
    # country's own example number gives the zone most of its numbers are in.
    assert zone_for_region("ES") == MADRID
    assert zone_for_region("US") == ZoneInfo("America/New_York")


def test_zone_of_an_unknown_region_is_utc() -> None:
    assert zone_for_region("XX") == ZoneInfo("UTC")
    assert zone_for_region("001") == ZoneInfo("UTC")


# -- France, built in --------------------------------------------------------------


def test_france_before_eight_opens_at_eight_same_day(windows: SendingWindows) -> None:
    monday = paris(2026, 3, 2, 7, 59)
    assert windows.next_opening("FR", monday) == paris(2026, 3, 2, 8, 0)
    assert not windows.is_open("FR", monday)


def test_france_at_eight_is_open_and_returns_the_instant_itself(
    windows: SendingWindows,
) -> None:
    at = paris(2026, 3, 2, 8, 0)
    assert windows.next_opening("FR", at) == at
    assert windows.is_open("FR", at)


def test_france_during_the_day_is_open(windows: SendingWindows) -> None:
    at = paris(2026, 3, 2, 19, 59, 59)
    assert windows.is_open("FR", at)


def test_france_saturday_eight_pm_waits_for_monday(windows: SendingWindows) -> None:
    saturday_close = paris(2026, 3, 7, 20, 0)
    assert windows.next_opening("FR", saturday_close) == paris(2026, 3, 9, 8, 0)


def test_france_sunday_waits_for_monday(windows: SendingWindows) -> None:
    sunday_noon = paris(2026, 3, 8, 12, 0)
    assert not windows.is_open("FR", sunday_noon)
    assert windows.next_opening("FR", sunday_noon) == paris(2026, 3, 9, 8, 0)


def test_france_bastille_day_is_skipped(windows: SendingWindows) -> None:
    monday_evening = paris(2026, 7, 13, 20, 30)  # 14 July 2026 is a Tuesday
    assert windows.next_opening("FR", monday_evening) == paris(2026, 7, 15, 8, 0)
    assert not windows.is_open("FR", paris(2026, 7, 14, 10, 0))


def test_france_christmas_is_skipped(windows: SendingWindows) -> None:
    thursday_evening = paris(2026, 12, 24, 21, 0)  # 25 December 2026 is a Friday
    assert windows.next_opening("FR", thursday_evening) == paris(2026, 12, 26, 8, 0)


def test_france_christmas_on_saturday_waits_for_monday(windows: SendingWindows) -> None:
    assert date(2027, 12, 25).weekday() == 5
    assert windows.next_opening("FR", paris(2027, 12, 24, 20, 0)) == paris(2027, 12, 27, 8, 0)


def test_france_easter_weekend_waits_for_tuesday(windows: SendingWindows) -> None:
    # Easter Monday 2026 is 6 April: Saturday evening and Easter Sunday wait until Tuesday.
    assert windows.next_opening("FR", paris(2026, 4, 4, 20, 30)) == paris(2026, 4, 7, 8, 0)
    assert windows.next_opening("FR", paris(2026, 4, 5, 9, 0)) == paris(2026, 4, 7, 8, 0)


def test_france_spring_dst_weekend_gives_the_summer_instant(windows: SendingWindows) -> None:
    # Clocks go forward on Sunday 29 March 2026: Saturday 20:00 is 19:00 UTC,
    # Monday 08:00 is 06:00 UTC.
    saturday = datetime(2026, 3, 28, 19, 0, tzinfo=UTC)
    assert windows.next_opening("FR", saturday) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


def test_france_autumn_dst_weekend_gives_the_winter_instant(windows: SendingWindows) -> None:
    # Clocks go back on Sunday 25 October 2026: Saturday 20:00 is 18:00 UTC,
    # Monday 08:00 is 07:00 UTC.
    saturday = datetime(2026, 10, 24, 18, 0, tzinfo=UTC)
    assert windows.next_opening("FR", saturday) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_closing_time_is_exclusive(windows: SendingWindows) -> None:
    assert windows.is_open("FR", paris(2026, 3, 2, 19, 59, 59))
    assert not windows.is_open("FR", paris(2026, 3, 2, 20, 0))
    assert windows.next_opening("FR", paris(2026, 3, 2, 20, 0)) == paris(2026, 3, 3, 8, 0)


def test_result_is_utc_for_any_aware_input(windows: SendingWindows) -> None:
    at = datetime(2026, 3, 8, 12, 0, tzinfo=PARIS)
    opening = windows.next_opening("FR", at)
    assert opening.utcoffset() == timedelta(0)
    assert opening == paris(2026, 3, 9, 8, 0)


def test_naive_datetime_is_refused(windows: SendingWindows) -> None:
    with pytest.raises(ValueError, match="aware"):
        windows.next_opening("FR", datetime(2026, 3, 2, 12, 0))


# -- other countries ---------------------------------------------------------------


def test_unconfigured_country_is_always_open(windows: SendingWindows) -> None:
    sunday_night = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    assert windows.next_opening("DE", sunday_night) == sunday_night
    assert windows.is_open("DE", sunday_night)


def test_no_region_is_always_open(windows: SendingWindows) -> None:
    at = datetime(2026, 12, 25, 3, 0, tzinfo=UTC)
    assert windows.next_opening(None, at) == at
    assert windows.is_open(None, at)


def test_region_lookup_ignores_case(windows: SendingWindows) -> None:
    assert windows.next_opening("fr", paris(2026, 3, 8, 12)) == paris(2026, 3, 9, 8)


def test_configured_spain_opens_weekdays_in_madrid_time(windows: SendingWindows) -> None:
    assert windows.next_opening("ES", madrid(2026, 3, 2, 8, 30)) == madrid(2026, 3, 2, 9, 0)
    assert windows.is_open("ES", madrid(2026, 3, 2, 20, 59))
    friday_close = madrid(2026, 1, 9, 21, 0)
    assert windows.next_opening("ES", friday_close) == madrid(2026, 1, 12, 9, 0)


def test_configured_spain_skips_spanish_holidays(windows: SendingWindows) -> None:
    # Epiphany, Tuesday 6 January 2026, is a Spanish national holiday.
    monday_close = madrid(2026, 1, 5, 21, 0)
    assert windows.next_opening("ES", monday_close) == madrid(2026, 1, 7, 9, 0)


def test_window_without_holidays_opens_on_holidays() -> None:
    windows = SendingWindows({"FR": WindowConfig(days=list(WEEKDAYS), holidays=False)})
    assert windows.is_open("FR", paris(2026, 7, 14, 12, 0))


def test_default_end_means_until_midnight_inclusive() -> None:
    windows = SendingWindows({"FR": WindowConfig(days=["mon"], start=time(22))})
    assert windows.is_open("FR", paris(2026, 3, 2, 23, 59, 59, 999_999))
    assert windows.next_opening("FR", paris(2026, 3, 3, 0, 0)) == paris(2026, 3, 9, 22, 0)


def test_opening_in_the_spring_dst_gap_is_just_after_the_change() -> None:
    # 02:30 does not exist in Paris on 29 March 2026; the window opens at 03:00 CEST.
    windows = SendingWindows({"FR": WindowConfig(start=time(2, 30), end=time(5))})
    at = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert windows.next_opening("FR", at) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_opening_in_the_autumn_repeated_hour_is_its_first_occurrence() -> None:
    # 02:30 happens twice in Paris on 25 October 2026; the first is 00:30 UTC.
    windows = SendingWindows({"FR": WindowConfig(start=time(2, 30), end=time(5))})
    at = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert windows.next_opening("FR", at) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# -- configuration -----------------------------------------------------------------


def test_from_config_has_france_built_in() -> None:
    windows = SendingWindows.from_config(Config())
    assert windows.regions == {"FR"}
    assert windows.next_opening("FR", paris(2026, 3, 8, 12)) == paris(2026, 3, 9, 8)


def test_from_config_adds_configured_countries() -> None:
    config = Config.model_validate(
        {"windows": {"es": {"days": "mon,tue,wed,thu,fri", "start": "09:00",
                            "end": "21:00", "holidays": True}}}
    )
    windows = SendingWindows.from_config(config)
    assert windows.regions == {"FR", "ES"}
    assert windows.next_opening("ES", madrid(2026, 1, 5, 21)) == madrid(2026, 1, 7, 9)


def test_config_override_of_france_replaces_the_built_in() -> None:
    config = Config.model_validate(
        {"windows": {"FR": {"days": ["sun"], "start": "10:00", "end": "12:00"}}}
    )
    windows = SendingWindows.from_config(config)
    assert windows.is_open("FR", paris(2026, 3, 8, 11, 0))  # a Sunday
    assert not windows.is_open("FR", paris(2026, 3, 2, 11, 0))  # a Monday
    assert windows.next_opening("FR", paris(2026, 3, 8, 12)) == paris(2026, 3, 15, 10)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (WindowConfig(days=["mon"], start=time(20), end=time(8)), "end 08:00 is not after"),
        (WindowConfig(days=["mon"], start=time(9), end=time(9)), "end 09:00 is not after"),
        (WindowConfig(days=[]), "no day is open"),
    ],
    ids=["end-before-start", "empty-interval", "no-days"],
)
def test_malformed_window_is_refused_naming_the_country(
    window: WindowConfig, message: str
) -> None:
    with pytest.raises(ValueError, match=f"sending window of BE: {message}"):
        SendingWindows({"be": window})


def test_holidays_for_a_country_without_a_calendar_is_refused() -> None:
    # Ascension Island has a phone region but no calendar in the holidays package.
    with pytest.raises(ValueError, match=r"sending window of AC: .*no calendar"):
        SendingWindows({"AC": WindowConfig(holidays=True)})


def test_a_window_that_never_opens_in_the_horizon_raises_instead_of_looping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A valid window cannot stay shut for a year, so shrink the horizon to see the guard.
    windows = SendingWindows({"FR": WindowConfig(days=["mon"])})
    monkeypatch.setattr(windows_module, "MAX_DAYS_AHEAD", 3)
    with pytest.raises(ValueError, match="FR does not open within 3 days"):
        windows.next_opening("FR", paris(2026, 3, 3, 12))  # a Tuesday


def test_holidays_are_cached_per_region_and_year() -> None:
    public_holidays.cache_clear()
    first = public_holidays("FR", 2026)
    again = public_holidays("FR", 2026)
    assert first is again
    assert public_holidays.cache_info().hits == 1
    assert date(2026, 7, 14) in first
    assert all(day.year == 2026 for day in first)


# -- properties --------------------------------------------------------------------

_REGIONS = {"FR": BUILTIN_WINDOWS["FR"], "ES": ES_WINDOW}
_PROPERTY_WINDOWS = SendingWindows(_REGIONS)


def _oracle_open(region: str | None, at: datetime) -> bool:
    """An independent reading of the rule: local day and time inside the window."""
    if region is None:
        return True
    config = _REGIONS[region]
    local = at.astimezone(zone_for_region(region))
    if WEEKDAYS[local.weekday()] not in config.days:
        return False
    if config.holidays and local.date() in holidays.country_holidays(region, years=local.year):
        return False
    return config.start <= local.time().replace(tzinfo=None) < config.end


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31, 23, 59, 59),
        timezones=st.just(UTC),
    ),
    region=st.sampled_from(["FR", "ES", None]),
)
def test_next_opening_is_the_first_open_instant_from_at(
    at: datetime, region: str | None
) -> None:
    opening = _PROPERTY_WINDOWS.next_opening(region, at)
    assert opening >= at
    assert _PROPERTY_WINDOWS.is_open(region, opening)
    assert _oracle_open(region, opening)
    assert _PROPERTY_WINDOWS.is_open(region, at) == _oracle_open(region, at)
    if opening > at:
        gap = opening - at
        probes = [at, at + gap / 2, max(at, opening - timedelta(minutes=1)),
                  max(at, opening - timedelta(microseconds=1))]
        probes += [at + gap * k / 7 for k in range(1, 7)]
        for probe in probes:
            assert not _oracle_open(region, probe), probe
            assert not _PROPERTY_WINDOWS.is_open(region, probe), probe
