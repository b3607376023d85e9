"""What a webhook says about one status change (pure).

One event per row of ``status_events``: its id is that row's id, ``evt_<id>``, so it is
the same for every endpoint, every attempt and every worker, and a receiver that keeps
the ids it has seen can drop a delivery made twice (delivery is at-least-once).
``sequence`` is the row's id as a number: events of one message are numbered in the
order they happened, which a receiver can use to order what arrives out of order
after a retry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from smscope.statuses import Status

__all__ = ["EVENT_TYPE", "body_of", "event_id", "payload_of"]

EVENT_TYPE = "message.status"
#: statuses after which a message's stored error code belongs to this event
_NO_ERROR = frozenset({Status.QUEUED, Status.SCHEDULED, Status.SENT,
                       Status.DELIVERED_TO_OPERATOR, Status.RECEIVED})


def event_id(status_event_id: int) -> str:
    """The event id of the ``status_events`` row ``status_event_id``."""
    return f"evt_{status_event_id}"


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document of one event, from a row of the pump's read (a status event
    with its message's columns, the connector's name, the part's operator id and the
    receipt's error code). Statuses are canonical ids."""
    to_status = Status(row["to_status"])
    error_code = row["receipt_err"]
    if error_code is None and to_status not in _NO_ERROR:
        error_code = row["error_code"]
    return {
        "event_id": event_id(row["id"]),
        "type": EVENT_TYPE,
        "sequence": row["id"],
        "occurred_at": _iso(row["at"]),
        "message_id": row["message_id"],
        "campaign_id": row["campaign_id"],
        "kind": row["kind"],
        "number": row["number"],
        "sender": row["sender"],
        "from_status": row["from_status"],
        "to_status": to_status.value,
        "category": to_status.category.value,
        "final": to_status.is_final,
        "attempt": row["attempt"],
        "error_code": error_code,
        "connector": row["connector"],
        "operator_id": row["operator_id"],
        "segments": row["segments"],
    }


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The bytes POSTed (and signed): compact JSON, UTF-8, keys in the payload's order,
    the same on every attempt."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
