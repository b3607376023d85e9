"""Automatic suspension of a campaign whose outcomes look wrong.

Checked after each batch of outcomes while a campaign sends (CONTRACTS §7). A high
bounce or unsubscribe rate usually means a bad list or a bad message; stopping early
protects the sender's reputation with operators and the recipients' patience, and the
person who resumes it needs one sentence saying which rule tripped and on what figures.

The sample is the messages that have an outcome so far: a final status, or at least one
temporary-error receipt. Not-sent and blacklisted messages never left, so they do not
count. No rule applies below ``min_sample`` messages, where a handful of early bounces
would swing the rates. A rate *strictly* above its threshold suspends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from smscope.config import SuspensionConfig
from smscope.statuses import Category, Status

Rule = Literal["soft_bounce", "hard_bounce", "unsubscribe"]

#: When several rules trip, the most serious is reported: hard bounces first.
RULE_ORDER: tuple[Rule, ...] = ("hard_bounce", "soft_bounce", "unsubscribe")

_RULE_TEXT: dict[Rule, str] = {
    "hard_bounce": "hard-bounce rate",
    "soft_bounce": "soft-bounce rate",
    "unsubscribe": "unsubscribe rate",
}

#: Categories of messages that were never submitted, hence not in the sample. Test
#: messages are kept out of every statistic, so out of this one too.
_OUTSIDE_SAMPLE = frozenset({Category.NOT_SENT, Category.UNSUBSCRIBED, Category.TEST})


@dataclass(frozen=True, slots=True)
class Outcomes:
    """A campaign's figures so far, as the suspension rules read them.

    ``sample``: messages with an outcome (final status or a temporary-error receipt),
    not counting not-sent and blacklisted ones; ``soft_bounced``: those of them that
    had a temporary error; ``hard_bounced``: those in the hard-bounce category;
    ``unsubscribed``: STOP replies to this campaign.
    """

    sample: int
    soft_bounced: int
    hard_bounced: int
    unsubscribed: int

    def __post_init__(self) -> None:
        for name in ("sample", "soft_bounced", "hard_bounced", "unsubscribed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")


def tally(messages: Iterable[tuple[Status, bool]], unsubscribed: int) -> Outcomes:
    """Count :class:`Outcomes` from ``(status, had_temporary_error)`` per message.

    The definition in code, for callers (and tests) that hold messages rather than
    aggregates. A message counts once it has a final status or a temporary error; it
    is soft-bounced if it ever had a temporary error or ended in the soft-bounce
    category (``expired`` included), even if a retry later delivered it.
    """
    sample = soft = hard = 0
    for status, had_temporary_error in messages:
        if status.category in _OUTSIDE_SAMPLE:
            continue
        if not (status.is_final or had_temporary_error):
            continue
        sample += 1
        if had_temporary_error or status.category is Category.SOFT_BOUNCE:
            soft += 1
        if status.category is Category.HARD_BOUNCE:
            hard += 1
    return Outcomes(sample=sample, soft_bounced=soft, hard_bounced=hard,
                    unsubscribed=unsubscribed)


@dataclass(frozen=True, slots=True)
class Suspension:
    """Why a campaign is suspended: the rule, its figures, and a sentence for people."""

    rule: Rule
    rate: float
    threshold: float
    sample: int
    reason: str


def check_suspension(outcomes: Outcomes, config: SuspensionConfig) -> Suspension | None:
    """The rule that suspends the campaign, or None to keep sending.

    Nothing suspends below ``config.min_sample``. Rates are compared exactly (as
    fractions, with the threshold read as the decimal it was written as), so a rate
    equal to its threshold never suspends through a rounding error. When several rules
    trip, the hard-bounce rule is reported first, then soft-bounce, then unsubscribe.
    """
    sample = outcomes.sample
    if sample < config.min_sample or sample == 0:
        return None
    counts: dict[Rule, int] = {
        "hard_bounce": outcomes.hard_bounced,
        "soft_bounce": outcomes.soft_bounced,
        "unsubscribe": outcomes.unsubscribed,
    }
    thresholds: dict[Rule, float] = {
        "hard_bounce": config.hard_bounce,
        "soft_bounce": config.soft_bounce,
        "unsubscribe": config.unsubscribe,
    }
    for rule in RULE_ORDER:
        rate = Fraction(counts[rule], sample)
        threshold = Fraction(repr(thresholds[rule]))
        if rate > threshold:
            return Suspension(
                rule=rule,
                rate=float(rate),
                threshold=thresholds[rule],
                sample=sample,
                reason=_reason(rule, rate, threshold, sample),
            )
    return None


def format_percent(rate: Fraction | float, *, round_up: bool = False) -> str:
    """A rate as a percentage with at most one decimal: ``6.1 %``, ``5 %`` (not 5.0).

    Rounds half up, or up when ``round_up`` is set.
    """
    value = Fraction(rate) * 1000  # tenths of a percent
    tenths = -(-value.numerator // value.denominator) if round_up else int(value + Fraction(1, 2))
    whole, tenth = divmod(tenths, 10)
    return f"{whole} %" if tenth == 0 else f"{whole}.{tenth} %"


def _reason(rule: Rule, rate: Fraction, threshold: Fraction, sample: int) -> str:
    shown_threshold = format_percent(threshold)
    shown_rate = format_percent(rate)
    if shown_rate == shown_threshold:
        # Just above the threshold: "5 % > 5 %" would read as a bug, so round up.
        shown_rate = format_percent(rate, round_up=True)
    noun = "message" if sample == 1 else "messages"
    return f"{_RULE_TEXT[rule]} {shown_rate} > {shown_threshold} after {sample:,} {noun}"
