"""Retries: the back-off schedule, bounded by validity from the first submit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smscope.config import RetryConfig, ValidityConfig
from smscope.rules.retry import expires_at, is_expired, next_attempt_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
DEFAULT_BACKOFF = RetryConfig().backoff
DEFAULT_VALIDITY = ValidityConfig().default


def test_default_schedule_is_three_retries_at_2h_14h_50h() -> None:
    assert DEFAULT_BACKOFF == [2 * H, 12 * H, 36 * H]
    assert DEFAULT_VALIDITY == 72 * H
    # Failures learnt instantly: each attempt fails at the moment it is made.
    second = next_attempt_at(1, T0, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY)
    assert second == T0 + 2 * H
    third = next_attempt_at(2, second, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY)
    assert third == T0 + 14 * H
    fourth = next_attempt_at(3, third, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY)
    assert fourth == T0 + 50 * H
    assert next_attempt_at(4, fourth, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY) is None


def test_delay_counts_from_the_failure_not_the_submit() -> None:
    failed_at = T0 + 30 * timedelta(minutes=1)
    assert next_attempt_at(1, failed_at, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY) == (
        failed_at + 2 * H
    )


def test_empty_backoff_means_no_retry() -> None:
    assert next_attempt_at(1, T0, T0, [], DEFAULT_VALIDITY) is None


def test_no_attempt_left_after_the_last_backoff_entry() -> None:
    assert next_attempt_at(2, T0, T0, [H], DEFAULT_VALIDITY) is None


def test_backoff_past_validity_schedules_nothing() -> None:
    assert next_attempt_at(1, T0, T0, [1000 * H], DEFAULT_VALIDITY) is None


def test_late_failure_is_not_retried_past_validity() -> None:
    # The third failure arrives 40 h in; 36 h more would be 76 h > 72 h.
    assert next_attempt_at(3, T0 + 40 * H, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY) is None


def test_attempt_exactly_at_the_end_of_validity_is_allowed() -> None:
    assert next_attempt_at(1, T0, T0, [72 * H], 72 * H) == T0 + 72 * H


def test_attempt_one_microsecond_past_validity_is_not() -> None:
    late = T0 + timedelta(microseconds=1)
    assert next_attempt_at(1, late, T0, [72 * H], 72 * H) is None


def test_zero_validity_allows_no_later_attempt() -> None:
    assert next_attempt_at(1, T0, T0, [H], timedelta(0)) is None


def test_attempts_made_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next_attempt_at(0, T0, T0, DEFAULT_BACKOFF, DEFAULT_VALIDITY)


def test_negative_backoff_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="back-off"):
        next_attempt_at(1, T0, T0, [-H], DEFAULT_VALIDITY)


def test_expires_at_is_first_submit_plus_validity() -> None:
    assert expires_at(T0, 72 * H) == T0 + 72 * H


def test_negative_validity_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        expires_at(T0, -H)


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        (T0, False),
        (T0 + 71 * H, False),
        (T0 + 72 * H, False),
        (T0 + 72 * H + timedelta(microseconds=1), True),
        (T0 + 100 * H, True),
    ],
    ids=["at-submit", "before", "last-instant", "just-after", "long-after"],
)
def test_is_expired_strictly_after_the_end_of_validity(now: datetime, expired: bool) -> None:
    assert is_expired(T0, 72 * H, now) is expired
