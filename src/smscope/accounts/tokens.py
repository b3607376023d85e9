"""API tokens: random, shown once, stored as their SHA-256, revocable.

A token reads ``smscope_`` + 43 URL-safe characters (256 bits): the prefix makes a
leaked token easy to recognise in logs and by secret scanners.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.accounts.users import get_user
from smscope.db.tables import ApiToken, User
from smscope.errors import NotFoundError, UsageError

__all__ = ["NewToken", "create_token", "list_tokens", "resolve_token", "revoke_token",
           "token_to_json"]

PREFIX = "smscope_"
#: ``last_used_at`` is written at most this often per token, not on every request
_TOUCH_EVERY = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: the only time its value is known."""

    id: int
    name: str
    token: str


def create_token(session: Session, email: str, *, name: str = "") -> NewToken:
    user = get_user(session, email)
    name = name.strip()
    if len(name) > 100:
        raise UsageError("a token's name is at most 100 characters")
    value = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(value))
    session.add(row)
    session.flush()
    return NewToken(row.id, row.name, value)


def list_tokens(session: Session, email: str | None = None) -> list[tuple[ApiToken, User]]:
    """Tokens (revoked ones included, marked) with their user, oldest first."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if email is not None:
        query = query.where(User.id == get_user(session, email).id)
    return [(token, user) for token, user in session.execute(query)]


def revoke_token(session: Session, token_id: int, *, now: datetime,
                 user_id: int | None = None) -> ApiToken:
    """Revoke a token (again is fine). ``user_id``: only that user's token (the web
    page: people revoke their own)."""
    token = session.get(ApiToken, token_id)
    if token is None or (user_id is not None and token.user_id != user_id):
        raise NotFoundError(f"no API token {token_id}; 'smscope tokens list' shows them")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def resolve_token(session: Session, value: str, *, now: datetime) -> User | None:
    """The active user a live token belongs to (None for a wrong, revoked token or a
    deactivated user), noting when it was used."""
    if not value.startswith(PREFIX):
        return None
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(value))).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        token.last_used_at = now
    return user


def token_to_json(token: ApiToken, user: User) -> dict[str, Any]:
    """A token as listed: never its value (it is not kept)."""
    return {"id": token.id, "user": user.email, "name": token.name,
            "created_at": token.created_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}
