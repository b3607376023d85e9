"""Twilio's message status callbacks (``POST /hooks/{connector}/twilio``).

Twilio posts a form (``MessageSid``, ``MessageStatus``, ``ErrorCode``, ``To``, ``From``
…) to the ``StatusCallback`` URL at each status change, signed in
``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the account's auth token, of the
full URL it called followed by every POST parameter's name and value, sorted by name.
Twilio may write the URL with or without its default port, so both are tried
(CONTRACTS §12).

Statuses: https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
— ``queued``, ``accepted``, ``scheduled``, ``sending`` (still with Twilio), ``sent``
(accepted by the carrier), ``delivered``, ``read`` (handset), ``undelivered`` (the
carrier's receipt says not delivered), ``failed`` (never sent), ``canceled``.
Error codes: https://www.twilio.com/docs/api/errors (300xx are delivery errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import Callback, HookRequest, e164
from smscope.statuses import Status

__all__ = ["ERROR_CODES", "OPT_OUT", "STATUSES", "parse", "signature", "status_of", "verify"]

SIGNATURE_HEADER = "x-twilio-signature"

#: MessageStatus → status, when no error code says more
STATUSES: Mapping[str, Status] = {
    "queued": Status.SENT, "accepted": Status.SENT, "scheduled": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.DELIVERED_TO_OPERATOR,
    "delivered": Status.RECEIVED, "read": Status.RECEIVED,
    "undelivered": Status.RECEPTION_ERROR,
    "failed": Status.OTHER_ERROR,
    "canceled": Status.OTHER_ERROR,
}

#: ErrorCode → status, for undelivered / failed messages (twilio.com/docs/api/errors/NNNNN)
ERROR_CODES: Mapping[str, Status] = {
    "30001": Status.TEMPORARY_ERROR_OPERATOR,  # Queue overflow
    "30002": Status.OTHER_ERROR,  # Account suspended
    "30003": Status.TEMPORARY_ERROR_ABSENCE,  # Unreachable destination handset
    "30004": Status.REJECTED,  # Message blocked (by the recipient or the carrier)
    "30005": Status.PERMANENT_ERROR_ABSENCE,  # Unknown destination handset
    "30006": Status.PERMANENT_ERROR_PHONE,  # Landline or unreachable carrier
    "30007": Status.REJECTED,  # Message filtered (carrier violation)
    "30008": Status.RECEPTION_ERROR,  # Unknown error
    "30009": Status.RECEPTION_ERROR,  # Missing inbound segment
    "30010": Status.OTHER_ERROR,  # Message price exceeds max price
    "21211": Status.ROUTING_ERROR,  # Invalid 'To' phone number
    "21408": Status.ROUTING_ERROR,  # Permission to send to this region not enabled
    "21610": Status.BLACKLISTED,  # Attempt to send to unsubscribed recipient
    "21612": Status.ROUTING_ERROR,  # The 'To' number is not reachable via SMS
    "21614": Status.PERMANENT_ERROR_PHONE,  # 'To' number is not a valid mobile number
}

#: the error codes that say the recipient opted out (replied STOP to this sender)
OPT_OUT = frozenset({"21610"})


def status_of(stat: str, err: str | None) -> Status:
    """The canonical status of a Twilio ``MessageStatus`` and ``ErrorCode``."""
    word = stat.strip().lower()
    base = STATUSES.get(word, Status.UNDEFINED)
    code = (err or "").strip()
    if code and code != "0" and base.is_final and base is not Status.RECEIVED:
        return ERROR_CODES.get(code, base)
    return base


def signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """The ``X-Twilio-Signature`` of a request to ``url`` with POST ``params``."""
    by_name: dict[str, set[str]] = {}
    for name, value in params:
        by_name.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(by_name)
                         for value in sorted(by_name[name]))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """``url`` as given, with its default port written out, and without it."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = userinfo + "@" if userinfo else ""
    out = [url]
    if default is not None:
        try:
            port = parts.port
        except ValueError:
            return out
        if port is None:
            out.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
        elif port == default:
            out.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return out


def _params(request: HookRequest) -> list[tuple[str, str]]:
    if request.method == "GET":
        return []  # a GET callback's parameters are in the URL, signed with it
    if request.content_type != "application/x-www-form-urlencoded":
        raise CallbackError("a Twilio status callback is a POST form "
                            "(application/x-www-form-urlencoded)")
    return request.form()


def verify(request: HookRequest, settings: Mapping[str, Any], *,
           now: datetime | None = None) -> None:
    """Check ``X-Twilio-Signature`` with the connector's auth token."""
    offered = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not offered:
        raise SignatureError("missing X-Twilio-Signature header", missing=True)
    token = str(settings.get("auth_token") or "")
    try:
        params = _params(request)
    except CallbackError:
        params = []
    for url in _url_variants(request.url):
        if hmac.compare_digest(signature(token, url, params).encode(), offered.encode()):
            return
    raise SignatureError("X-Twilio-Signature does not match this URL, these parameters and "
                         "the connector's auth token (is public_url the address Twilio "
                         "calls?)")


def parse(request: HookRequest) -> list[Callback]:
    """The one status report of a Twilio callback."""
    params = dict(request.query if request.method == "GET" else _params(request))
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    stat = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip()
    if not sid or not stat:
        raise CallbackError("a Twilio status callback needs MessageSid and MessageStatus")
    if stat.lower() not in STATUSES:
        # not guessed at: an unknown word must not end a message's life
        raise CallbackError(f"unknown MessageStatus {stat[:32]!r}")
    err = (params.get("ErrorCode") or "").strip() or None
    return [Callback(provider_id=sid[:128], stat=stat[:32], err=err[:32] if err else None,
                     status=status_of(stat, err), number=e164(params.get("To")),
                     sender=e164(params.get("From")), opt_out=err in OPT_OUT,
                     raw=request.body.decode("utf-8", "replace")[:4000]
                     or request.url[:4000])]
