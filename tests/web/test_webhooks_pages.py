"""The webhooks pages and API (admins): add with the secret shown once, list with the
deliveries by state, remove, and the delivery log with its filters — never a secret
shown again, never a 500 for bad input, nothing for members or read-only users."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from smscope.db.tables import WebhookDelivery, WebhookEndpoint
from smscope.db.types import utcnow
from tests.web.conftest import signed_in

SECRET_RX = re.compile(r'id="new-secret" value="([^"]+)"')


def _deliver(site, endpoint_id: int, states: list[str]) -> None:
    with site.smscope.db.transaction() as session:
        for i, state in enumerate(states):
            session.add(WebhookDelivery(
                endpoint_id=endpoint_id, event_id=f"evt_{endpoint_id}_{i}",
                payload={"to_status": "received"}, state=state, attempts=1 + i,
                last_error="HTTP 500" if state != "done" else None, created_at=utcnow(),
                delivered_at=utcnow() if state == "done" else None))


def test_an_admin_adds_a_webhook_sees_its_secret_once_then_removes_it(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    empty = client.get("/webhooks")
    assert empty.status_code == 200 and 'id="no-webhooks"' in empty.text
    added = client.post("/webhooks", data={"url": "https://example.com/hook",
                                           "campaign_id": "", "secret": "",
                                           "csrf_token": csrf})
    assert added.status_code == 200
    secret = SECRET_RX.search(added.text).group(1)
    assert secret.startswith("whsec_")
    with site.smscope.db.session() as session:
        endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret == secret and endpoint.url == "https://example.com/hook"
    _deliver(site, endpoint.id, ["done", "done", "failed"])
    listed = client.get("/webhooks").text
    assert "https://example.com/hook" in listed and secret not in listed
    assert f'href="/webhooks/deliveries?endpoint={endpoint.id}&amp;state=done">2<' in listed
    removed = client.post(f"/webhooks/{endpoint.id}/remove", data={"csrf_token": csrf},
                          follow_redirects=True)
    assert "is removed" in removed.text and 'id="no-webhooks"' in removed.text
    # the log stays
    log = client.get(f"/webhooks/deliveries?endpoint={endpoint.id}").text
    assert log.count("<tr>") == 1 + 3


@pytest.mark.parametrize(("form", "message"), [
    ({"url": "ftp://example.com/x"}, "http"),
    ({"url": "not a url"}, "URL"),
    ({"url": "https://example.com/x", "campaign_id": "abc"}, "campaign's number"),
    ({"url": "https://example.com/x", "campaign_id": "999"}, "campaign 999 does not exist"),
    ({"url": "https://example.com/x", "secret": "short"}, "16 to 128"),
])
def test_a_bad_webhook_is_refused_next_to_the_form(site, form, message) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    answer = client.post("/webhooks", data={"url": "", "campaign_id": "", "secret": "",
                                            **form, "csrf_token": csrf})
    assert answer.status_code == 422
    error = re.search(r'id="webhook-error">([^<]+)<', answer.text).group(1)
    assert message in error.replace("&#39;", "'")
    assert form["url"] in answer.text  # what was typed stays in the form
    with site.smscope.db.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []


def test_the_delivery_log_filters_pages_and_refuses_bad_filters(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    client.post("/webhooks", data={"url": "https://example.com/a", "csrf_token": csrf})
    with site.smscope.db.session() as session:
        endpoint_id = session.scalar(select(WebhookEndpoint.id))
    _deliver(site, endpoint_id, ["done"] * 120 + ["failed"] * 2)
    failed = client.get("/webhooks/deliveries?state=failed").text
    assert failed.count("<tr>") == 1 + 2 and "HTTP 500" in failed
    first = client.get("/webhooks/deliveries").text
    assert first.count("<tr>") == 1 + 100
    older = re.search(r'href="([^"]+)" id="next-page"', first).group(1).replace("&amp;", "&")
    assert client.get(older).text.count("<tr>") == 1 + 22
    for bad in ("state=lost", "endpoint=abc", "endpoint=999", "cursor=zzz"):
        answer = client.get(f"/webhooks/deliveries?{bad}")
        assert answer.status_code == 422, bad
        assert 'id="deliveries-error"' in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("email", ["member@example.com", "reader@example.com"])
def test_members_and_readers_have_no_webhooks(site, email) -> None:
    client, csrf = signed_in(site, email)
    assert 'href="/webhooks"' not in client.get("/").text
    assert client.get("/webhooks").status_code == 403
    assert client.get("/webhooks/deliveries").status_code == 403
    answer = client.post("/webhooks", data={"url": "https://example.com/x",
                                            "csrf_token": csrf})
    assert answer.status_code == 403
    with site.smscope.db.session() as session:
        assert session.scalars(select(WebhookEndpoint)).all() == []


def test_the_api_manages_webhooks_for_admins_only(site) -> None:
    admin = {"Authorization": f"Bearer {site.token('admin@example.com')}"}
    member = {"Authorization": f"Bearer {site.token('member@example.com')}"}
    client = site.client()
    made = client.post("/api/v1/webhooks", json={"url": "https://example.com/api"},
                       headers=admin)
    assert made.status_code == 201
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["campaign_id"] is None
    listed = client.get("/api/v1/webhooks", headers=admin).json()
    assert [e["url"] for e in listed["items"]] == ["https://example.com/api"]
    assert "secret" not in listed["items"][0]
    assert listed["items"][0]["deliveries"] == {"pending": 0, "done": 0, "failed": 0}
    assert client.get("/api/v1/webhooks/deliveries", headers=admin).json() == {
        "items": [], "next_cursor": None}
    refused = client.get("/api/v1/webhooks", headers=member)
    assert refused.status_code == 403 and refused.json()["error"]["code"]
    bad = client.post("/api/v1/webhooks", json={"url": "gopher://x"}, headers=admin)
    assert bad.status_code in (400, 422) and "error" in bad.json()
    unknown = client.delete("/api/v1/webhooks/999", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"]
    gone = client.delete(f"/api/v1/webhooks/{body['id']}", headers=admin)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert client.get("/api/v1/webhooks", headers=admin).json()["items"] == []
