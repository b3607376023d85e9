"""The throttling rule alone: when the lock lifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smscope.accounts.throttle import LIMIT, WINDOW, retry_after

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_fewer_failures_than_the_limit_never_lock() -> None:
    assert retry_after([NOW - timedelta(minutes=i) for i in range(LIMIT - 1)], NOW) == 0


def test_the_lock_lifts_when_the_oldest_counted_failure_leaves_the_window() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4, 2)]
    assert retry_after(failures, NOW) == 5 * 60
    assert retry_after(failures, NOW + timedelta(minutes=5)) == 0


def test_failures_older_than_the_window_do_not_count() -> None:
    failures = [NOW - WINDOW - timedelta(seconds=1)] + [NOW - timedelta(minutes=1)] * 4
    assert retry_after(failures, NOW) == 0


def test_with_more_failures_than_the_limit_the_lock_lasts_longer() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (14, 12, 10, 8, 6, 4)]
    assert retry_after(failures, NOW) == 3 * 60
