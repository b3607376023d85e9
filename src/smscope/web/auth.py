"""Who is asking: the browser's session cookie (pages) and ``Authorization: Bearer``
tokens (the API), with the CSRF check and the role checks both share.

A cookie-authenticated request that changes something (any method but GET, HEAD,
OPTIONS) must carry the session's CSRF token — a hidden ``csrf_token`` field of the
form, or an ``X-CSRF-Token`` header for scripts — so a page of another site cannot
post in the user's name (the cookie is also ``SameSite=Lax``). Bearer requests need no
CSRF token: a browser never adds that header on its own.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Form, Request
from starlette.responses import Response

from smscope.accounts import sessions
from smscope.accounts.users import WRITERS
from smscope.app import Smscope
from smscope.db.types import utcnow
from smscope.errors import PermissionDeniedError, SmscopeError

__all__ = ["SESSION_COOKIE", "CsrfError", "Login", "LoginRequired", "admin_form",
           "current_login", "set_session_cookie", "signed_in", "writer_form"]

SESSION_COOKIE = "smscope_session"
#: the login form's own CSRF token (double submit: a cookie and a hidden field that
#: must match), since there is no session yet to hold one
LOGIN_CSRF_COOKIE = "smscope_login_csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """No valid session: the page handler sends the browser to the login page."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("login required")
        self.expired = expired


class CsrfError(SmscopeError):
    """An unsafe request of a session without its CSRF token, or with a wrong one."""


@dataclass(frozen=True)
class Login:
    """A signed-in user, as requests see them."""

    user_id: int
    email: str
    role: str
    csrf_token: str

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def smscope_of(request: Request) -> Smscope:
    smscope: Smscope = request.app.state.smscope
    return smscope


def current_login(request: Request) -> Login | None:
    """The session of the request's cookie; LoginRequired(expired=True) when it has
    expired, None without a (known) session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with smscope_of(request).db.transaction() as session:
        found = sessions.find_session(session, cookie, now=utcnow(),
                                      expiry=request.app.state.session_expiry)
        login = (Login(found.user.id, found.user.email, found.user.role, found.csrf_token)
                 if found.user is not None else None)
    # raised once the expired session's deletion is committed
    if found.expired:
        raise LoginRequired(expired=True)
    return login


def check_csrf(login: Login, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted.encode(), login.csrf_token.encode()):
        raise CsrfError("This form has expired or did not come from this smscope page: "
                        "go back, reload the page and send it again.")


def signed_in(request: Request) -> Login:
    """A page dependency: the signed-in user, or a redirect to the login page."""
    login = current_login(request)
    if login is None:
        raise LoginRequired(expired=False)
    request.state.login = login
    return login


def writer_form(request: Request, csrf_token: str = Form("")) -> Login:
    """A dependency of every form that changes something: signed in, the form's CSRF
    token right, and a role that may write (readonly users get 403)."""
    login = signed_in(request)
    check_csrf(login, csrf_token or request.headers.get("x-csrf-token"))
    if not login.can_write:
        raise PermissionDeniedError("Your account is read-only: you can look at everything "
                                    "but change nothing. Ask an admin for another role.")
    return login


def own_form(request: Request, csrf_token: str = Form("")) -> Login:
    """A form that changes only the user's own things (logging out, their API
    tokens): signed in and CSRF token right, whatever the role."""
    login = signed_in(request)
    check_csrf(login, csrf_token or request.headers.get("x-csrf-token"))
    return login


def admin_form(request: Request, csrf_token: str = Form("")) -> Login:
    """A form of the admin pages (users, webhooks)."""
    login = writer_form(request, csrf_token)
    if not login.is_admin:
        raise PermissionDeniedError("Only admins can open this page (users, webhooks). "
                                    "Ask an admin if you need it.")
    return login


def admin_page(request: Request) -> Login:
    login = signed_in(request)
    if not login.is_admin:
        raise PermissionDeniedError("Only admins can open this page (users, webhooks). "
                                    "Ask an admin if you need it.")
    return login


def secure_cookies(request: Request) -> bool:
    """Cookies get ``Secure`` when smscope's public URL is https (behind a proxy that
    ends TLS, the app itself sees http)."""
    return smscope_of(request).config.public_url.lower().startswith("https://")


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    expiry: sessions.Expiry = request.app.state.session_expiry
    response.set_cookie(SESSION_COOKIE, value, max_age=int(expiry.absolute.total_seconds()),
                        httponly=True, samesite="lax", secure=secure_cookies(request),
                        path="/")
