"""The pages behind the login: CSRF on every form, roles, the API tokens and users
pages, the dashboard's figures (the same as the CLI's), and error pages without
traces."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from smscope.db.tables import ApiToken, Campaign, User
from smscope.web.pages import MODULES
from tests.web.conftest import signed_in

#: every form that changes something, with a valid body but for the CSRF token
FORMS = {"/logout": {}, "/tokens": {"name": "x"}, "/tokens/1/revoke": {},
         "/users": {"email": "new@example.com", "role": "member"},
         "/users/2/role": {"role": "readonly"}, "/users/2/active": {"active": "0"},
         "/webhooks": {"url": "https://example.com/hook"}, "/webhooks/1/remove": {},
         "/campaigns/new": {"name": "x", "sender": "SHOP", "text": "hi",
                            "numbers": "+33612345678"},
         "/campaigns/1/edit": {"name": "x"}, "/campaigns/1/send": {},
         "/campaigns/1/pause": {}, "/campaigns/1/resume": {},
         "/campaigns/1/cancel": {"confirm": "yes"},
         "/campaigns/1/test": {"numbers": "+33612345678"},
         "/campaigns/1/share": {"addresses": "boss@example.com"},
         "/contacts/1": {"first_name": "x"}, "/contacts/1/restore": {},
         "/contacts/1/delete": {}, "/lists": {"name": "x"}, "/lists/1/rename": {"name": "y"},
         "/lists/1/members": {"number": "+33612345678"}, "/lists/1/members/1/remove": {},
         "/lists/1/delete": {}, "/imports": {"new_list": "x"},
         "/blacklist": {"number": "+33612345678"},
         "/blacklist/remove": {"number": "+33612345678"}, "/credits": {"amount": "5"},
         "/connectors": {"name": "x", "kind": "simulator"},
         "/connectors/x/enabled": {"enabled": "0"}, "/connectors/x/limits": {"rate": "1"},
         "/settings/section/smtp": {"smtp.host": "x"}, "/settings/section/smtp/reset": {},
         "/settings/windows": {"country": "BE", "day_mon": "1"},
         "/settings/windows/BE/remove": {}, "/settings/prices": {"country": "FR", "price": "2"},
         "/settings/prices/FR/remove": {}, "/settings/smtp/test": {},
         "/stats/share": {"addresses": "boss@example.com"}}


def test_every_form_of_the_pages_is_in_the_csrf_test() -> None:
    posts = {r.path for module in MODULES for r in module.router.routes
             if isinstance(r, APIRoute) and "POST" in r.methods and r.path != "/login"}
    def shape(path: str) -> str:
        return re.sub(r"/(\d+|x|BE|FR)(?=/|$)", "/0", path).replace("section/smtp",
                                                                     "section/0")

    assert {re.sub(r"\{\w+\}", "0", p) for p in posts} == {shape(p) for p in FORMS}


@pytest.mark.parametrize("path", sorted(FORMS))
@pytest.mark.parametrize("token", ["", "wrong"])
def test_a_form_without_the_session_csrf_token_is_refused(site, path, token) -> None:
    client, _ = signed_in(site, "admin@example.com")
    with site.smscope.db.session() as session:
        before = [(u.email, u.role, u.is_active) for u in session.scalars(select(User))]
    answer = client.post(path, data={**FORMS[path], "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 403
    assert "reload the page" in answer.text and "Traceback" not in answer.text
    with site.smscope.db.session() as session:
        assert [(u.email, u.role, u.is_active) for u in session.scalars(select(User))] == before
        assert session.scalars(select(ApiToken)).all() == []
        assert session.scalars(select(Campaign)).all() == []
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_the_csrf_token_of_another_session_does_not_work(site) -> None:
    _, other = signed_in(site, "member@example.com")
    client, _ = signed_in(site, "admin@example.com")
    answer = client.post("/users", data={"email": "x@example.com", "role": "admin",
                                         "csrf_token": other})
    assert answer.status_code == 403


def test_a_readonly_user_sees_but_cannot_change(site) -> None:
    client, csrf = signed_in(site, "reader@example.com")
    assert client.get("/").status_code == 200
    page = client.get("/users")
    assert page.status_code == 403 and "Only admins" in page.text
    answer = client.post("/users/1/role", data={"role": "readonly", "csrf_token": csrf})
    assert answer.status_code == 403
    with site.smscope.db.session() as session:
        assert session.scalar(select(User.role).where(User.id == 1)) == "admin"


def test_a_member_cannot_manage_users(site) -> None:
    client, csrf = signed_in(site, "member@example.com")
    assert "/users" not in client.get("/").text  # not linked
    answer = client.post("/users", data={"email": "x@example.com", "role": "admin",
                                         "csrf_token": csrf})
    assert answer.status_code == 403


def test_a_token_is_shown_once_listed_then_revoked(site) -> None:
    client, csrf = signed_in(site, "reader@example.com")
    assert "You have no API token yet" in client.get("/tokens").text
    made = client.post("/tokens", data={"name": "reporting", "csrf_token": csrf})
    assert made.status_code == 200
    token = re.search(r'id="new-token" value="(smscope_[^"]+)"', made.text).group(1)
    listed = client.get("/tokens").text
    assert "reporting" in listed and token not in listed
    assert client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    token_id = re.search(r'id="revoke-(\d+)"', listed).group(1)
    revoked = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 200 and f"API token {token_id} is revoked" in revoked.text
    assert client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401


def test_nobody_revokes_another_users_token(site) -> None:
    site.token("admin@example.com")
    client, csrf = signed_in(site, "member@example.com")
    assert client.post("/tokens/1/revoke", data={"csrf_token": csrf}).status_code == 404
    with site.smscope.db.session() as session:
        assert session.scalar(select(ApiToken.revoked_at)) is None


def test_an_admin_adds_a_user_changes_the_role_and_deactivates(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    made = client.post("/users", data={"email": "New@Example.com", "role": "member",
                                       "password": "", "csrf_token": csrf})
    assert made.status_code == 200 and "new@example.com can log in now" in made.text
    password = re.search(r'id="new-password" value="([^"]+)"', made.text).group(1)
    duplicate = client.post("/users", data={"email": "new@example.com", "role": "member",
                                            "csrf_token": csrf})
    assert duplicate.status_code == 422 and "already exists" in duplicate.text
    bad = client.post("/users", data={"email": "not-an-address", "role": "member",
                                      "csrf_token": csrf})
    assert bad.status_code == 422 and "is not an e-mail address" in bad.text
    with site.smscope.db.session() as session:
        new_id = session.scalar(select(User.id).where(User.email == "new@example.com"))
    changed = client.post(f"/users/{new_id}/role", data={"role": "readonly",
                                                         "csrf_token": csrf})
    assert "new@example.com is now readonly." in changed.text
    newcomer, _ = signed_in_with(site, "new@example.com", password)
    client.post(f"/users/{new_id}/active", data={"active": "0", "csrf_token": csrf})
    assert newcomer.get("/", follow_redirects=False).status_code == 303  # session ended


def signed_in_with(site, email: str, password: str):
    from tests.web.conftest import log_in
    client = site.client()
    assert log_in(client, email, password).status_code == 303
    return client, None


def test_the_last_admin_stays_an_admin(site) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    answer = client.post("/users/1/role", data={"role": "member", "csrf_token": csrf})
    assert "is the last admin" in answer.text
    answer = client.post("/users/1/active", data={"active": "0", "csrf_token": csrf})
    assert "is the last admin" in answer.text
    with site.smscope.db.session() as session:
        assert session.scalar(select(User.role).where(User.id == 1)) == "admin"


def test_unknown_pages_and_methods_are_plain_pages(site) -> None:
    client, _ = signed_in(site, "member@example.com")
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "There is no page at this address" in missing.text
    wrong = client.put("/tokens")
    assert wrong.status_code == 405 and "<html" in wrong.text


def test_the_stylesheet_is_served_by_the_app_and_pages_load_nothing_else(site) -> None:
    from tests.reports.sample import sent_campaign
    sent_campaign(site.smscope.db)  # rows, so that the pages' links to them are followed
    client, _ = signed_in(site, "admin@example.com")
    css = client.get("/static/smscope.css")
    assert css.status_code == 200 and ":focus-visible" in css.text
    for path in ("/", "/tokens", "/users", "/login", "/campaigns", "/campaigns/new",
                 "/messages", "/stats", "/stats?from=2026-11-01&to=2026-11-30", "/messages/1",
                 "/webhooks", "/webhooks/deliveries"):
        html = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "default-src 'self'" in client.get(path).headers["content-security-policy"]
        for link in re.findall(r'(?:href|src)="(/[^"]*)"', html):  # no dead ends
            assert client.get(unescape(link)).status_code == 200, (path, link)


def test_a_page_that_fails_is_a_500_page_without_a_trace(site, monkeypatch) -> None:
    from smscope.web.pages import dashboard

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(dashboard, "recent_campaigns", explode)
    client, _ = signed_in(site, "member@example.com")
    answer = client.get("/")
    assert answer.status_code == 500 and "smscope could not show this page" in answer.text
    assert "secret" not in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("path", ["/tokens/abc/revoke", "/webhooks/1e3/remove",
                                  "/tokens/99999999999999999999999/revoke"])
def test_a_malformed_id_in_an_address_is_the_page_of_an_unknown_address(site, path) -> None:
    client, csrf = signed_in(site, "admin@example.com")
    answer = client.post(path, data={"csrf_token": csrf})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "There is no such page" in answer.text and "Traceback" not in answer.text
