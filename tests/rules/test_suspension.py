"""Suspension: thresholds, minimum sample, reason sentences, order of the rules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from smscope.config import SuspensionConfig
from smscope.rules.suspension import (
    Outcomes,
    check_suspension,
    format_percent,
    tally,
)
from smscope.statuses import Status

DEFAULTS = SuspensionConfig()


def outcomes(sample: int, soft: int = 0, hard: int = 0, unsub: int = 0) -> Outcomes:
    return Outcomes(sample=sample, soft_bounced=soft, hard_bounced=hard, unsubscribed=unsub)


def test_defaults_are_the_contract_thresholds() -> None:
    assert (DEFAULTS.soft_bounce, DEFAULTS.hard_bounce, DEFAULTS.unsubscribe) == (
        0.10, 0.05, 0.02
    )
    assert DEFAULTS.min_sample == 200


def test_healthy_campaign_keeps_sending() -> None:
    assert check_suspension(outcomes(1000, soft=50, hard=10, unsub=5), DEFAULTS) is None


def test_below_min_sample_never_suspends_even_at_100_percent() -> None:
    assert check_suspension(outcomes(199, soft=199, hard=199, unsub=199), DEFAULTS) is None


def test_empty_sample_never_suspends_even_with_min_sample_one() -> None:
    config = SuspensionConfig(min_sample=1)
    assert check_suspension(outcomes(0), config) is None


def test_at_min_sample_rules_apply() -> None:
    result = check_suspension(outcomes(200, hard=11), DEFAULTS)
    assert result is not None
    assert result.rule == "hard_bounce"


@pytest.mark.parametrize(
    "case",
    [outcomes(200, hard=10), outcomes(200, soft=20), outcomes(200, unsub=4),
     outcomes(300, hard=15), outcomes(700, unsub=14)],
    ids=["hard-5%", "soft-10%", "unsub-2%", "hard-5%-of-300", "unsub-2%-of-700"],
)
def test_rate_exactly_at_threshold_does_not_suspend(case: Outcomes) -> None:
    assert check_suspension(case, DEFAULTS) is None


def test_threshold_is_compared_exactly_not_through_float_rounding() -> None:
    # 0.07 * 300 == 21.000000000000004 in floats; 21/300 is exactly 7 %.
    config = SuspensionConfig(hard_bounce=0.07)
    assert check_suspension(outcomes(300, hard=21), config) is None
    assert check_suspension(outcomes(300, hard=22), config) is not None


@pytest.mark.parametrize(
    ("case", "rule", "threshold"),
    [(outcomes(200, hard=11), "hard_bounce", 0.05),
     (outcomes(200, soft=21), "soft_bounce", 0.10),
     (outcomes(200, unsub=5), "unsubscribe", 0.02)],
)
def test_rate_strictly_above_threshold_suspends(
    case: Outcomes, rule: str, threshold: float
) -> None:
    result = check_suspension(case, DEFAULTS)
    assert result is not None
    assert result.rule == rule
    assert result.threshold == threshold
    assert result.sample == 200


def test_suspension_carries_rate_and_reason() -> None:
    result = check_suspension(outcomes(412, hard=25), DEFAULTS)
    assert result is not None
    assert result.rate == pytest.approx(25 / 412)
    assert result.reason == "hard-bounce rate 6.1 % > 5 % after 412 messages"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (outcomes(412, hard=25), "hard-bounce rate 6.1 % > 5 % after 412 messages"),
        (outcomes(1412, soft=170), "soft-bounce rate 12 % > 10 % after 1,412 messages"),
        (outcomes(250, unsub=6), "unsubscribe rate 2.4 % > 2 % after 250 messages"),
        (outcomes(1_000_000, hard=60_000),
         "hard-bounce rate 6 % > 5 % after 1,000,000 messages"),
    ],
)
def test_reason_text(case: Outcomes, reason: str) -> None:
    result = check_suspension(case, DEFAULTS)
    assert result is not None
    assert result.reason == reason


def test_reason_never_reads_equal_when_just_above_threshold() -> None:
    # 51 of 1,000 is 5.1 %, but 501 of 10,000 is 5.01 %, which rounds to 5 %.
    result = check_suspension(outcomes(10_000, hard=501), DEFAULTS)
    assert result is not None
    assert result.reason == "hard-bounce rate 5.1 % > 5 % after 10,000 messages"


def test_reason_keeps_a_decimal_threshold() -> None:
    config = SuspensionConfig(unsubscribe=0.025)
    result = check_suspension(outcomes(200, unsub=6), config)
    assert result is not None
    assert result.reason == "unsubscribe rate 3 % > 2.5 % after 200 messages"


def test_reason_says_message_for_a_sample_of_one() -> None:
    result = check_suspension(outcomes(1, hard=1), SuspensionConfig(min_sample=1))
    assert result is not None
    assert result.reason == "hard-bounce rate 100 % > 5 % after 1 message"


def test_hard_bounce_is_reported_before_soft_bounce_and_unsubscribe() -> None:
    result = check_suspension(outcomes(200, soft=100, hard=100, unsub=100), DEFAULTS)
    assert result is not None
    assert result.rule == "hard_bounce"


def test_soft_bounce_is_reported_before_unsubscribe() -> None:
    result = check_suspension(outcomes(200, soft=100, unsub=100), DEFAULTS)
    assert result is not None
    assert result.rule == "soft_bounce"


def test_unsubscribe_alone_suspends() -> None:
    result = check_suspension(outcomes(200, unsub=100), DEFAULTS)
    assert result is not None
    assert result.rule == "unsubscribe"


def test_configured_thresholds_apply() -> None:
    strict = SuspensionConfig(hard_bounce=0.01, min_sample=50)
    result = check_suspension(outcomes(50, hard=1), strict)
    assert result is not None
    assert result.reason == "hard-bounce rate 2 % > 1 % after 50 messages"


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="hard_bounced"):
        outcomes(10, hard=-1)


@pytest.mark.parametrize(
    ("rate", "text"),
    [(Fraction(1, 20), "5 %"), (0.061, "6.1 %"), (Fraction(25, 412), "6.1 %"),
     (Fraction(1, 8), "12.5 %"), (Fraction(1, 3), "33.3 %"), (Fraction(2, 3), "66.7 %"),
     (0, "0 %"), (1, "100 %"), (Fraction(999, 1000), "99.9 %"),
     (Fraction(9999, 10000), "100 %")],
)
def test_format_percent_has_at_most_one_decimal(rate: Fraction | float, text: str) -> None:
    assert format_percent(rate) == text


def test_tally_counts_the_sample_as_the_contract_defines_it() -> None:
    messages = [
        (Status.RECEIVED, False),  # delivered first time
        (Status.RECEIVED, True),  # delivered after a temporary error: soft-bounced
        (Status.RETRY_SCHEDULED, True),  # pending, but had a temporary error
        (Status.SENT, False),  # no outcome yet
        (Status.EXPIRED, False),  # final soft bounce
        (Status.PERMANENT_ERROR_PHONE, False),  # hard bounce
        (Status.REJECTED, False),  # error: in the sample, neither bounce
        (Status.BLACKLISTED, False),  # never sent
        (Status.DUPLICATE, False),  # never sent
        (Status.INVALID_NUMBER, False),  # never sent
        (Status.TEST, False),  # kept out of statistics
    ]
    assert tally(messages, unsubscribed=2) == Outcomes(
        sample=6, soft_bounced=3, hard_bounced=1, unsubscribed=2
    )
