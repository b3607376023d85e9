"""The webhook service: endpoints (add, list, remove) and the delivery log.

The CLI and, later, the web UI and API are thin shells over these functions. An
endpoint receives the events that happen after it was added (its cursor starts at the
last status event then stored): a new endpoint is not flooded with the past.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smscope.db.tables import Campaign, StatusEvent, WebhookDelivery, WebhookEndpoint
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, UsageError
from smscope.pagination import check_limit, decode_cursor, encode_cursor

__all__ = [
    "DELIVERY_STATES",
    "add_endpoint",
    "check_url",
    "deliveries",
    "delivery_to_json",
    "endpoint_to_json",
    "endpoints_with_counts",
    "get_endpoint",
    "list_endpoints",
    "remove_endpoint",
]

DELIVERY_STATES = ("pending", "done", "failed")
_MAX_URL = 2000


def check_url(url: str) -> str:
    """``url`` if it can receive webhooks: ``http`` or ``https``, with a host; else a
    UsageError saying what is wrong."""
    url = url.strip()
    if not url:
        raise UsageError("the webhook URL is empty; give one like https://example.com/hooks")
    if len(url) > _MAX_URL:
        raise UsageError(f"the webhook URL is longer than {_MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UsageError(f"the webhook URL {url!r} contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"the webhook URL {url!r} is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"the webhook URL {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"the webhook URL {url!r} has no host; give one like "
                         "https://example.com/hooks")
    if port == 0:
        raise UsageError(f"the webhook URL {url!r} has port 0")
    return url


def _check_secret(secret: str) -> str:
    secret = secret.strip()
    if not 16 <= len(secret) <= 128:
        raise UsageError("a webhook secret must be 16 to 128 characters long (leave "
                         "--secret out to have one generated)")
    return secret


def add_endpoint(session: Session, url: str, *, campaign_id: int | None = None,
                 secret: str | None = None) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for the account (or one campaign); returns it and its secret
    (generated when not given: show it once, it is what receivers verify with)."""
    url = check_url(url)
    secret = _check_secret(secret) if secret is not None else "whsec_" + secrets.token_hex(24)
    if campaign_id is not None and session.get(Campaign, campaign_id) is None:
        raise NotFoundError(f"campaign {campaign_id} does not exist; see "
                            "'smscope campaign list'")
    last = session.scalar(select(func.max(StatusEvent.id))) or 0
    endpoint = WebhookEndpoint(url=url, campaign_id=campaign_id, secret=secret, active=True,
                               cursor=last, created_at=utcnow())
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    # ids are 32-bit on PostgreSQL: a larger one is no endpoint, not a database error
    endpoint = session.get(WebhookEndpoint, endpoint_id) if 0 < endpoint_id < 2**31 else None
    if endpoint is None or not endpoint.active:
        raise NotFoundError(f"webhook {endpoint_id} does not exist; see 'smscope webhooks "
                            "list'")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """The active endpoints, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
                                .order_by(WebhookEndpoint.id)))


def remove_endpoint(session: Session, endpoint_id: int, *,
                    now: datetime | None = None) -> WebhookEndpoint:
    """Stop sending to an endpoint. Its delivery log stays; deliveries not made yet end
    ``failed`` ("endpoint removed")."""
    endpoint = get_endpoint(session, endpoint_id)
    moment = now or utcnow()
    endpoint.active = False
    endpoint.removed_at = moment
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.endpoint_id == endpoint_id,
                           WebhookDelivery.state == "pending")
                    .values(state="failed", last_error="endpoint removed", claimed_by=None,
                            claimed_until=None, next_attempt_at=None))
    return endpoint


def _counts(session: Session, endpoint_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(DELIVERY_STATES, 0)
                                         for i in endpoint_ids}
    if endpoint_ids:
        rows = session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.state, func.count())
            .where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
            .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.state))
        for endpoint_id, state, count in rows:
            counts[endpoint_id][state] = count
    return counts


def endpoint_to_json(endpoint: WebhookEndpoint,
                     counts: dict[str, int] | None = None) -> dict[str, Any]:
    """An endpoint as the CLI and the API show it: never its secret."""
    document: dict[str, Any] = {
        "id": endpoint.id, "url": endpoint.url, "campaign_id": endpoint.campaign_id,
        "active": endpoint.active, "created_at": endpoint.created_at,
    }
    if counts is not None:
        document["deliveries"] = counts
    return document


def endpoints_with_counts(session: Session) -> list[dict[str, Any]]:
    """The active endpoints as JSON, with their deliveries counted by state."""
    endpoints = list_endpoints(session)
    counts = _counts(session, [e.id for e in endpoints])
    return [endpoint_to_json(e, counts[e.id]) for e in endpoints]


def deliveries(session: Session, *, endpoint_id: int | None = None,
               state: str | None = None, cursor: str | None = None,
               limit: int | None = None) -> tuple[list[WebhookDelivery], str | None]:
    """The delivery log, newest first: a page and the cursor of the next one."""
    if state is not None and state not in DELIVERY_STATES:
        raise UsageError(f"--state {state!r} is not a delivery state; use "
                         f"{'|'.join(DELIVERY_STATES)}")
    size = check_limit(limit)
    before = decode_cursor(cursor)
    stmt = select(WebhookDelivery)
    if endpoint_id is not None:
        if not 0 < endpoint_id < 2**31 or session.get(WebhookEndpoint, endpoint_id) is None:
            raise NotFoundError(f"webhook {endpoint_id} does not exist; see 'smscope "
                                "webhooks list'")
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if state is not None:
        stmt = stmt.where(WebhookDelivery.state == state)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    rows = list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(size + 1)))
    page = rows[:size]
    return page, (encode_cursor(page[-1].id) if len(rows) > size else None)


def delivery_to_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id, "message_id": delivery.message_id,
        "to_status": (delivery.payload or {}).get("to_status"),
        "state": delivery.state, "attempts": delivery.attempts,
        "last_error": delivery.last_error, "created_at": delivery.created_at,
        "last_attempt_at": delivery.last_attempt_at,
        "next_attempt_at": delivery.next_attempt_at if delivery.state == "pending" else None,
        "delivered_at": delivery.delivered_at,
    }
