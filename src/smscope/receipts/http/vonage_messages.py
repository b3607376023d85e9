"""Status webhooks of the Vonage Messages API (``/hooks/{connector}/vonage`` of a
``vonage-messages`` connector).

A JSON body (``message_uuid``, ``status``, ``to``, ``from``, ``channel``, ``error``)
with ``Authorization: Bearer <JWT>``: HS256 with the account's signature secret, its
``iat`` within 5 minutes of this server's clock, and ``payload_hash`` the hex SHA-256
of the body (https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks).

Statuses (https://developer.vonage.com/en/messages/concepts/messages-status-callbacks):
``submitted`` (passed to the carrier), ``delivered``, ``read``, ``rejected`` (refused,
with an ``error`` object), ``undeliverable`` (the carrier could not be reached).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jwt

from smscope.db.types import utcnow
from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import Callback, HookRequest, e164, text
from smscope.statuses import Status

__all__ = ["ERROR_CODES", "OPT_OUT", "STATUSES", "parse", "status_of", "verify"]

TOLERANCE = 300

STATUSES: Mapping[str, Status] = {
    "submitted": Status.DELIVERED_TO_OPERATOR,
    "delivered": Status.RECEIVED,
    "read": Status.RECEIVED,
    "rejected": Status.REJECTED,
    "undeliverable": Status.TEMPORARY_ERROR_OPERATOR,
}

#: error codes (the number at the end of ``error.type``, or ``error.title``) →
#: status, for rejected messages (https://developer.vonage.com/en/api-errors/messages)
ERROR_CODES: Mapping[str, Status] = {
    "1000": Status.TEMPORARY_ERROR_OPERATOR,  # Throttled
    "1020": Status.REJECTED,  # Invalid params
    "1030": Status.TEMPORARY_ERROR_OPERATOR,  # Internal error
    "1040": Status.ROUTING_ERROR,  # Invalid message (e.g. unrecognised number prefix)
    "1050": Status.BLACKLISTED,  # Number barred: blacklisted, may not receive messages
    "1060": Status.REJECTED,  # Partner account barred
    "1070": Status.REJECTED,  # Partner quota exceeded (no credit)
    "1100": Status.TEMPORARY_ERROR_OPERATOR,  # Communication failed
    "1120": Status.REJECTED,  # Illegal Sender Address - rejected
}

#: the codes that say the number may not receive messages (opted out)
OPT_OUT = frozenset({"1050"})


def _error_code(error: Any) -> str | None:
    if not isinstance(error, dict):
        return None
    kind = text(error.get("type"), 200) or ""
    if "#" in kind and kind.rsplit("#", 1)[1].isdigit():
        return kind.rsplit("#", 1)[1]
    title = text(error.get("title"), 32)
    return title if title and title.isdigit() else None


def status_of(stat: str, err: str | None) -> Status:
    """The canonical status of a Messages API ``status`` and error code."""
    base = STATUSES.get(stat.strip().lower(), Status.UNDEFINED)
    if base is Status.REJECTED and err:
        return ERROR_CODES.get(err, base)
    return base


def verify(request: HookRequest, settings: Mapping[str, Any], *,
           now: datetime | None = None) -> None:
    """Check the bearer JWT with the connector's signature secret."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureError("missing Authorization: Bearer JWT", missing=True)
    try:
        claims = jwt.decode(token.strip(), str(settings.get("signature_secret") or ""),
                            algorithms=["HS256"], options={"require": ["iat"],
                                                           "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise SignatureError(f"the JWT does not verify with the connector's signature "
                             f"secret: {exc}") from None
    iat = claims.get("iat")
    clock = (now or utcnow()).timestamp()
    if not isinstance(iat, int | float) or abs(clock - iat) > TOLERANCE:
        raise SignatureError("the JWT's iat is more than 5 minutes away from this server's "
                             "clock")
    expected = hashlib.sha256(request.body).hexdigest()
    offered = claims.get("payload_hash")
    if (request.body or offered is not None) and not (
            isinstance(offered, str)
            and hmac.compare_digest(offered.lower().encode(), expected.encode())):
        raise SignatureError("the JWT's payload_hash is not the SHA-256 of the body")


def parse(request: HookRequest) -> list[Callback]:
    """The one status report of a Messages API status webhook."""
    body = request.json()
    if not isinstance(body, dict):
        raise CallbackError("a Messages API status is one JSON object")
    uuid = text(body.get("message_uuid"))
    stat = text(body.get("status"), 32)
    if not uuid or not stat:
        raise CallbackError("a Messages API status needs message_uuid and status")
    if stat.lower() not in STATUSES:
        raise CallbackError(f"unknown Messages API status {stat!r}")
    err = _error_code(body.get("error"))
    return [Callback(provider_id=uuid, stat=stat, err=err, status=status_of(stat, err),
                     number=e164(text(body.get("to"), 32)),
                     sender=e164(text(body.get("from"), 32)), opt_out=err in OPT_OUT,
                     raw=request.body.decode("utf-8", "replace")[:4000])]
