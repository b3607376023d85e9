"""Delivery receipts of the Vonage SMS API (``/hooks/{connector}/vonage``).

Vonage sends a DLR in any of its webhook formats: ``GET`` with a query string, ``POST``
form, or ``POST`` JSON, with ``messageId``, ``msisdn`` (the recipient), ``to`` (our
sender), ``status``, ``err-code``, ``message-timestamp``…

Signed DLRs (when the connector has ``--signature-secret``) add ``timestamp`` (Unix
seconds) and ``sig``: every other parameter, sorted by name, written ``&name=value``
(``&`` and ``=`` in values replaced by ``_``), then either MD5-hashed with the secret
appended (``md5hash``) or HMAC'd with the secret (``md5``, ``sha1``, ``sha256``,
``sha512``), in hex (https://developer.vonage.com/en/getting-started/concepts/signing-messages).
Without a signature secret, unsigned DLRs are accepted; with one, an unsigned DLR is
refused, and so is a ``timestamp`` more than 5 minutes off (CONTRACTS §12).

Statuses and ``err-code`` values:
https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from smscope.db.types import utcnow
from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import Callback, HookRequest, e164, text
from smscope.statuses import Status

__all__ = ["ERROR_CODES", "METHODS", "OPT_OUT", "STATUSES", "parse", "sign", "status_of",
           "verify"]

#: the signature methods of a Vonage account
METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
#: how far ``timestamp`` may be from this server's clock, in seconds
TOLERANCE = 300

#: DLR ``status`` → status, when ``err-code`` says nothing more
STATUSES: Mapping[str, Status] = {
    "delivered": Status.RECEIVED,
    "expired": Status.EXPIRED,
    "failed": Status.OTHER_ERROR,
    "rejected": Status.REJECTED,
    "accepted": Status.DELIVERED_TO_OPERATOR,  # accepted by the carrier
    "buffered": Status.DELIVERED_TO_OPERATOR,  # the carrier is still trying
    "unknown": Status.UNDEFINED,
}

#: ``err-code`` → status, for failed / rejected messages
ERROR_CODES: Mapping[str, Status] = {
    "1": Status.UNDEFINED,  # Unknown
    "2": Status.TEMPORARY_ERROR_ABSENCE,  # Absent Subscriber - Temporary
    "3": Status.PERMANENT_ERROR_ABSENCE,  # Absent Subscriber - Permanent
    "4": Status.REJECTED,  # Call Barred by User
    "5": Status.PERMANENT_ERROR_PORTABILITY,  # Portability Error
    "6": Status.REJECTED,  # Anti-Spam Rejection
    "7": Status.TEMPORARY_ERROR_PHONE,  # Handset Busy
    "8": Status.TEMPORARY_ERROR_OPERATOR,  # Network Error
    "9": Status.BLACKLISTED,  # Illegal Number: the recipient opted out (STOP)
    "10": Status.REJECTED,  # Illegal Message
    "11": Status.ROUTING_ERROR,  # Unroutable
    "12": Status.TEMPORARY_ERROR_PHONE,  # Destination Unreachable
    "13": Status.REJECTED,  # Subscriber Age Restriction
    "14": Status.REJECTED,  # Number Blocked by Carrier
    "15": Status.REJECTED,  # Prepaid Insufficient Funds
    "16": Status.TEMPORARY_ERROR_OPERATOR,  # Gateway Quota Exceeded
    "39": Status.PERMANENT_ERROR_PHONE,  # Invalid Number (not a mobile number)
    "50": Status.REJECTED,  # Entity Filter
    "51": Status.REJECTED,  # Header Filter
    "52": Status.REJECTED,  # Content Filter
    "53": Status.REJECTED,  # Consent Filter
    "54": Status.REJECTED,  # Regulation Error
    "99": Status.OTHER_ERROR,  # General Error
}

#: the err-codes that say the recipient opted out
OPT_OUT = frozenset({"9"})


def _code(err: str | None) -> str:
    value = (err or "").strip()
    return value.lstrip("0") or "0" if value.isdigit() else value


def status_of(stat: str, err: str | None) -> Status:
    """The canonical status of a Vonage DLR ``status`` and ``err-code``."""
    base = STATUSES.get(stat.strip().lower(), Status.UNDEFINED)
    code = _code(err)
    if base in (Status.OTHER_ERROR, Status.REJECTED) and code != "0":
        return ERROR_CODES.get(code, base)
    return base


def _signed_string(params: Mapping[str, str]) -> str:
    return "".join(f"&{name}={params[name].replace('&', '_').replace('=', '_')}"
                   for name in sorted(params) if name != "sig")


def sign(secret: str, params: Mapping[str, str], method: str = "md5hash") -> str:
    """The ``sig`` of ``params`` (``sig`` itself left out), in lower-case hex."""
    data = _signed_string(params)
    if method == "md5hash":
        return hashlib.md5((data + secret).encode("utf-8")).hexdigest()
    if method not in METHODS:
        raise ValueError(f"unknown Vonage signature method {method!r}")
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), method).hexdigest()


def params_of(request: HookRequest) -> dict[str, str]:
    """The DLR's parameters, whichever of the three formats it came in."""
    if request.method == "GET":
        pairs: list[tuple[str, str]] = request.query
    elif request.content_type == "application/json":
        body = request.json()
        if not isinstance(body, dict):
            raise CallbackError("a Vonage DLR in JSON is one object")
        pairs = [(str(k), "" if v is None else str(v)) for k, v in body.items()
                 if not isinstance(v, dict | list)]
    else:
        pairs = request.form()
    return dict(pairs)


def verify(request: HookRequest, settings: Mapping[str, Any], *,
           now: datetime | None = None) -> None:
    """Check ``sig`` when the connector has a signature secret."""
    secret = settings.get("signature_secret")
    try:
        params = params_of(request)
    except CallbackError:
        if secret:
            raise SignatureError("a DLR whose parameters cannot be read cannot be signed",
                                 missing=True) from None
        return  # unsigned connector: parse() says what is wrong
    if not secret:
        return
    offered = params.get("sig", "").strip().lower()
    if not offered:
        raise SignatureError("missing sig parameter (the connector has a signature secret)",
                             missing=True)
    stamp = params.get("timestamp", "").strip()
    clock = (now or utcnow()).timestamp()
    if not stamp.isdigit() or abs(clock - int(stamp)) > TOLERANCE:
        raise SignatureError("the DLR's timestamp is missing or more than 5 minutes away "
                             "from this server's clock")
    method = str(settings.get("signature_method") or "md5hash")
    expected = sign(str(secret), params, method)
    if not hmac.compare_digest(expected.encode(), offered.encode()):
        raise SignatureError(f"sig does not match the parameters ({method} with the "
                             "connector's signature secret)")


def parse(request: HookRequest) -> list[Callback]:
    """The one status report of a Vonage DLR."""
    params = params_of(request)
    message_id = text(params.get("messageId") or params.get("message-id"))
    stat = text(params.get("status"), 32)
    if not message_id or not stat:
        raise CallbackError("a Vonage DLR needs messageId and status")
    if stat.lower() not in STATUSES:
        raise CallbackError(f"unknown DLR status {stat!r}")
    err = text(params.get("err-code"), 32)
    raw = (request.body.decode("utf-8", "replace") if request.method != "GET"
           else request.url)
    return [Callback(provider_id=message_id, stat=stat, err=err,
                     status=status_of(stat, err), number=e164(params.get("msisdn")),
                     sender=e164(params.get("to")), opt_out=_code(err) in OPT_OUT
                     and stat.lower() in ("failed", "rejected"), raw=raw[:4000])]
