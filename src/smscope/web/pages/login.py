"""``/login`` and ``/logout``: the login form, throttled (CONTRACTS §12), and the
server-side session it opens."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.accounts import sessions, throttle
from smscope.accounts import users as accounts
from smscope.db.types import utcnow
from smscope.errors import ThrottledError
from smscope.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfError,
    Login,
    LoginRequired,
    current_login,
    own_form,
    secure_cookies,
    set_session_cookie,
    smscope_of,
)
from smscope.web.pages._forms import nul_error
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(request: Request, *, next_: str, email: str = "", error: str = "",
                status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html",
                      {"csrf_token": token, "next": next_, "email": email, "error": error,
                       "expired": request.query_params.get("expired") == "1"},
                      status_code=status_code, headers=headers)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path="/login")
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> Response:
    try:
        if current_login(request) is not None:
            return redirect(safe_next(next))
    except LoginRequired:
        pass  # an expired session: this is where it is sent
    return _login_page(request, next_=safe_next(next))


@router.post("/login", include_in_schema=False)
def login(request: Request, email: str = Form(""), password: str = Form(""),
          csrf_token: str = Form(""), next: str = Form("/")) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise CsrfError("This login form has expired: reload the page and log in again.")
    refused = nul_error({"email": email, "password": password, "next": next},
                        {"email": "The e-mail address", "password": "The password"})
    target = safe_next(next)
    if refused:
        return _login_page(request, next_=target, email=email, error=refused,
                           status_code=422)
    address = (request.client.host if request.client else "")[:64]
    email = email.strip().lower()[:254]
    now = utcnow()
    smscope = smscope_of(request)
    try:
        with smscope.db.transaction() as session:
            throttle.check_throttle(session, email, address, now=now)
            user = accounts.authenticate(session, email, password, now=now) if email else None
            throttle.record_attempt(session, email, address, success=user is not None, now=now)
            cookie = sessions.start_session(session, user, now=now)[0] if user else None
    except ThrottledError as exc:
        return _login_page(request, next_=target, email=email, error=str(exc),
                           status_code=429, headers={"Retry-After": str(exc.retry_after)})
    if cookie is None:
        return _login_page(request, next_=target, email=email, status_code=401,
                           error="Wrong e-mail address or password. Check both and try again.")
    response = redirect(target)
    set_session_cookie(request, response, cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, login: Login = Depends(own_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        sessions.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/login", flash=("success", "You are logged out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_url(path: str, *, expired: bool) -> str:
    return f"/login?next={quote(path, safe='/')}" + ("&expired=1" if expired else "")
