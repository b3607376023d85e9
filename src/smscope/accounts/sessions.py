"""Browser sessions kept on the server: the cookie holds a random id (256 bits), the
``web_sessions`` row its SHA-256, the user, the CSRF token and two clocks.

A session ends after ``IDLE`` without a request or ``ABSOLUTE`` after login, whichever
comes first; logging out deletes it. Deactivating a user ends their sessions at their
next request (the user is read with the session).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smscope.accounts.tokens import digest
from smscope.db.tables import User, WebSession

__all__ = ["ABSOLUTE", "IDLE", "Expiry", "Lookup", "end_session", "find_session",
           "start_session"]

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often, not on every page
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Expiry:
    idle: timedelta = IDLE
    absolute: timedelta = ABSOLUTE


@dataclass(frozen=True)
class Lookup:
    """What a session cookie leads to: a user and the session's CSRF token, or that the
    session expired (``expired``: show the login page with a message), or nothing."""

    user: User | None = None
    csrf_token: str = ""
    expired: bool = False


def start_session(session: Session, user: User, *, now: datetime) -> tuple[str, str]:
    """A new session for ``user``: the cookie's value and the CSRF token."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(id=digest(cookie), user_id=user.id, csrf_token=csrf,
                           created_at=now, last_seen_at=now))
    # sessions that ended long ago go with each login, so the table stays small
    session.execute(delete(WebSession).where(WebSession.created_at < now - 2 * ABSOLUTE))
    return cookie, csrf


def find_session(session: Session, cookie: str, *, now: datetime,
                 expiry: Expiry = Expiry()) -> Lookup:
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.id == digest(cookie))).first()
    if row is None:
        return Lookup()
    web_session, user = row
    if (now - web_session.last_seen_at >= expiry.idle
            or now - web_session.created_at >= expiry.absolute):
        session.delete(web_session)
        return Lookup(expired=True)
    if not user.is_active:
        session.delete(web_session)
        return Lookup()
    if now - web_session.last_seen_at >= _TOUCH_EVERY:
        web_session.last_seen_at = now
    return Lookup(user=user, csrf_token=web_session.csrf_token)


def end_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == digest(cookie)))
