"""smscope's own HMAC signatures (CONTRACTS §12): outbound webhooks and generic inbound
callbacks share them.

Headers: ``X-Smscope-Timestamp`` (Unix seconds), ``X-Smscope-Signature: v1=<hex
HMAC-SHA256(secret, timestamp + "." + body)>``, ``X-Smscope-Event-Id``. The timestamp is
signed with the body so that a captured request cannot be replayed later: a timestamp
more than five minutes away from the verifier's clock is refused. Pure functions.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["EVENT_ID_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "TOLERANCE_SECONDS",
           "sign", "verify"]

TIMESTAMP_HEADER = "X-Smscope-Timestamp"
SIGNATURE_HEADER = "X-Smscope-Signature"
EVENT_ID_HEADER = "X-Smscope-Event-Id"
#: how far a signed timestamp may be from the verifier's clock
TOLERANCE_SECONDS = 300
_SCHEME = "v1="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Smscope-Signature`` value of ``body`` sent at ``timestamp``."""
    message = str(int(timestamp)).encode() + b"." + body
    return _SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | int | None, body: bytes, signature: str | None, *,
           now: float, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when ``signature`` is ``body``'s signature at ``timestamp`` under ``secret``
    and ``timestamp`` is within ``tolerance`` seconds of ``now`` (Unix seconds).

    Anything malformed (no header, a timestamp that is not an integer, another
    scheme) is simply not valid; the comparison takes constant time."""
    if timestamp is None or signature is None:
        return False
    try:
        moment = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - moment) > tolerance:
        return False
    expected = sign(secret, moment, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
