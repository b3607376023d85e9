"""The receivers of HTTP providers' callbacks, served on a real socket: verified, stored
through the receipt pipeline, then acknowledged — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator
from vonage_http_client.auth import Auth

from smscope import signing
from smscope.app import Smscope
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import Message, Receipt
from smscope.web.app import create_app
from smscope.web.server import BackgroundServer, bind
from tests.campaigns.helpers import Engine, make_config, number

PUBLIC = "https://sms.example.com"
TOKEN = "twilio-auth-token-0123456789abcdef"
VONAGE_SECRET = "vonage-signature-secret-0123456789"
GENERIC_SECRET = "generic-secret"


@dataclass
class Served:
    engine: Engine
    url: str
    connectors: dict[str, int]

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def sent(self, connector: str, provider_ids: list[str]) -> int:
        """A campaign to number(1..n) sent through ``connector`` with these ids."""
        engine = self.engine
        campaign_id = engine.campaign(numbers=[number(i + 1) for i in range(len(provider_ids))])
        with engine.db.transaction() as session:
            session.execute(update(Message).where(Message.campaign_id == campaign_id)
                            .values(connector_id=self.connectors[connector]))
        engine.connector_id = self.connectors[connector]
        engine.send_all(ids=provider_ids)
        return campaign_id

    def status(self, campaign_id: int, i: int = 1) -> str:
        return self.engine.message(campaign_id, number(i)).status

    def receipts(self) -> int:
        with self.engine.db.session() as session:
            return len(session.scalars(select(Receipt.id)).all())


@pytest.fixture
def served(db: Database) -> Iterator[Served]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    engine = Engine(db, config=make_config(public_url=PUBLIC), id_format="string").setup()
    connectors = {}
    with db.transaction() as session:
        for name, settings in {
            "tw": {"provider": "twilio", "account_sid": "AC1", "auth_token": TOKEN},
            "vg": {"provider": "vonage", "api_key": "k", "api_secret": "s",
                   "signature_secret": VONAGE_SECRET, "signature_method": "sha256"},
            "vgu": {"provider": "vonage", "api_key": "k", "api_secret": "s"},
            "vm": {"provider": "vonage-messages", "application_id": "app",
                   "private_key": pem, "signature_secret": VONAGE_SECRET},
            "gen": {"provider": "generic", "api_url": "http://127.0.0.1:9/send",
                    "secret": GENERIC_SECRET},
        }.items():
            connectors[name] = add_connector(session, name, "http", settings).id
    smscope = Smscope(engine.config, database_url=db.url)
    server = BackgroundServer(create_app(smscope), bind("127.0.0.1", 0)).start()
    try:
        yield Served(engine, server.url, connectors)
    finally:
        server.stop()
        smscope.close()


def twilio_form(sid: str, status: str, error: str = "", to: str = number(1)) -> dict:
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC1", "MessageStatus": status,
            "SmsStatus": status, "To": to, "From": "SHOP", "ApiVersion": "2010-04-01"}
    if error:
        form["ErrorCode"] = error
    return form


def twilio_post(served: Served, form: dict, *, token: str = TOKEN,
                url: str = PUBLIC + "/hooks/tw/twilio") -> httpx.Response:
    signature = RequestValidator(token).compute_signature(url, form)
    return served.post("/hooks/tw/twilio", content=urlencode(form),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Twilio-Signature": signature})


def test_a_signed_twilio_callback_is_stored_and_applied_and_a_repeat_changes_nothing(
        served: Served) -> None:
    campaign_id = served.sent("tw", ["SM1"])
    answer = twilio_post(served, twilio_form("SM1", "delivered"))
    assert answer.status_code == 200, answer.text
    assert served.status(campaign_id) == "received"
    before = (served.receipts(), served.engine.counters(campaign_id))
    again = twilio_post(served, twilio_form("SM1", "delivered"))
    assert again.status_code == 200
    assert (served.receipts(), served.engine.counters(campaign_id)) == before
    served.engine.report(campaign_id)


def test_twilio_signed_over_the_url_with_its_default_port_is_accepted(served: Served) -> None:
    campaign_id = served.sent("tw", ["SM2"])
    answer = twilio_post(served, twilio_form("SM2", "sent"),
                         url="https://sms.example.com:443/hooks/tw/twilio")
    assert answer.status_code == 200
    assert served.status(campaign_id) == "delivered_to_operator"


@pytest.mark.parametrize(("token", "header", "code"), [
    ("another-token-0123456789abcdefgh", True, 403), (TOKEN, False, 401)])
def test_a_bad_or_missing_twilio_signature_changes_nothing(served: Served, token: str,
                                                           header: bool, code: int) -> None:
    campaign_id = served.sent("tw", ["SM3"])
    form = twilio_form("SM3", "undelivered", "30005")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if header:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
            PUBLIC + "/hooks/tw/twilio", form)
    answer = served.post("/hooks/tw/twilio", content=urlencode(form), headers=headers)
    assert answer.status_code == code
    assert answer.json()["error"]["code"] in ("bad_signature", "unauthenticated")
    assert served.status(campaign_id) == "sent" and served.receipts() == 0


@pytest.mark.parametrize("path", ["/hooks/tw/vonage", "/hooks/tw/receipts", "/hooks/vg/twilio",
                                  "/hooks/nope/twilio", "/hooks/sim/receipts",
                                  "/hooks/gen/twilio"])
def test_unknown_connectors_and_other_providers_paths_are_404(served: Served,
                                                              path: str) -> None:
    answer = served.post(path, content=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 404
    assert "error" in answer.json() and served.receipts() == 0


def vonage_signed(params: dict, method: str = "sha256") -> dict:
    out = {**params, "timestamp": str(int(time.time()))}
    out["sig"] = Auth(api_key="k", signature_secret=VONAGE_SECRET,
                      signature_method=method).sign_params(dict(out))
    return out


def dlr(message_id: str, status: str = "delivered", err: str = "0") -> dict:
    return {"msisdn": number(1).lstrip("+"), "to": "SHOP", "network-code": "20801",
            "messageId": message_id, "price": "0.03", "status": status, "scts": "2611241200",
            "err-code": err, "api-key": "k", "message-timestamp": "2026-11-24 12:00:00"}


@pytest.mark.parametrize("shape", ["get", "form", "json"])
def test_vonage_dlrs_in_each_format_are_accepted_when_signed(served: Served,
                                                             shape: str) -> None:
    campaign_id = served.sent("vg", ["0A00000012345678"])
    params = vonage_signed(dlr("0A00000012345678"))
    if shape == "get":
        answer = served.get("/hooks/vg/vonage", params=params)
    elif shape == "form":
        answer = served.post("/hooks/vg/vonage", data=params)
    else:
        answer = served.post("/hooks/vg/vonage", json=params)
    assert answer.status_code == 200, answer.text
    assert served.status(campaign_id) == "received"


def test_an_unsigned_dlr_needs_a_connector_without_signature_secret(served: Served) -> None:
    refused = served.get("/hooks/vg/vonage", params=dlr("X1"))
    assert refused.status_code == 401 and served.receipts() == 0
    campaign_id = served.sent("vgu", ["X1"])
    accepted = served.get("/hooks/vgu/vonage", params=dlr("X1", "failed", "9"))
    assert accepted.status_code == 200
    assert served.status(campaign_id) == "blacklisted"


def test_a_vonage_dlr_signed_too_long_ago_is_refused(served: Served) -> None:
    params = {**dlr("X2"), "timestamp": str(int(time.time()) - 600)}
    params["sig"] = Auth(api_key="k", signature_secret=VONAGE_SECRET,
                         signature_method="sha256").sign_params(dict(params))
    answer = served.get("/hooks/vg/vonage", params=params)
    assert answer.status_code == 403 and served.receipts() == 0


def messages_post(served: Served, body: dict, secret: str = VONAGE_SECRET) -> httpx.Response:
    raw = json.dumps(body).encode()
    token = jwt.encode({"iat": int(time.time()), "jti": "x", "iss": "Vonage",
                        "payload_hash": hashlib.sha256(raw).hexdigest()}, secret,
                       algorithm="HS256")
    return served.post("/hooks/vm/vonage", content=raw,
                       headers={"Content-Type": "application/json",
                                "Authorization": f"Bearer {token}"})


def test_a_messages_api_status_with_a_valid_jwt_is_applied(served: Served) -> None:
    uuid = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
    campaign_id = served.sent("vm", [uuid])
    body = {"message_uuid": uuid, "to": number(1).lstrip("+"), "from": "SHOP",
            "timestamp": "2026-11-24T12:00:00Z", "status": "submitted", "channel": "sms"}
    assert messages_post(served, body).status_code == 200
    assert served.status(campaign_id) == "delivered_to_operator"
    assert messages_post(served, {**body, "status": "delivered"}).status_code == 200
    assert served.status(campaign_id) == "received"
    forged = messages_post(served, {**body, "status": "rejected"},
                           secret="not-the-secret-0123456789abcdefgh")
    assert forged.status_code == 403 and served.status(campaign_id) == "received"


def generic_post(served: Served, body: bytes, secret: str = GENERIC_SECRET) -> httpx.Response:
    return served.post("/hooks/gen/receipts", content=body,
                       headers={"Content-Type": "application/json",
                                **signing.headers(secret, body)})


def test_a_generic_batch_is_applied_whole(served: Served) -> None:
    campaign_id = served.sent("gen", ["g1", "g2"])
    body = json.dumps({"receipts": [{"id": "g1", "status": "received"},
                                    {"id": "g2", "status": "UNDELIV", "error": "001"}]})
    answer = generic_post(served, body.encode())
    assert answer.status_code == 200 and answer.json() == {"stored": 2}
    assert served.status(campaign_id, 1) == "received"
    assert served.status(campaign_id, 2) == "permanent_error_absence"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"id": "g1"}',
                                  b'{"id": "g1", "status": "teleported"}', b"\xff\xfe",
                                  b'{"receipts": [{"id": "g1", "status": "received"}, 7]}'])
def test_an_authenticated_but_unusable_callback_is_422_and_stores_nothing(
        served: Served, body: bytes) -> None:
    answer = generic_post(served, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "unusable_callback"
    assert served.receipts() == 0


def test_a_generic_callback_with_a_wrong_secret_is_refused(served: Served) -> None:
    answer = generic_post(served, b'{"id": "g1", "status": "received"}', secret="wrong")
    assert answer.status_code == 403 and served.receipts() == 0
    assert served.get("/hooks/gen/receipts").status_code == 405


def test_an_oversized_body_is_refused(served: Served) -> None:
    answer = generic_post(served, b"[" + b" " * 1_100_000 + b"]")
    assert answer.status_code == 413


def test_a_report_before_its_send_is_recorded_is_kept_and_applied_later(
        served: Served) -> None:
    engine = served.engine
    campaign_id = engine.campaign(numbers=[number(1)])
    with engine.db.transaction() as session:
        session.execute(update(Message).where(Message.campaign_id == campaign_id)
                        .values(connector_id=served.connectors["tw"]))
    engine.connector_id = served.connectors["tw"]
    from smscope.db.types import utcnow
    from tests.campaigns.helpers import ok

    claimed = engine.claim(utcnow())
    assert twilio_post(served, twilio_form("SM9", "delivered")).status_code == 200
    assert served.status(campaign_id) == "queued"
    engine.record(claimed, [ok("SM9")], utcnow())
    assert served.status(campaign_id) == "received"


def test_concurrent_callbacks_are_all_stored_before_their_answers(served: Served) -> None:
    ids = [f"c{i}" for i in range(12)]
    campaign_id = served.sent("gen", ids)

    def post(i: int) -> int:
        body = json.dumps({"id": ids[i], "status": "received"}).encode()
        return generic_post(served, body).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(post, range(len(ids))))
    assert codes == [200] * len(ids)
    assert [served.status(campaign_id, i + 1) for i in range(len(ids))] == ["received"] * 12
