"""Delivering webhooks: claim due deliveries, POST them, record what happened.

**Claims.** A sender takes an endpoint's due deliveries oldest first and marks them
claimed by its worker until a lease ends (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, as
dispatch claims messages; SQLite has one writer at a time), so two workers never post
one delivery at once. Results are written only while the claim is still the worker's.
A worker that dies leaves its claims to expire: those deliveries are posted again
(at-least-once; receivers de-duplicate on the event id).

**Posting.** One JSON event per POST, signed (:mod:`smscope.signing`), with a timeout
and no redirect followed (a 3xx is a failure: a signed event is never sent on to
another host). 2xx: done. Anything else — refused, timed out, 3xx, 4xx, 5xx — is tried
again after ``[webhooks] backoff`` until ``max_attempts``, then ``failed`` with the
last error (and a log line). A claimed batch is split into ``concurrency`` lanes by
message id, each lane posting in event order: at most ``concurrency`` POSTs at once
per endpoint, and **a message's events are first posted in the order they happened**.
A retried event may arrive after later events of its message; ``sequence`` in the
payload orders them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import String, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from smscope.config import WebhooksConfig
from smscope.db.sql import is_postgresql, table_of
from smscope.db.tables import WebhookDelivery
from smscope.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from smscope.webhooks.payload import body_of

__all__ = ["Claimed", "Outcome", "Pace", "claim", "post_all", "post_one", "record", "release",
           "retry_at"]

log = logging.getLogger(__name__)

USER_AGENT = "smscope-webhooks/1"


class Pace(Protocol):
    """What paces the POSTs (:class:`smscope.webhooks.runner.GiveWay`)."""

    async def wait(self) -> None: ...

    def spent(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery: what a POST needs."""

    id: int
    event_id: str
    message_id: int | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """One POST: accepted or not, why not, when."""

    delivery: Claimed
    ok: bool
    error: str | None
    at: datetime


def retry_at(attempts: int, failed_at: datetime, config: WebhooksConfig) -> datetime | None:
    """When to try a delivery again after its ``attempts``-th failed POST, or None when
    it has had ``max_attempts``. The delay is ``backoff[attempts - 1]``, the last delay
    repeating."""
    if attempts >= config.max_attempts:
        return None
    delays = config.backoff
    return failed_at + delays[min(attempts, len(delays)) - 1]


def lease(config: WebhooksConfig, count: int) -> timedelta:
    """How long a claim of ``count`` deliveries lasts: every lane's POSTs timing out
    one after another, and a margin."""
    per_lane = -(-count // config.concurrency)
    return config.timeout * per_lane + timedelta(seconds=30)


def claim(session: Session, *, endpoint_id: int, worker_id: str, now: datetime,
          limit: int, config: WebhooksConfig) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of one endpoint, oldest first."""
    d = WebhookDelivery
    stmt = (select(d.id, d.event_id, d.message_id, d.payload, d.attempts)
            .where(d.endpoint_id == endpoint_id, d.state == "pending",
                   d.next_attempt_at <= now,
                   or_(d.claimed_until.is_(None), d.claimed_until < now))
            .order_by(d.id).limit(limit))
    if is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = [Claimed(*row) for row in session.execute(stmt)]
    if rows:
        until = now + lease(config, len(rows))
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 1000):
            session.execute(update(d).where(d.id.in_(ids[start:start + 1000]))
                            .values(claimed_by=worker_id, claimed_until=until))
    return rows


def release(session: Session, ids: Sequence[int], *, worker_id: str) -> None:
    """Give back claimed deliveries that were not posted (the worker is stopping)."""
    d = WebhookDelivery
    for start in range(0, len(ids), 1000):
        session.execute(update(d).where(d.id.in_(ids[start:start + 1000]),
                                        d.claimed_by == worker_id)
                        .values(claimed_by=None, claimed_until=None))


def record(session: Session, outcomes: Sequence[Outcome], *, worker_id: str,
           config: WebhooksConfig) -> int:
    """Write what the POSTs gave, for the deliveries still claimed by ``worker_id``;
    returns how many ended ``failed``."""
    table = table_of(WebhookDelivery)
    stmt = (update(table)
            .where(table.c.id == bindparam("_id"), table.c.claimed_by == bindparam("_worker"))
            .values(state=bindparam("_state"), attempts=bindparam("_attempts"),
                    next_attempt_at=bindparam("_next"), last_attempt_at=bindparam("_at"),
                    # an accepted delivery keeps the error of its last failure, if any
                    last_error=func.coalesce(bindparam("_error", type_=String),
                                             table.c.last_error),
                    delivered_at=bindparam("_delivered"),
                    claimed_by=None, claimed_until=None))
    params = []
    failed = 0
    for outcome in outcomes:
        delivery = outcome.delivery
        attempts = delivery.attempts + 1
        next_at = None if outcome.ok else retry_at(attempts, outcome.at, config)
        state = "done" if outcome.ok else ("pending" if next_at is not None else "failed")
        if state == "failed":
            failed += 1
            log.warning("webhooks: delivery %d (%s) failed after %d attempts: %s",
                        delivery.id, delivery.event_id, attempts, outcome.error)
        params.append({"_id": delivery.id, "_worker": worker_id, "_state": state,
                       "_attempts": attempts, "_next": next_at, "_at": outcome.at,
                       "_error": None if outcome.ok else (outcome.error or "")[:500],
                       "_delivered": outcome.at if outcome.ok else None})
    if params:
        session.connection().execute(stmt, params)
    return failed


async def post_one(client: httpx.AsyncClient, url: str, secret: str, delivery: Claimed, *,
                   clock: Callable[[], float] = time.time) -> str | None:
    """POST one delivery; None when accepted (2xx), else what went wrong, in words."""
    body = body_of(delivery.payload)
    timestamp = int(clock())
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_ID_HEADER: delivery.event_id,
    }
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return f"no answer within {client.timeout.read or 0:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if 200 <= response.status_code < 300:
        return None
    if response.is_redirect:
        where = response.headers.get("location", "")
        return f"HTTP {response.status_code} redirect to {where[:200]} (not followed)"
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


async def post_all(client: httpx.AsyncClient, url: str, secret: str,
                   deliveries: Sequence[Claimed], *, concurrency: int,
                   now: Callable[[], datetime],
                   done: Callable[[Outcome], None] | None = None,
                   pace: Pace | None = None) -> list[Outcome]:
    """POST ``deliveries`` in ``concurrency`` lanes (by message id, each lane in order);
    the outcomes in the order they ended. ``done`` is called with each as it ends;
    ``pace`` is waited for before each POST and told how long it took."""
    lanes: list[list[Claimed]] = [[] for _ in range(concurrency)]
    for delivery in deliveries:
        lanes[(delivery.message_id or delivery.id) % concurrency].append(delivery)
    outcomes: list[Outcome] = []

    async def run(lane: list[Claimed]) -> None:
        for delivery in lane:
            if pace is not None:
                await pace.wait()
            started = time.monotonic()
            error = await post_one(client, url, secret, delivery)
            if pace is not None:
                pace.spent(time.monotonic() - started)
            outcome = Outcome(delivery, error is None, error, now())
            outcomes.append(outcome)
            if done is not None:
                done(outcome)

    await asyncio.gather(*(run(lane) for lane in lanes if lane))
    return outcomes
