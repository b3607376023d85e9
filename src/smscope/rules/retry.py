"""Retries after a temporary error, bounded by the message's validity.

A temporary error (absent subscriber, full handset, operator busy…) becomes
``retry_scheduled`` while attempts remain, and its final soft-bounce status after the
last one (SPEC §4.3). The default back-off, ``['2h', '12h', '36h']``, gives three more
attempts spread over the 72 h of the default validity.

Validity runs from the *first* submit and bounds every attempt: a retry is never
scheduled past it, because the operator would drop a message whose validity is over
and the sender asked for nothing older than that to arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def expires_at(first_submitted_at: datetime, validity: timedelta) -> datetime:
    """The moment a message stops being worth delivering: first submit + validity."""
    if validity < timedelta(0):
        raise ValueError("a validity cannot be negative")
    return first_submitted_at + validity


def is_expired(first_submitted_at: datetime, validity: timedelta, now: datetime) -> bool:
    """Whether the validity is over at ``now`` (strictly after :func:`expires_at`).

    The last instant of the validity still counts as valid, consistently with
    :func:`next_attempt_at`, which accepts an attempt falling exactly on it.
    """
    return now > expires_at(first_submitted_at, validity)


def next_attempt_at(
    attempts_made: int,
    failed_at: datetime,
    first_submitted_at: datetime,
    backoff: Sequence[timedelta],
    validity: timedelta,
) -> datetime | None:
    """When to submit again after a temporary error, or None when the message is done.

    ``attempts_made`` counts the submits so far (1 after the first). The delay before
    attempt n + 1 is ``backoff[n - 1]``, counted from ``failed_at`` (when the temporary
    error was learnt), so an empty back-off means no retry at all. None also when the
    next attempt would fall after ``first_submitted_at + validity``: the caller then
    gives the message its final soft-bounce status.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made counts submits; it is at least 1 after a failure")
    if attempts_made > len(backoff):
        return None
    delay = backoff[attempts_made - 1]
    if delay < timedelta(0):
        raise ValueError("a back-off delay cannot be negative")
    attempt = failed_at + delay
    if attempt > expires_at(first_submitted_at, validity):
        return None
    return attempt
