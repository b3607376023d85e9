"""``GET /c/{token}``: a tracked link. Redirects to the link's original URL and records
the click (:mod:`smscope.tracking.clicks`).

The answer never waits for a write: the token is checked and its URL read first (a
read never waits under SQLite's WAL or PostgreSQL), the redirect goes out, and the click
is written after it, in the background. It redirects only to the URL stored for that
link of that campaign, never to anything the request names (no open redirect). A token
that is malformed, forged or of a deleted message gets a bare 404; a failing database
a bare 503: never a page with a trace.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from smscope.app import Smscope
from smscope.db import Database
from smscope.db.types import utcnow
from smscope.tracking import clicks
from smscope.tracking.clicks import Target

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter()

#: the click is the visitor's business and the campaign's: no caching (every click
#: comes back here), no referrer (the destination does not learn the token), no index
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex, nofollow"}


def _record(db: Database, target: Target, user_agent: str, address: str,
            at: datetime) -> None:
    try:
        with db.transaction() as session:
            clicks.record(session, target, at=at, user_agent=user_agent, address=address)
    except Exception:  # the visitor has been redirected: log, never raise
        log.exception("tracking: the click of message %s could not be recorded",
                      target.message_id)


# a plain function: FastAPI runs it in its thread pool, off the event loop
@router.api_route("/c/{token}", methods=["GET", "HEAD"], include_in_schema=False)
def follow_link(token: str, request: Request, background: BackgroundTasks) -> Response:
    """Redirect to the original URL of the link ``token`` stands for, and count it."""
    smscope: Smscope = request.app.state.smscope
    try:
        with smscope.db.session() as session:
            target = clicks.resolve(session, token)
    except Exception:
        log.exception("tracking: cannot look up a click token")
        return PlainTextResponse("Service unavailable, try again later.\n", 503,
                                 headers={"Retry-After": "5", **_HEADERS})
    if target is None:
        return PlainTextResponse("Not found.\n", 404, headers=_HEADERS)
    if request.method == "GET":
        address = request.client.host if request.client else ""
        background.add_task(_record, smscope.db, target,
                            request.headers.get("user-agent", ""), address, utcnow())
    return RedirectResponse(target.url, status_code=302, headers=_HEADERS)
