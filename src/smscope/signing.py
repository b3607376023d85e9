"""smscope's own request signatures: what a generic HTTP provider signs its callbacks
with, and what smscope's outbound webhooks carry.

Headers (CONTRACTS §12): ``X-Smscope-Timestamp`` (Unix seconds) and
``X-Smscope-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. A
receiver accepts several ``v1=`` values separated by commas (a sender rotating its
secret signs with both) and refuses a timestamp more than :data:`TOLERANCE` off its
clock, so that a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from smscope.errors import SignatureError

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE",
    "headers",
    "sign",
    "verify",
]

TIMESTAMP_HEADER = "X-Smscope-Timestamp"
SIGNATURE_HEADER = "X-Smscope-Signature"
EVENT_ID_HEADER = "X-Smscope-Event-Id"
#: how far a signed timestamp may be from the receiver's clock, in seconds
TOLERANCE = 300


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The ``X-Smscope-Signature`` value of ``body`` sent at ``timestamp``: ``v1=<hex>``."""
    message = _as_bytes(str(timestamp)) + b"." + _as_bytes(body)
    return "v1=" + hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def headers(secret: str | bytes, body: str | bytes, *, now: float | None = None
            ) -> dict[str, str]:
    """The two signature headers for ``body``, signed now."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(secret: str | bytes, timestamp: str | None, signature: str | None,
           body: str | bytes, *, now: float | None = None,
           tolerance: int = TOLERANCE) -> None:
    """Check the signature headers of ``body``; raises :class:`SignatureError` saying
    what is wrong (``missing=True`` when a header is absent)."""
    if not timestamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header",
                             missing=True)
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds, got {timestamp[:40]!r}")
    clock = time.time() if now is None else now
    if abs(clock - int(stamp)) > tolerance:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than {tolerance // 60} minutes "
                             "away from this server's clock (replayed, or a clock is wrong)")
    expected = sign(secret, stamp, body).encode()
    # as bytes: a header may carry any character, and compare_digest refuses non-ASCII str
    offered = [part.strip().encode("utf-8", "replace") for part in signature.split(",")]
    # compare_digest on each, no early exit on the first mismatch
    if not any([hmac.compare_digest(expected, value) for value in offered]):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body and the secret")
