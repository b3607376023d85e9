"""The server-rendered pages: one router per page module, and how a page answers
what goes wrong — the login page for a missing or expired session, a plain page with
the right status for the rest (never a trace)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smscope.errors import NotFoundError, PermissionDeniedError
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

router = APIRouter()
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


async def _crash(request: Request, exc: Exception) -> Response:
    # the server logs the exception with its trace after this answer went out
    return error_page(request, 500, "smscope could not show this page. The error is in "
                                    "the server's log; try again, and tell your admin if "
                                    "it goes on.")


def install(app: FastAPI) -> None:
    """Add the pages and their error answers to ``app``."""
    app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfError, _forbidden)
    app.add_exception_handler(PermissionDeniedError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _crash)
