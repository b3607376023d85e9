"""Vonage Messages API status webhooks: the table, and the signed JWT (made by PyJWT,
checked also by Vonage's own ``vonage_jwt.verify_signature``)."""

import hashlib
import json
from datetime import UTC, datetime

import jwt
import pytest
from vonage_jwt.verify_jwt import verify_signature

from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import HookRequest, vonage_messages
from smscope.statuses import Status

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "messages-signature-secret-0123456789"
STATUS = {"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "to": "447700900000",
          "from": "447700900001", "timestamp": "2026-11-24T11:59:59.000Z",
          "status": "delivered", "channel": "sms"}


def request(body: dict | bytes, *, secret: str = SECRET, iat: float | None = None,
            payload_hash: str | None = None, token: str | None = None) -> HookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if token is None:
        claims = {"iat": int(NOW.timestamp()) if iat is None else iat, "jti": "j1",
                  "iss": "Vonage", "payload_hash": payload_hash or hashlib.sha256(raw).hexdigest(),
                  "api_key": "abcd1234", "application_id": "app"}
        token = jwt.encode(claims, secret, algorithm="HS256")
        assert verify_signature(token, secret)  # Vonage's own check agrees
    return HookRequest("POST", "https://sms.example.com/hooks/vm/vonage", [],
                       {"content-type": "application/json",
                        "authorization": f"Bearer {token}"}, raw)


@pytest.mark.parametrize(("stat", "status"), [
    ("submitted", Status.DELIVERED_TO_OPERATOR), ("delivered", Status.RECEIVED),
    ("read", Status.RECEIVED), ("rejected", Status.REJECTED),
    ("undeliverable", Status.TEMPORARY_ERROR_OPERATOR), ("mystery", Status.UNDEFINED)])
def test_status_table(stat: str, status: Status) -> None:
    assert vonage_messages.status_of(stat, None) is status


@pytest.mark.parametrize(("code", "status"), [
    ("1000", Status.TEMPORARY_ERROR_OPERATOR), ("1040", Status.ROUTING_ERROR),
    ("1050", Status.BLACKLISTED), ("1120", Status.REJECTED), ("1999", Status.REJECTED)])
def test_error_codes_refine_rejections(code: str, status: Status) -> None:
    assert vonage_messages.status_of("rejected", code) is status


def test_signed_status_is_accepted() -> None:
    vonage_messages.verify(request(STATUS), {"signature_secret": SECRET}, now=NOW)


def test_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError):
        vonage_messages.verify(request(STATUS, secret="other-secret-of-some-length-0123456789"),
                               {"signature_secret": SECRET}, now=NOW)


def test_a_body_changed_after_signing_is_refused() -> None:
    signed = request(STATUS)
    forged = HookRequest(signed.method, signed.url, [], signed.headers,
                         json.dumps({**STATUS, "status": "rejected"}).encode())
    with pytest.raises(SignatureError, match="payload_hash"):
        vonage_messages.verify(forged, {"signature_secret": SECRET}, now=NOW)


@pytest.mark.parametrize("offset", [-301, 301])
def test_an_iat_more_than_five_minutes_off_is_refused(offset: int) -> None:
    with pytest.raises(SignatureError, match="5 minutes"):
        vonage_messages.verify(request(STATUS, iat=NOW.timestamp() + offset),
                               {"signature_secret": SECRET}, now=NOW)


@pytest.mark.parametrize("auth", ["", "Basic abc", "Bearer ", "Bearer not.a.jwt"])
def test_missing_or_malformed_tokens_are_refused(auth: str) -> None:
    req = HookRequest("POST", "https://x/hooks/vm/vonage", [],
                      {"authorization": auth} if auth else {}, json.dumps(STATUS).encode())
    with pytest.raises(SignatureError):
        vonage_messages.verify(req, {"signature_secret": SECRET}, now=NOW)


def test_an_unsigned_algorithm_is_refused() -> None:
    token = jwt.encode({"iat": int(NOW.timestamp())}, None, algorithm="none")
    with pytest.raises(SignatureError):
        vonage_messages.verify(request(STATUS, token=token), {"signature_secret": SECRET},
                               now=NOW)


def test_parse_reads_the_error_code() -> None:
    body = {**STATUS, "status": "rejected",
            "error": {"type": "https://developer.vonage.com/api-errors/messages#1050",
                      "title": "Number barred", "detail": "blacklisted"}}
    (callback,) = vonage_messages.parse(request(body))
    assert (callback.err, callback.status, callback.opt_out) == ("1050", Status.BLACKLISTED,
                                                                 True)
    assert callback.number == "+447700900000"


@pytest.mark.parametrize("body", [b"[]", b"{}", b'{"status": "delivered"}', b"nope",
                                  b'{"message_uuid": "u", "status": "vanished"}'])
def test_parse_refuses_unusable_bodies(body: bytes) -> None:
    with pytest.raises(CallbackError):
        vonage_messages.parse(request(body))
