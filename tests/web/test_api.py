"""The REST API foundation: Bearer tokens, roles, one error shape for everything under
/api/v1, pages and cursors, OpenAPI — and resources that answer what the CLI prints."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from smscope.db.tables import ApiToken, BlacklistEntry, Campaign
from smscope.web.api import campaigns as campaigns_api
from tests.web.conftest import signed_in


def clients_of(site):
    client = site.client()
    headers = {role: {"Authorization": f"Bearer {site.token(email)}"} for role, email in (
        ("admin", "admin@example.com"), ("member", "member@example.com"),
        ("readonly", "reader@example.com"))}
    return client, headers


@pytest.fixture
def api(site):
    """A client and a header of each role."""
    return clients_of(site)


def is_error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in answer.text
    return body["error"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic YTpi",
                                    "Bearer smscope_" + "x" * 43])
def test_a_missing_or_wrong_token_is_401(site, header) -> None:
    client = site.client()
    answer = client.get("/api/v1/lists", headers={"Authorization": header} if header else {})
    is_error(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token_or_a_deactivated_user_is_401(site, api) -> None:
    from smscope.accounts import users
    from smscope.accounts.tokens import revoke_token
    from smscope.db.types import utcnow
    client, headers = api
    assert client.get("/api/v1/lists", headers=headers["member"]).status_code == 200
    with site.smscope.db.transaction() as session:
        revoke_token(session, 2, now=utcnow())
    is_error(client.get("/api/v1/lists", headers=headers["member"]), 401, "unauthorized")
    with site.smscope.db.transaction() as session:
        users.set_active(session, users.get_user(session, "reader@example.com").id, False)
    is_error(client.get("/api/v1/lists", headers=headers["readonly"]), 401, "unauthorized")


def test_a_used_token_notes_when(site, api) -> None:
    client, headers = api
    client.get("/api/v1/lists", headers=headers["admin"])
    with site.smscope.db.session() as session:
        used = dict(session.execute(select(ApiToken.id, ApiToken.last_used_at)).all())
    assert used[1] is not None and used[2] is None


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/blacklist", {"number": "+33612345678"}),
    ("DELETE", "/api/v1/blacklist/+33612345678", None),
    ("POST", "/api/v1/campaigns", {"name": "n", "sender": "SHOP", "text": "t",
                                   "numbers": ["+33612345678"]}),
    ("POST", "/api/v1/campaigns/1/cancel", None),
])
def test_a_readonly_token_reads_but_never_writes(site, api, method, path, body) -> None:
    client, headers = api
    assert client.get("/api/v1/campaigns", headers=headers["readonly"]).status_code == 200
    answer = client.request(method, path, headers=headers["readonly"], json=body)
    is_error(answer, 403, "forbidden")
    with site.smscope.db.session() as session:
        assert session.scalars(select(BlacklistEntry)).all() == []
        assert session.scalars(select(Campaign)).all() == []


def test_errors_have_one_shape_for_unknown_routes_and_wrong_methods(api) -> None:
    client, headers = api
    is_error(client.get("/api/v1/nothing/here", headers=headers["member"]), 404, "not_found")
    is_error(client.get("/api/v1/nothing/here"), 404, "not_found")
    wrong = client.put("/api/v1/lists", headers=headers["member"])
    is_error(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["allow"]
    is_error(client.get("/api/v1/campaigns/999", headers=headers["member"]), 404, "not_found")
    is_error(client.get("/api/v1/campaigns/abc", headers=headers["member"]), 422,
             "validation_error")


def test_malformed_json_is_400_and_invalid_bodies_422(site, api) -> None:
    client, headers = api
    member = {**headers["member"], "Content-Type": "application/json"}
    is_error(client.post("/api/v1/blacklist", headers=member, content=b'{"number": '), 400,
             "malformed_json")
    error = is_error(client.post("/api/v1/blacklist", headers=member, json={"reason": "x"}),
                     422, "validation_error")
    assert "number" in error["message"]
    is_error(client.post("/api/v1/blacklist", headers=member, json=["+33612345678"]), 422,
             "validation_error")
    is_error(client.post("/api/v1/blacklist", headers=member, json={"number": "hello"}), 422,
             "invalid_number")
    with site.smscope.db.session() as session:
        assert session.scalars(select(BlacklistEntry)).all() == []


def test_an_unexpected_exception_is_a_500_without_a_trace(api, monkeypatch) -> None:
    client, headers = api

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/smscope/db.py line 42")

    monkeypatch.setattr(campaigns_api, "campaign_report", explode)
    answer = client.get("/api/v1/campaigns/1/report", headers=headers["member"])
    error = is_error(answer, 500, "internal_error")
    assert "secret" not in error["message"] and "secret" not in answer.text


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_a_limit_out_of_range_is_422(api, limit) -> None:
    client, headers = api
    is_error(client.get(f"/api/v1/blacklist?limit={limit}", headers=headers["member"]), 422,
             "validation_error")


def test_a_mangled_cursor_is_400(api) -> None:
    client, headers = api
    for path in ("/api/v1/blacklist", "/api/v1/campaigns", "/api/v1/messages",
                 "/api/v1/contacts"):
        is_error(client.get(f"{path}?cursor=garbage", headers=headers["member"]), 400,
                 "bad_request")


def test_pages_follow_their_cursor_to_the_end(api) -> None:
    client, headers = api
    numbers = [f"+3361234{i:04d}" for i in range(7)]
    for n in numbers:
        assert client.post("/api/v1/blacklist", headers=headers["member"],
                           json={"number": n, "reason": "test"}).status_code == 201
    again = client.post("/api/v1/blacklist", headers=headers["member"],
                        json={"number": numbers[0]})
    assert again.status_code == 200 and again.json()["created"] is False
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/blacklist?{query}", headers=headers["readonly"]).json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 3
        seen += [e["number"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == numbers and pages == 3
    assert all(e["created_at"].endswith("Z") for e in page["items"])
    removed = client.delete(f"/api/v1/blacklist/{numbers[0]}?reason=asked",
                            headers=headers["member"])
    assert removed.json() == {"number": numbers[0], "removed": True}
    is_error(client.delete(f"/api/v1/blacklist/{numbers[0]}", headers=headers["member"]),
             404, "not_found")


def test_a_campaign_made_and_driven_through_the_api(site, api, smscope) -> None:
    client, headers = api
    member = headers["member"]
    body = {"name": "Soldes", "sender": "SHOP", "text": "Bonjour, -20 % !",
            "numbers": ["+33612345678", "+33612345679"], "type": "transactional"}
    no_connector = client.post("/api/v1/campaigns", headers=member, json=body)
    assert no_connector.status_code == 201  # a draft needs no connector yet
    campaign = no_connector.json()
    assert campaign["state"] == "draft" and campaign["created_at"].endswith("Z")
    assert no_connector.headers["location"] == f"/api/v1/campaigns/{campaign['id']}"
    is_error(client.post(f"/api/v1/campaigns/{campaign['id']}/send", headers=member), 400,
             "bad_request")
    is_error(client.post(f"/api/v1/campaigns/{campaign['id']}/pause", headers=member), 409,
             "invalid_state")
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", headers=member
                       ).json() == {"id": campaign["id"], "state": "cancelled"}
    is_error(client.post("/api/v1/campaigns", headers=member, json={**body, "text": "{nope}"}),
             422, "invalid_template")
    is_error(client.post("/api/v1/campaigns", headers=member,
                         json={**body, "lists": ["missing"]}), 404, "not_found")
    is_error(client.post("/api/v1/campaigns", headers=member, json={**body, "type": "spam"}),
             422, "validation_error")
    is_error(client.post("/api/v1/campaigns", headers=member, json={**body, "extra": 1}),
             422, "validation_error")
    for validity in ("soon", "0s"):
        is_error(client.post("/api/v1/campaigns", headers=member,
                             json={**body, "validity": validity}), 400, "bad_request")
    listed = client.get("/api/v1/campaigns", headers=headers["readonly"]).json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]]


def test_the_report_search_and_stats_are_the_cli_documents(site, api, smscope,
                                                           monkeypatch) -> None:
    from tests.reports.sample import sent_campaign
    campaign_id = sent_campaign(site.smscope.db)
    monkeypatch.setenv("SMSCOPE_DATABASE_URL", site.smscope.db.url)
    client, headers = api
    reader = headers["readonly"]
    for path, args in (
            (f"/api/v1/campaigns/{campaign_id}/report",
             ("campaign", "report", str(campaign_id), "--json")),
            (f"/api/v1/campaigns/{campaign_id}/recipients?status=hard_bounce",
             ("campaign", "recipients", str(campaign_id), "--status", "hard_bounce",
              "--json")),
            ("/api/v1/messages?from=2026-11-01&to=2026-11-30&limit=2",
             ("messages", "search", "--from", "2026-11-01", "--to", "2026-11-30",
              "--limit", "2", "--json")),
            ("/api/v1/stats?from=2026-11-20&to=2026-11-26&by=day",
             ("stats", "--from", "2026-11-20", "--to", "2026-11-26", "--json")),
            ("/api/v1/contacts?limit=2", ("contacts", "list", "--limit", "2", "--json")),
            ("/api/v1/lists", ("lists", "--json"))):
        answer = client.get(path, headers=reader)
        assert answer.status_code == 200, (path, answer.text)
        run = smscope(*args)
        assert run.code == 0, run.err
        assert answer.json() == json.loads(run.out), path


def test_openapi_is_served_and_names_every_resource(site) -> None:
    schema = site.client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/campaigns", "/campaigns/{campaign_id}/report", "/messages", "/stats",
                 "/contacts", "/lists", "/blacklist"):
        assert path in paths, path


def test_the_pages_session_may_call_the_api_with_its_csrf_header(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    assert client.get("/api/v1/lists").status_code == 200
    is_error(client.post("/api/v1/blacklist", json={"number": "+33612345678"}), 403,
             "csrf_failed")
    assert client.post("/api/v1/blacklist", json={"number": "+33612345678"},
                       headers={"X-CSRF-Token": csrf}).status_code == 201


HOSTILE = ["", "0", "-1", "9" * 30, "%", "_", "'; DROP TABLE users; --", "é\u0301🙂",
           "\x00", "2026-02-30", "../../etc", "a" * 300]


@pytest.mark.parametrize("path", [
    "/api/v1/campaigns?cursor={v}", "/api/v1/campaigns/{v}", "/api/v1/campaigns/{v}/report",
    "/api/v1/campaigns/1/recipients?status={v}&search={v}&sort={v}",
    "/api/v1/messages?from={v}&to={v}&number={v}&text={v}&status={v}&campaign={v}",
    "/api/v1/stats?from={v}&to={v}&by={v}", "/api/v1/contacts?list={v}&state={v}&search={v}",
    "/api/v1/blacklist?search={v}&cursor={v}&limit={v}",
])
def test_hostile_parameters_get_a_4xx_never_a_5xx(any_site, path) -> None:
    from urllib.parse import quote
    client, headers = clients_of(any_site)
    for value in HOSTILE:
        answer = client.get(path.replace("{v}", quote(value, safe="")),
                            headers=headers["readonly"])
        assert answer.status_code < 500, (value, answer.text)
        if answer.status_code >= 400:
            is_error(answer, answer.status_code, answer.json()["error"]["code"])


def test_an_oversized_body_is_413_and_changes_nothing(site, api) -> None:
    from smscope.web.api._limits import MAX_BODY
    client, headers = api
    body = json.dumps({"name": "big", "sender": "SHOP", "text": "x",
                       "numbers": ["+33612345678"] * (MAX_BODY // 14)}).encode()
    assert len(body) > MAX_BODY
    member = {**headers["member"], "Content-Type": "application/json"}
    is_error(client.post("/api/v1/campaigns", headers=member, content=body), 413, "too_large")

    def chunks():  # no Content-Length: counted as it streams
        for start in range(0, len(body), 1 << 20):
            yield body[start:start + (1 << 20)]

    is_error(client.post("/api/v1/campaigns", headers=member, content=chunks()), 413,
             "too_large")
    with site.smscope.db.session() as session:
        assert session.scalars(select(Campaign)).all() == []


def test_a_message_and_its_history(site, api, smscope, monkeypatch) -> None:
    from tests.reports.sample import sent_campaign
    sent_campaign(site.smscope.db)
    monkeypatch.setenv("SMSCOPE_DATABASE_URL", site.smscope.db.url)
    client, headers = api
    answer = client.get("/api/v1/messages/2", headers=headers["readonly"])
    assert answer.status_code == 200
    assert answer.json() == smscope("messages", "show", "2", "--json").json()
    is_error(client.get("/api/v1/messages/99999", headers=headers["readonly"]), 404,
             "not_found")
