"""Login throttling: after ``LIMIT`` wrong passwords for one account, or from one
address, within ``WINDOW``, every login for it is refused (HTTP 429, ``Retry-After``)
until the window passes — the right password included, so that guessing on gains
nothing. Refused attempts are not counted: the lock ends when the window passes.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smscope.db.tables import LoginAttempt
from smscope.errors import ThrottledError

__all__ = ["LIMIT", "WINDOW", "check_throttle", "record_attempt", "retry_after"]

LIMIT = 5
WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=1)


def retry_after(failures: list[datetime], now: datetime) -> int:
    """Seconds until fewer than ``LIMIT`` of ``failures`` (any order) are within the
    window; 0 when that is already so. A pure rule, tested without a database."""
    recent = sorted(t for t in failures if now - t < WINDOW)
    if len(recent) < LIMIT:
        return 0
    # the lock lifts when the oldest failure that still makes it LIMIT leaves the window
    lifts_at = recent[len(recent) - LIMIT] + WINDOW
    return max(1, math.ceil((lifts_at - now).total_seconds()))


def _failures(session: Session, column: Any, value: str, now: datetime) -> list[datetime]:
    return list(session.scalars(
        select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False),
                                      LoginAttempt.at > now - WINDOW)))


def check_throttle(session: Session, email: str, address: str, *, now: datetime) -> None:
    """Raise ThrottledError if the account or the address is locked."""
    wait = max(retry_after(_failures(session, LoginAttempt.email, email, now), now),
               retry_after(_failures(session, LoginAttempt.address, address, now), now))
    if wait:
        minutes = math.ceil(wait / 60)
        raise ThrottledError(
            f"Too many wrong passwords: logging in is blocked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}. Wait, then try again.", retry_after=wait)


def record_attempt(session: Session, email: str, address: str, *, success: bool,
                   now: datetime) -> None:
    session.add(LoginAttempt(email=email[:254], address=address[:64], at=now,
                             success=success))
    # attempts older than a day tell nothing any more: the table stays small, even
    # under a flood of guesses
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
