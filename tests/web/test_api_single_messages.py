"""``POST /api/v1/messages``: one transactional message, sent at once and tracked like
any other — claimed by the dispatcher, its receipt applied, its history readable."""

from __future__ import annotations

import pytest

from tests.campaigns.helpers import Engine, number, receipt


@pytest.fixture
def engine(site):
    return Engine(site.smscope.db, config=site.smscope.config).setup(credits=10)


def post(site, body, email: str = "member@example.com", **kwargs):
    client = site.client()
    return client.post("/api/v1/messages", headers={
        "Authorization": f"Bearer {site.token(email)}"}, json=body, **kwargs)


def test_a_single_message_is_sent_and_tracked(site, engine) -> None:
    answer = post(site, {"number": number(1), "sender": "SHOP", "text": "Your code: 1234"})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert (made["number"], made["status"], made["segments"]) == (number(1), "queued", 1)
    assert answer.headers["location"] == f"/api/v1/messages/{made['id']}"
    ids = engine.send_all()
    assert list(ids) == [number(1)]
    engine.receipts([receipt(ids[number(1)], "DELIVRD", to=number(1))])
    client = site.client()
    shown = client.get(f"/api/v1/messages/{made['id']}",
                       headers={"Authorization": f"Bearer {site.token('member@example.com')}"})
    assert shown.status_code == 200 and shown.json()["status"] == "received"
    assert engine.report(made["campaign_id"])["counts"]["delivered"] == 1


@pytest.mark.parametrize(("body", "status", "code_part"), [
    ({"number": "not a number", "sender": "SHOP", "text": "hi"}, 400, "mobile number"),
    ({"number": number(1), "sender": "SHOP", "text": "x" * 10_001}, 422, ""),
    ({"number": number(1), "sender": "SHOP", "text": "hi", "connector": "ghost"}, 404,
     "ghost"),
    ({"number": number(1), "sender": "FAR TOO LONG SENDER", "text": "hi"}, 400, "sender"),
    ({"number": number(1), "text": "hi"}, 422, ""),
])
def test_bad_single_messages_are_refused_and_nothing_is_sent(site, engine, body, status,
                                                            code_part) -> None:
    answer = post(site, body)
    assert answer.status_code == status, answer.text
    assert code_part in answer.json()["error"]["message"]
    assert engine.claim() == []


def test_a_readonly_user_and_malformed_json_are_refused(site, engine) -> None:
    body = {"number": number(1), "sender": "SHOP", "text": "hi"}
    assert post(site, body, email="reader@example.com").status_code == 403
    bad = site.client().post("/api/v1/messages", content=b"{not json",
                             headers={"Authorization": f"Bearer {site.token('admin@example.com')}",
                                      "Content-Type": "application/json"})
    assert bad.status_code in (400, 422) and "error" in bad.json()
    assert engine.claim() == []
