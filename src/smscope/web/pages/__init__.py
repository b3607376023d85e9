"""The server-rendered pages: one router per page module, and how a page answers
what goes wrong — the login page for a missing or expired session, a plain page with
the right status for the rest (never a trace)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smscope.errors import NotFoundError, PermissionDeniedError
from smscope.inputs import NUL, NulCharacterError
from smscope.web.auth import SESSION_COOKIE, CsrfError, LoginRequired
from smscope.web.pages import (
    blacklist,
    campaign_report,
    campaigns,
    connectors,
    contacts,
    credits,
    dashboard,
    imports,
    lists,
    login,
    messages,
    settings,
    stats,
    tokens,
    users,
    webhooks,
)
from smscope.web.pages._render import redirect, render

__all__ = ["MODULES", "install", "router"]

#: the page modules, each with its ``router``
MODULES = (login, dashboard, campaigns, campaign_report, messages, stats, contacts, lists,
           imports, blacklist, credits, connectors, settings, tokens, users, webhooks)


def _no_nul_in_path(request: Request) -> None:
    """No page has a NUL character in its address (and no name holds one)."""
    if NUL in request.scope.get("path", ""):
        raise NotFoundError("There is no such page: check the address, or go back and "
                            "follow a link.")


router = APIRouter(dependencies=[Depends(_no_nul_in_path)])
for _module in MODULES:
    router.include_router(_module.router)

_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Page not found",
           405: "Not allowed here", 500: "Something went wrong"}


def error_page(request: Request, status_code: int, message: str) -> Response:
    return render(request, "error.html",
                  {"title": _TITLES.get(status_code, "Error"), "message": message,
                   "status_code": status_code}, status_code=status_code)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in ("GET", "HEAD"):
        target = "/"
    response = redirect(login.login_url(target, expired=exc.expired))
    if exc.expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, str(exc))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "There is no page at this address. The dashboard links to every page.",
               405: "This address does not answer this kind of request."
               }.get(exc.status_code, str(exc.detail))
    response = error_page(request, exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


async def _nul(request: Request, exc: Exception) -> Response:
    """A NUL character where the page shows no error (a choice, a hidden field): it
    was not typed, so the form is sent again from a fresh page."""
    return error_page(request, 400, f"{exc}. Go back, reload the page and send it again.")


async def _too_large(request: Request, exc: Exception) -> Response:
    """A number in the address too large for the database's integers (SQLite's driver
    raises OverflowError, PostgreSQL a DataError): nothing has such an id."""
    if isinstance(exc, sa_exc.DataError) and "out of range" not in str(exc.orig):
        return await _crash(request, exc)
    return error_page(request, 404, "There is no such page: check the address, or go "
                                    "back and follow a link.")


async def _crash(request: Request, exc: Exception) -> Response:
    # the server logs the exception with its trace after this answer went out
    return error_page(request, 500, "smscope could not show this page. The error is in "
                                    "the server's log; try again, and tell your admin if "
                                    "it goes on.")


async def _invalid(request: Request, exc: Exception) -> Response:
    """A request the route's declared parameters refuse (``/tokens/abc/revoke``): on a
    page, the page of an unknown address (404) or of a bad request (400), not
    FastAPI's JSON; the providers' receivers keep their JSON answer."""
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/hooks/"):
        return await request_validation_exception_handler(request, exc)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return error_page(request, 404, "There is no such page: check the address, or go "
                                        "back and follow a link.")
    return error_page(request, 400, "This request is not one the page understands: go "
                                    "back, reload the page and try again.")


def install(app: FastAPI) -> None:
    """Add the pages and their error answers to ``app``."""
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfError, _forbidden)
    app.add_exception_handler(PermissionDeniedError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(NulCharacterError, _nul)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(OverflowError, _too_large)
    app.add_exception_handler(sa_exc.DataError, _too_large)
    app.add_exception_handler(Exception, _crash)
