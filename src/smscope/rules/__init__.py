"""The pure rules of sending, used by the campaign engine.

No I/O and no database here: plain functions and classes that decide when a marketing
SMS may leave (sending windows), when a temporarily failed message is tried again
(retries within validity), when a campaign must stop (suspension thresholds) and which
replies unsubscribe (STOP keywords). Keeping them pure lets the engine, the workers and
the tests share one definition of each rule, and lets the tests cover them exhaustively.
"""

from smscope.rules.retry import expires_at, is_expired, next_attempt_at
from smscope.rules.stop import StopMatcher, fold
from smscope.rules.suspension import (
    Outcomes,
    Rule,
    Suspension,
    check_suspension,
    format_percent,
    tally,
)
from smscope.rules.windows import SendingWindows, public_holidays, zone_for_region

__all__ = [
    "Outcomes",
    "Rule",
    "SendingWindows",
    "StopMatcher",
    "Suspension",
    "check_suspension",
    "expires_at",
    "fold",
    "format_percent",
    "is_expired",
    "next_attempt_at",
    "public_holidays",
    "tally",
    "zone_for_region",
]
