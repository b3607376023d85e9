"""smscope's own signatures (generic callbacks, outbound webhooks)."""

import hashlib
import hmac

import pytest

from smscope import signing
from smscope.errors import SignatureError

NOW = 1_790_000_000
BODY = b'{"id": "abc", "status": "received"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signing.sign("s3cret", NOW, BODY) == "v1=" + expected


def test_signed_headers_verify() -> None:
    headers = signing.headers("s3cret", BODY, now=NOW)
    signing.verify("s3cret", headers[signing.TIMESTAMP_HEADER],
                   headers[signing.SIGNATURE_HEADER], BODY, now=NOW + 10)


@pytest.mark.parametrize("body", [BODY + b" ", b"", BODY.replace(b"abc", b"abd")])
def test_a_changed_body_is_refused(body: bytes) -> None:
    signature = signing.sign("s3cret", NOW, BODY)
    with pytest.raises(SignatureError) as caught:
        signing.verify("s3cret", str(NOW), signature, body, now=NOW)
    assert not caught.value.missing


def test_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        signing.verify("other", str(NOW), signing.sign("s3cret", NOW, BODY), BODY, now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_timestamp_more_than_five_minutes_off_is_refused(offset: int) -> None:
    signature = signing.sign("s3cret", NOW, BODY)
    with pytest.raises(SignatureError, match="5 minutes"):
        signing.verify("s3cret", str(NOW), signature, BODY, now=NOW + offset)


def test_a_timestamp_within_five_minutes_is_accepted() -> None:
    signature = signing.sign("s3cret", NOW, BODY)
    signing.verify("s3cret", str(NOW), signature, BODY, now=NOW + 300)
    signing.verify("s3cret", str(NOW), signature, BODY, now=NOW - 300)


@pytest.mark.parametrize(("timestamp", "signature"), [(None, "v1=00"), (str(NOW), None),
                                                      ("", ""), (None, None)])
def test_missing_headers_say_missing(timestamp: str | None, signature: str | None) -> None:
    with pytest.raises(SignatureError) as caught:
        signing.verify("s3cret", timestamp, signature, BODY, now=NOW)
    assert caught.value.missing


@pytest.mark.parametrize("timestamp", ["soon", "1.5", "-1", "99999999999999999999"])
def test_a_malformed_timestamp_is_refused(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        signing.verify("s3cret", timestamp, "v1=00", BODY, now=NOW)


def test_one_of_several_signatures_may_match_while_a_secret_rotates() -> None:
    both = signing.sign("old", NOW, BODY) + ", " + signing.sign("new", NOW, BODY)
    signing.verify("new", str(NOW), both, BODY, now=NOW)
    signing.verify("old", str(NOW), both, BODY, now=NOW)
