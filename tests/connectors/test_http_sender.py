"""The HTTP sender: each provider's request, its answer read into a submit result, and
errors turned into the statuses the SMPP path gives (dispatch.submit_error_status)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from smscope import signing
from smscope.campaigns.dispatch import submit_error_status
from smscope.connectors.http import HttpSender
from smscope.statuses import Status

PUBLIC = "https://sms.example.com"


def send(settings: dict, handler, *, text: str = "Hello", name: str = "c"):
    sender = HttpSender(name, settings, public_url=PUBLIC,
                        transport=httpx.MockTransport(handler))

    async def go():
        await sender.open()
        try:
            return await sender.submit(text, "SHOP", "+33612345678",
                                       validity_period=timedelta(hours=1))
        finally:
            await sender.close()

    return asyncio.run(go())


def status_of(result) -> Status:
    (part,) = result.parts
    assert part.outcome == "failed"
    return submit_error_status(part.status)


TWILIO = {"provider": "twilio", "account_sid": "AC1", "auth_token": "tok"}


def test_twilio_request_and_sid() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["auth"] = str(request.url), request.headers["authorization"]
        seen["form"] = parse_qs(request.content.decode())
        return httpx.Response(201, json={"sid": "SM123", "status": "queued"})

    result = send(TWILIO, handler, name="tw")
    assert result.ok and result.message_ids == ["SM123"]
    assert seen["url"] == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert seen["auth"].startswith("Basic ")
    assert seen["form"]["StatusCallback"] == [PUBLIC + "/hooks/tw/twilio"]
    assert seen["form"]["To"] == ["+33612345678"] and seen["form"]["ValidityPeriod"] == ["3600"]


@pytest.mark.parametrize(("code", "body", "status"), [
    (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, Status.ROUTING_ERROR),
    (400, {"code": 21610, "message": "unsubscribed"}, Status.BLACKLISTED),
    (401, {"code": 20003, "message": "Authenticate"}, Status.REJECTED),
    (500, {"message": "oops"}, Status.TEMPORARY_ERROR_OPERATOR),
    (503, None, Status.TEMPORARY_ERROR_OPERATOR)])
def test_twilio_errors(code: int, body, status: Status) -> None:
    result = send(TWILIO, lambda r: httpx.Response(code, json=body))
    assert status_of(result) is status


def test_throttling_is_retried_then_given_back_as_temporary() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"code": 20429})
        return httpx.Response(201, json={"sid": "SM9"})

    assert send(TWILIO, handler).message_ids == ["SM9"]
    always = send(TWILIO, lambda r: httpx.Response(429, headers={"Retry-After": "0"}))
    assert status_of(always) is Status.TEMPORARY_ERROR_OPERATOR


def test_an_unreachable_provider_releases_the_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert send(TWILIO, handler) is None


def test_a_request_without_answer_is_in_doubt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    result = send(TWILIO, handler)
    assert result.in_doubt and not result.ok


VONAGE = {"provider": "vonage", "api_key": "k", "api_secret": "s"}


def test_vonage_sms_long_text_gives_one_part_per_message() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["form"] = parse_qs(request.content.decode())
        return httpx.Response(200, json={"message-count": "2", "messages": [
            {"to": "33612345678", "message-id": "0A01", "status": "0"},
            {"to": "33612345678", "message-id": "0A02", "status": "0"}]})

    result = send(VONAGE, handler, text="Привет " * 20, name="vg")
    assert result.message_ids == ["0A01", "0A02"]
    assert seen["form"]["to"] == ["33612345678"] and seen["form"]["type"] == ["unicode"]
    assert seen["form"]["callback"] == [PUBLIC + "/hooks/vg/vonage"]


@pytest.mark.parametrize(("status", "expected"), [
    ("1", Status.TEMPORARY_ERROR_OPERATOR), ("5", Status.TEMPORARY_ERROR_OPERATOR),
    ("6", Status.ROUTING_ERROR), ("7", Status.BLACKLISTED), ("4", Status.REJECTED)])
def test_vonage_sms_status_codes(status: str, expected: Status) -> None:
    answer = {"message-count": "1", "messages": [{"status": status, "error-text": "no"}]}
    result = send({**VONAGE}, lambda r: httpx.Response(200, json=answer))
    assert status_of(result) is expected


def test_vonage_messages_signs_a_jwt_with_the_application_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        seen["claims"] = jwt.decode(token, key.public_key(), algorithms=["RS256"])
        seen["body"] = json.loads(request.content)
        return httpx.Response(202, json={"message_uuid": "aaaa-bbbb"})

    settings = {"provider": "vonage-messages", "application_id": "app-1", "private_key": pem,
                "signature_secret": "x"}
    assert send(settings, handler).message_ids == ["aaaa-bbbb"]
    assert seen["claims"]["application_id"] == "app-1"
    assert seen["body"]["channel"] == "sms" and seen["body"]["to"] == "33612345678"


def test_generic_signs_its_request_and_reads_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        signing.verify("shh", request.headers[signing.TIMESTAMP_HEADER],
                       request.headers[signing.SIGNATURE_HEADER], request.content)
        body = json.loads(request.content)
        assert body["status_url"] == PUBLIC + "/hooks/g/receipts"
        return httpx.Response(200, json={"id": "g-1"})

    settings = {"provider": "generic", "api_url": "https://p.example/send", "secret": "shh"}
    assert send(settings, handler, name="g").message_ids == ["g-1"]
    no_id = send(settings, lambda r: httpx.Response(200, json={"ok": True}))
    assert status_of(no_id) is Status.TEMPORARY_ERROR_OPERATOR


def test_the_rate_spaces_requests() -> None:
    times = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return httpx.Response(201, json={"sid": f"SM{len(times)}"})

    sender = HttpSender("tw", {**TWILIO, "rate": 20}, public_url=PUBLIC,
                        transport=httpx.MockTransport(handler))

    async def go() -> None:
        await sender.open()
        await asyncio.gather(*(sender.submit("x", "S", "+33612345678") for _ in range(6)))
        await sender.close()

    asyncio.run(go())
    assert times[-1] - times[0] >= 5 * 0.05 * 0.9
