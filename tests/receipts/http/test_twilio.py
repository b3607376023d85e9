"""Twilio status callbacks: the status table, and signatures made by Twilio's own SDK."""

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import HookRequest, twilio
from smscope.statuses import Status

TOKEN = "12345678901234567890123456789012"
URL = "https://sms.example.com/hooks/tw/twilio"
FORM = "application/x-www-form-urlencoded"


def request(params: dict[str, str], *, url: str = URL, signature: str | None = None,
            method: str = "POST") -> HookRequest:
    headers = {"content-type": FORM}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return HookRequest(method=method, url=url, query=[], headers=headers,
                       body=urlencode(params).encode())


CALLBACK = {"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered",
            "AccountSid": "AC0123", "To": "+33612345678", "From": "+15005550006",
            "ApiVersion": "2010-04-01", "SmsStatus": "delivered"}


@pytest.mark.parametrize(("stat", "status"), [
    ("queued", Status.SENT), ("accepted", Status.SENT), ("sending", Status.SENT),
    ("sent", Status.DELIVERED_TO_OPERATOR), ("delivered", Status.RECEIVED),
    ("read", Status.RECEIVED), ("undelivered", Status.RECEPTION_ERROR),
    ("failed", Status.OTHER_ERROR), ("canceled", Status.OTHER_ERROR),
    ("something-new", Status.UNDEFINED)])
def test_message_status_table(stat: str, status: Status) -> None:
    assert twilio.status_of(stat, None) is status


@pytest.mark.parametrize(("stat", "code", "status"), [
    ("undelivered", "30003", Status.TEMPORARY_ERROR_ABSENCE),
    ("undelivered", "30005", Status.PERMANENT_ERROR_ABSENCE),
    ("undelivered", "30006", Status.PERMANENT_ERROR_PHONE),
    ("undelivered", "30007", Status.REJECTED),
    ("failed", "30001", Status.TEMPORARY_ERROR_OPERATOR),
    ("failed", "21610", Status.BLACKLISTED),
    ("failed", "21211", Status.ROUTING_ERROR),
    ("undelivered", "39999", Status.RECEPTION_ERROR),  # unknown code: the status's own
    ("delivered", "30003", Status.RECEIVED),  # a code never undoes a delivery
    ("sent", "30003", Status.DELIVERED_TO_OPERATOR)])
def test_error_codes_refine_failures(stat: str, code: str, status: Status) -> None:
    assert twilio.status_of(stat, code) is status


def test_sdk_signature_is_accepted() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, CALLBACK)
    twilio.verify(request(CALLBACK, signature=signature), {"auth_token": TOKEN})


def test_signature_over_the_url_with_its_default_port_is_accepted() -> None:
    with_port = "https://sms.example.com:443/hooks/tw/twilio"
    signature = RequestValidator(TOKEN).compute_signature(with_port, CALLBACK)
    twilio.verify(request(CALLBACK, signature=signature), {"auth_token": TOKEN})
    # and the reverse: our public_url has the port, Twilio signed without it
    signature = RequestValidator(TOKEN).compute_signature(URL, CALLBACK)
    twilio.verify(request(CALLBACK, url=with_port, signature=signature),
                  {"auth_token": TOKEN})


def test_signature_over_a_url_with_a_query_string() -> None:
    url = URL + "?campaign=7&x=a%20b"
    signature = RequestValidator(TOKEN).compute_signature(url, CALLBACK)
    twilio.verify(request(CALLBACK, url=url, signature=signature), {"auth_token": TOKEN})
    with pytest.raises(SignatureError):
        twilio.verify(request(CALLBACK, signature=signature), {"auth_token": TOKEN})


def test_a_changed_parameter_is_refused() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, CALLBACK)
    forged = {**CALLBACK, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    with pytest.raises(SignatureError) as caught:
        twilio.verify(request(forged, signature=signature), {"auth_token": TOKEN})
    assert not caught.value.missing


def test_another_token_is_refused() -> None:
    signature = RequestValidator("x" * 32).compute_signature(URL, CALLBACK)
    with pytest.raises(SignatureError):
        twilio.verify(request(CALLBACK, signature=signature), {"auth_token": TOKEN})


def test_a_missing_signature_says_missing() -> None:
    with pytest.raises(SignatureError) as caught:
        twilio.verify(request(CALLBACK), {"auth_token": TOKEN})
    assert caught.value.missing


def test_parse_reads_the_callback() -> None:
    params = {**CALLBACK, "MessageStatus": "failed", "ErrorCode": "21610"}
    (callback,) = twilio.parse(request(params))
    assert callback.provider_id == CALLBACK["MessageSid"]
    assert (callback.stat, callback.err, callback.status) == ("failed", "21610",
                                                              Status.BLACKLISTED)
    assert callback.opt_out and callback.number == "+33612345678"


@pytest.mark.parametrize("params", [{}, {"MessageSid": "SM1"}, {"MessageStatus": "sent"},
                                    {"MessageSid": " ", "MessageStatus": "sent"},
                                    {"MessageSid": "SM1", "MessageStatus": "teleported"}])
def test_parse_refuses_a_callback_without_sid_or_status(params: dict[str, str]) -> None:
    with pytest.raises(CallbackError):
        twilio.parse(request(params))


def test_parse_refuses_json() -> None:
    req = HookRequest("POST", URL, [], {"content-type": "application/json"}, b"{}")
    with pytest.raises(CallbackError, match="form"):
        twilio.parse(req)
