"""Logging in and out: sessions kept on the server, throttling (CONTRACTS §12),
expiry, and the cookie's flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from smscope.accounts.sessions import Expiry
from smscope.db.tables import LoginAttempt, WebSession
from tests.web.conftest import PASSWORD, csrf_of, log_in, signed_in


def move_back(site, model, column: str, delta: timedelta) -> None:
    """Make stored moments older (SQLite does no date arithmetic in SQL)."""
    with site.smscope.db.transaction() as session:
        for row in session.scalars(select(model)):
            setattr(row, column, getattr(row, column) - delta)


def test_the_dashboard_sends_a_stranger_to_the_login_page(site) -> None:
    answer = site.client().get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/"


def test_a_right_password_opens_a_session_with_safe_cookie_flags(site) -> None:
    client = site.client()
    answer = log_in(client, "Admin@Example.com")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(h for h in answer.headers.get_list("set-cookie")
                  if h.startswith("smscope_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the public URL is http
    page = client.get("/")
    assert page.status_code == 200 and "admin@example.com" in page.text
    with site.smscope.db.session() as session:
        stored = session.scalars(select(WebSession.id)).one()
    assert stored != client.cookies["smscope_session"]  # only its hash is kept


def test_the_cookie_is_secure_when_the_public_url_is_https(site) -> None:
    site.smscope.config.public_url = "https://sms.example.com"
    answer = log_in(site.client(base_url="https://testserver"), "admin@example.com")
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize(("email", "password"), [
    ("admin@example.com", "wrong"), ("nobody@example.com", PASSWORD), ("", ""),
])
def test_wrong_credentials_are_refused_without_saying_which(site, email, password) -> None:
    client = site.client()
    answer = log_in(client, email, password)
    assert answer.status_code == 401
    assert "Wrong e-mail address or password" in answer.text
    assert "smscope_session" not in client.cookies
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_deactivated_user_cannot_log_in(site) -> None:
    from smscope.accounts import users
    with site.smscope.db.transaction() as session:
        users.set_active(session, users.get_user(session, "member@example.com").id, False)
    assert log_in(site.client(), "member@example.com").status_code == 401


def test_after_five_wrong_passwords_even_the_right_one_gets_429(any_site) -> None:
    site = any_site
    client = site.client()
    for _ in range(5):
        assert log_in(client, "member@example.com", "nope").status_code == 401
    for password in ("nope", PASSWORD):
        answer = log_in(client, "member@example.com", password)
        assert answer.status_code == 429
        assert 14 * 60 < int(answer.headers["retry-after"]) <= 15 * 60
        assert "Too many wrong passwords" in answer.text and "15 more minutes" in answer.text
    # another address, same account: still locked
    other = site.client(address="203.0.113.50")
    assert log_in(other, "member@example.com").status_code == 429
    # another account from another address: not concerned
    assert log_in(other, "admin@example.com").status_code == 303


def test_the_lock_is_also_by_address_and_lifts_when_the_window_passes(any_site) -> None:
    site = any_site
    client = site.client()
    for i in range(5):
        assert log_in(client, f"guess{i}@example.com", "x").status_code == 401
    assert log_in(client, "admin@example.com").status_code == 429
    move_back(site, LoginAttempt, "at", timedelta(minutes=15))  # 15 minutes later
    assert log_in(client, "admin@example.com").status_code == 303
    with site.smscope.db.session() as session:  # refused attempts were not counted
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 6


def test_an_expired_session_goes_back_to_login_with_a_message(any_site) -> None:
    site = any_site
    client = site.client(expiry=Expiry(idle=timedelta(minutes=30)))
    log_in(client, "admin@example.com")
    assert client.get("/").status_code == 200
    move_back(site, WebSession, "last_seen_at", timedelta(minutes=31))
    answer = client.get("/tokens", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/tokens&expired=1"
    page = client.get(answer.headers["location"])
    assert "Your session has expired" in page.text
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_session_ends_after_its_absolute_lifetime_even_when_used(site) -> None:
    client = site.client(expiry=Expiry(absolute=timedelta(hours=1)))
    log_in(client, "admin@example.com")
    move_back(site, WebSession, "created_at", timedelta(hours=1))
    assert "expired=1" in client.get("/", follow_redirects=False).headers["location"]


def test_logout_ends_the_session_on_the_server(any_site) -> None:
    site = any_site
    client, csrf = signed_in(site, "member@example.com")
    stolen = client.cookies["smscope_session"]
    answer = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert "You are logged out." in client.get("/login").text
    again = site.client()
    again.cookies.set("smscope_session", stolen)
    assert again.get("/", follow_redirects=False).status_code == 303


def test_the_login_form_needs_its_own_csrf_token(site) -> None:
    client = site.client()
    client.get("/login")
    answer = client.post("/login", data={"email": "admin@example.com",
                                         "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403 and "login form has expired" in answer.text
    fresh = site.client()  # no cookie at all: a cross-site post
    assert fresh.post("/login", data={"email": "admin@example.com", "password": PASSWORD,
                                      "csrf_token": ""}).status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(site, target) -> None:
    client = site.client()
    page = client.get("/login")
    answer = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text), "next": target},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


@pytest.mark.parametrize(("content", "content_type"), [
    (b"\xff\xfe garbage", "multipart/form-data; boundary=x"),
    (b"email=%ZZ&password=%", "application/x-www-form-urlencoded"),
    (b'{"email": "admin@example.com"}', "application/json"),
    (b"", "text/plain"),
])
def test_a_malformed_login_post_is_a_clean_4xx(site, content, content_type) -> None:
    client = site.client()
    client.get("/login")
    answer = client.post("/login", content=content, headers={"Content-Type": content_type},
                         follow_redirects=False)
    assert 400 <= answer.status_code < 500
    assert "Traceback" not in answer.text and "smscope_session" not in client.cookies


def test_old_attempts_are_forgotten(site) -> None:
    client = site.client()
    log_in(client, "admin@example.com", "wrong")
    move_back(site, LoginAttempt, "at", timedelta(days=2))
    log_in(client, "admin@example.com")
    with site.smscope.db.session() as session:
        assert session.scalars(select(LoginAttempt.success)).all() == [True]
