"""smscope's own signatures: what a receiver checks (CONTRACTS §12)."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import SignatureError
from smscope.signing import sign, verify

SECRET = "whsec_0123456789abcdef"
NOW = 1_795_000_000


def valid(secret: str, timestamp: object, body: bytes, signature: str | None, *,
          now: float) -> bool:
    """What a webhook receiver decides: :func:`verify` raises saying why not."""
    try:
        verify(secret, None if timestamp is None else str(timestamp), signature, body, now=now)
    except SignatureError:
        return False
    return True


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"event_id":"evt_1"}'
    expected = hmac.new(SECRET.encode(), b"1795000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, body) == f"v1={expected}"


def test_verify_accepts_its_own_signature_within_five_minutes() -> None:
    body = b"{}"
    signature = sign(SECRET, NOW, body)
    assert valid(SECRET, str(NOW), body, signature, now=NOW + 300)
    assert valid(SECRET, NOW, body, signature, now=NOW - 299)
    assert not valid(SECRET, NOW, body, signature, now=NOW + 301)
    assert not valid(SECRET, NOW, body, signature, now=NOW - 301)


def test_verify_refuses_another_secret_body_timestamp_or_malformed_headers() -> None:
    body = b'{"a":1}'
    signature = sign(SECRET, NOW, body)
    assert not valid("another-secret-value", NOW, body, signature, now=NOW)
    assert not valid(SECRET, NOW, b'{"a":2}', signature, now=NOW)
    assert not valid(SECRET, NOW + 1, body, signature, now=NOW)
    for timestamp, sig in ((None, signature), (NOW, None), ("soon", signature),
                           (NOW, "v0=" + signature[3:]), (NOW, ""), (NOW, "é")):
        assert not valid(SECRET, timestamp, body, sig, now=NOW)


@settings(max_examples=50)
@given(body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=40),
       shift=st.integers(-300, 300))
def test_any_body_signed_verifies(body: bytes, secret: str, shift: int) -> None:
    assert valid(secret, NOW, body, sign(secret, NOW, body), now=NOW + shift)
