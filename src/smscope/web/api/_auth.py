"""Who calls the API: ``Authorization: Bearer TOKEN`` (or, for the pages' own
scripts, the session cookie with its ``X-CSRF-Token`` on unsafe methods). A missing,
wrong or revoked token is 401; a read-only user writing is 403."""

from __future__ import annotations

from fastapi import Request

from smscope.accounts.tokens import resolve_token
from smscope.db.types import utcnow
from smscope.errors import PermissionDeniedError
from smscope.web.api._errors import ApiError
from smscope.web.auth import (
    SAFE_METHODS,
    CsrfError,
    Login,
    LoginRequired,
    check_csrf,
    current_login,
    smscope_of,
)

__all__ = ["api_login"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="smscope"'}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, _CHALLENGE)


def api_login(request: Request) -> Login:
    """The dependency of every API route: the caller, allowed to do this request."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("the Authorization header must be 'Bearer TOKEN'")
        with smscope_of(request).db.transaction() as session:
            user = resolve_token(session, value.strip(), now=utcnow())
            if user is None:
                raise _unauthorized("this API token is wrong or revoked; make a new one on "
                                    "the API tokens page or with 'smscope tokens create'")
            login = Login(user.id, user.email, user.role, "")
    else:
        try:
            found = current_login(request)
        except LoginRequired:  # an expired session: the caller must log in again
            found = None
        if found is None:
            raise _unauthorized("send an API token: 'Authorization: Bearer TOKEN'")
        login = found
        if request.method not in SAFE_METHODS:
            try:
                check_csrf(login, request.headers.get("x-csrf-token"))
            except CsrfError as exc:
                raise ApiError(403, "csrf_failed", str(exc)) from None
    if request.method not in SAFE_METHODS and not login.can_write:
        raise PermissionDeniedError("this token's user is read-only: it can read, not "
                                    "change anything")
    request.state.login = login
    return login
