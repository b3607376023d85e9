"""Vonage SMS API delivery receipts: the tables, and signatures made by Vonage's SDK."""

import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from vonage_http_client.auth import Auth

from smscope.errors import CallbackError, SignatureError
from smscope.receipts.http import HookRequest, vonage
from smscope.statuses import Status

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
URL = "https://sms.example.com/hooks/vg/vonage"
SECRET = "sig-secret-123"

DLR = {"msisdn": "447700900000", "to": "SHOP", "network-code": "23410",
       "messageId": "0A0000001234567B", "price": "0.03330000", "status": "delivered",
       "scts": "2011101101", "err-code": "0", "api-key": "abcd1234",
       "message-timestamp": "2026-11-24 11:59:58"}


def signed(method: str, params: dict[str, str] | None = None, *,
           at: datetime = NOW) -> dict[str, str]:
    """``params`` signed by the Vonage SDK's own Auth.sign_params."""
    out = dict(params or DLR)
    out["timestamp"] = str(int(at.timestamp()))
    auth = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method=method)
    out["sig"] = auth.sign_params(dict(out))
    return out


def md5hash_signed(params: dict[str, str]) -> dict[str, str]:
    """The legacy "md5hash" scheme (params then the secret, MD5): the Vonage SDK of
    today only signs with HMAC, so this is written from Vonage's signing guide."""
    out = {**params, "timestamp": str(int(NOW.timestamp()))}
    data = "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in sorted(out.items()))
    out["sig"] = hashlib.md5((data + SECRET).encode()).hexdigest()
    return out


def get(params: dict[str, str]) -> HookRequest:
    return HookRequest("GET", URL + "?" + urlencode(params), list(params.items()), {}, b"")


def post_form(params: dict[str, str]) -> HookRequest:
    return HookRequest("POST", URL, [], {"content-type": "application/x-www-form-urlencoded"},
                       urlencode(params).encode())


def post_json(params: dict[str, str]) -> HookRequest:
    return HookRequest("POST", URL, [], {"content-type": "application/json"},
                       json.dumps(params).encode())


@pytest.mark.parametrize(("stat", "status"), [
    ("delivered", Status.RECEIVED), ("expired", Status.EXPIRED),
    ("failed", Status.OTHER_ERROR), ("rejected", Status.REJECTED),
    ("accepted", Status.DELIVERED_TO_OPERATOR), ("buffered", Status.DELIVERED_TO_OPERATOR),
    ("unknown", Status.UNDEFINED)])
def test_dlr_status_table(stat: str, status: Status) -> None:
    assert vonage.status_of(stat, "0") is status


@pytest.mark.parametrize(("stat", "code", "status"), [
    ("failed", "2", Status.TEMPORARY_ERROR_ABSENCE),
    ("failed", "3", Status.PERMANENT_ERROR_ABSENCE),
    ("failed", "5", Status.PERMANENT_ERROR_PORTABILITY),
    ("rejected", "6", Status.REJECTED),
    ("failed", "7", Status.TEMPORARY_ERROR_PHONE),
    ("failed", "8", Status.TEMPORARY_ERROR_OPERATOR),
    ("failed", "9", Status.BLACKLISTED),
    ("rejected", "11", Status.ROUTING_ERROR),
    ("failed", "039", Status.PERMANENT_ERROR_PHONE),
    ("failed", "99", Status.OTHER_ERROR),
    ("failed", "77", Status.OTHER_ERROR),  # not in the table: the status's own
    ("delivered", "2", Status.RECEIVED)])
def test_err_codes_refine_failures(stat: str, code: str, status: Status) -> None:
    assert vonage.status_of(stat, code) is status


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
@pytest.mark.parametrize("shape", [get, post_form, post_json])
def test_sdk_signed_dlrs_are_accepted_in_every_format(method, shape) -> None:
    settings = {"signature_secret": SECRET, "signature_method": method}
    vonage.verify(shape(signed(method)), settings, now=NOW)


def test_md5hash_signed_dlr_is_accepted() -> None:
    vonage.verify(get(md5hash_signed(DLR)), {"signature_secret": SECRET}, now=NOW)


def test_a_value_changed_after_signing_is_refused() -> None:
    params = {**signed("sha256"), "status": "failed"}
    with pytest.raises(SignatureError):
        vonage.verify(post_form(params), {"signature_secret": SECRET,
                                          "signature_method": "sha256"}, now=NOW)


def test_another_method_than_the_connectors_is_refused() -> None:
    with pytest.raises(SignatureError):
        vonage.verify(get(signed("sha1")), {"signature_secret": SECRET,
                                            "signature_method": "sha256"}, now=NOW)


@pytest.mark.parametrize("seconds", [301, -301])
def test_a_timestamp_more_than_five_minutes_off_is_refused(seconds: int) -> None:
    from datetime import timedelta

    params = signed("md5", at=NOW + timedelta(seconds=seconds))
    with pytest.raises(SignatureError, match="5 minutes"):
        vonage.verify(get(params), {"signature_secret": SECRET, "signature_method": "md5"},
                      now=NOW)


def test_unsigned_dlrs_need_a_connector_without_secret() -> None:
    vonage.verify(get(DLR), {}, now=NOW)
    with pytest.raises(SignatureError) as caught:
        vonage.verify(get(DLR), {"signature_secret": SECRET}, now=NOW)
    assert caught.value.missing


@pytest.mark.parametrize("shape", [get, post_form, post_json])
def test_parse_in_every_format(shape) -> None:
    (callback,) = vonage.parse(shape({**DLR, "status": "failed", "err-code": "9"}))
    assert callback.provider_id == DLR["messageId"]
    assert callback.status is Status.BLACKLISTED and callback.opt_out
    assert callback.number == "+447700900000"


@pytest.mark.parametrize("params", [{}, {"messageId": "x"}, {"status": "delivered"},
                                    {"messageId": "x", "status": "lost"}])
def test_parse_refuses_a_dlr_without_id_or_status(params) -> None:
    with pytest.raises(CallbackError):
        vonage.parse(get(params))


@pytest.mark.parametrize("body", [b"[1, 2]", b"{nope", b"\xff\xfe"])
def test_parse_refuses_bad_json(body: bytes) -> None:
    with pytest.raises(CallbackError):
        vonage.parse(HookRequest("POST", URL, [], {"content-type": "application/json"}, body))
