"""The API's address-book, connectors and credits routes: the services of the CLI, the
API's error shape, admins only where the pages are."""

from __future__ import annotations

import pytest

from tests.web.book_helpers import add_contacts, mobile


@pytest.fixture
def api(site):
    client = site.client()
    client.headers["Authorization"] = f"Bearer {site.token('member@example.com')}"
    return client


@pytest.fixture
def admin_api(site):
    client = site.client()
    client.headers["Authorization"] = f"Bearer {site.token('admin@example.com')}"
    return client


def error_of(answer, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"]["code"] == code
    return body["error"]["message"]


def test_a_contact_is_read_edited_and_deleted(site, api) -> None:
    [cid] = add_contacts(site, 1)
    got = api.get(f"/api/v1/contacts/{cid}").json()
    assert (got["number"], got["lists"], got["first_name"]) == (mobile(0), ["customers"],
                                                                "Name0")
    edited = api.patch(f"/api/v1/contacts/{cid}", json={"last_name": "Martin",
                                                        "fields": {"Code Postal": "75001"}})
    assert edited.status_code == 200
    body = edited.json()
    assert (body["first_name"], body["last_name"], body["fields"]) == (
        "Name0", "Martin", {"code_postal": "75001"})
    bad = api.patch(f"/api/v1/contacts/{cid}", json={"fields": {"number": "x"}})
    assert "cannot name a custom field" in error_of(bad, 400, "bad_request")
    error_of(api.patch(f"/api/v1/contacts/{cid}", json={"colour": "x"}), 422,
             "validation_error")
    error_of(api.patch(f"/api/v1/contacts/{cid}", content=b"{", headers={
        "Content-Type": "application/json"}), 400, "malformed_json")
    assert api.delete(f"/api/v1/contacts/{cid}").json()["deleted"] is True
    error_of(api.get(f"/api/v1/contacts/{cid}"), 404, "not_found")
    error_of(api.delete(f"/api/v1/contacts/{cid}"), 404, "not_found")
    error_of(api.get("/api/v1/contacts/0"), 422, "validation_error")


def test_a_readonly_token_cannot_edit_contacts(site) -> None:
    [cid] = add_contacts(site, 1)
    client = site.client()
    client.headers["Authorization"] = f"Bearer {site.token('reader@example.com')}"
    error_of(client.patch(f"/api/v1/contacts/{cid}", json={"first_name": "X"}), 403,
             "forbidden")
    error_of(client.delete(f"/api/v1/contacts/{cid}"), 403, "forbidden")
    assert client.get(f"/api/v1/contacts/{cid}").json()["first_name"] == "Name0"


def test_connectors_are_listed_added_and_enabled_by_admins(site, api, admin_api) -> None:
    assert api.get("/api/v1/connectors").json() == {"items": [], "next_cursor": None}
    body = {"name": "op", "type": "smpp", "host": "smsc.example.com", "system_id": "ID",
            "password": "pw-secret", "rate": 10}
    error_of(api.post("/api/v1/connectors", json=body), 403, "forbidden")
    made = admin_api.post("/api/v1/connectors", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["settings"]["password"] == "***"
    assert "pw-secret" not in api.get("/api/v1/connectors").text
    again = admin_api.post("/api/v1/connectors", json=body)
    assert "exists" in error_of(again, 400, "bad_request")
    missing = admin_api.post("/api/v1/connectors", json={"name": "x", "type": "smpp"})
    assert "HOST:PORT" in error_of(missing, 400, "bad_request")
    error_of(admin_api.post("/api/v1/connectors", json={"name": "x", "type": "fax"}), 422,
             "validation_error")
    off = admin_api.post("/api/v1/connectors/op/enabled", json={"enabled": False})
    assert off.json()["enabled"] is False
    error_of(admin_api.post("/api/v1/connectors/none/enabled", json={"enabled": True}), 404,
             "not_found")
    sim = admin_api.post("/api/v1/connectors", json={"name": "sim", "type": "simulator",
                                                     "profile": "instant"})
    assert sim.status_code == 201 and sim.json()["type"] == "simulator"


def test_credits_are_read_by_all_and_added_by_admins(site, api, admin_api) -> None:
    assert api.get("/api/v1/credits").json() == {"balance": 0, "reserved": 0}
    error_of(api.post("/api/v1/credits", json={"amount": 5}), 403, "forbidden")
    assert admin_api.post("/api/v1/credits", json={"amount": 100.5, "note": "x"}).json() == {
        "balance": 100.5, "reserved": 0}
    error_of(admin_api.post("/api/v1/credits", json={"amount": -500}), 409,
             "insufficient_credit")
    error_of(admin_api.post("/api/v1/credits", json={"amount": "lots"}), 422,
             "validation_error")
    error_of(admin_api.post("/api/v1/credits", json={"amount": 0}), 400, "bad_request")
    ledger = api.get("/api/v1/credits/ledger").json()
    assert [(r["kind"], r["amount"], r["actor"]) for r in ledger["items"]] == [
        ("add", 100.5, "api:admin@example.com")]


def test_the_new_routes_are_in_the_schema(site, api) -> None:
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/imports", "/imports/{import_id}", "/imports/{import_id}/rejects",
                 "/connectors", "/connectors/{name}/enabled", "/credits", "/credits/ledger",
                 "/contacts/{contact_id}"):
        assert path in paths, path
