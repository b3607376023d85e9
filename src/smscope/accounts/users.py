"""Users: create, list, change role, deactivate, check a password.

Roles: ``admin`` (everything, users included), ``member`` (everything but users),
``readonly`` (looks, never changes anything). Addresses are kept lower-case, so
``Anne@Example.com`` and ``anne@example.com`` are one account.
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smscope.db.tables import User, WebSession
from smscope.errors import ConflictError, NotFoundError, UsageError

__all__ = ["ROLES", "authenticate", "create_user", "generate_password", "get_user",
           "hash_password", "list_users", "normalize_email", "set_active", "set_password",
           "set_role",
           "user_to_json", "verify_password"]

ROLES = ("admin", "member", "readonly")
#: roles that may change things (every unsafe request needs one of them)
WRITERS = ("admin", "member")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so that a wrong address takes as long
    to refuse as a wrong password (timing does not tell which accounts exist). Made at
    the first login, not at import: hashing costs about 0.4 s, which every command of
    the CLI would otherwise pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


def normalize_email(email: str) -> str:
    """``email`` checked (syntax only, no DNS) and lower-cased; UsageError otherwise."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UsageError(f"{email!r} is not an e-mail address: {exc}") from None
    return checked.normalized.lower()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"role {role!r}: use {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    if not password:
        raise UsageError("the password is empty; give one of at least 1 character")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for people to copy: 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)


def create_user(session: Session, email: str, *, role: str, password: str) -> User:
    """A new active user; ConflictError if the address is taken."""
    address = normalize_email(email)
    check_role(role)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise ConflictError(f"a user {address} already exists; choose another address")
    user = User(email=address, role=role, password_hash=hash_password(password),
                is_active=True)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, email_or_id: str | int) -> User:
    """A user by id or address; NotFoundError naming the fix otherwise."""
    if isinstance(email_or_id, int):
        user = session.get(User, email_or_id)
    else:
        user = session.scalar(select(User).where(
            func.lower(User.email) == email_or_id.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user {email_or_id}; 'smscope users list' shows them")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def _admins_left(session: Session, without: int) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.is_active.is_(True), User.id != without)) or 0


def set_role(session: Session, user_id: int, role: str) -> User:
    """Change a user's role; the last active admin stays one (someone must manage)."""
    user = get_user(session, user_id)
    check_role(role)
    if user.role == "admin" and role != "admin" and not _admins_left(session, user.id):
        raise ConflictError(f"{user.email} is the last admin; make another user admin first")
    user.role = role
    return user


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Deactivate (or reactivate) a user: a deactivated user cannot log in, and their
    sessions and API tokens stop working at once (they are checked on each request)."""
    user = get_user(session, user_id)
    if not active and user.role == "admin" and not _admins_left(session, user.id):
        raise ConflictError(f"{user.email} is the last admin; make another user admin first")
    user.is_active = active
    return user


def set_password(session: Session, email_or_id: str | int, password: str) -> User:
    """A new password; the user's browser sessions end (a password is changed when it
    may be known to someone else)."""
    user = get_user(session, email_or_id)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this address and password, or None (never says which was
    wrong). Records the login time on success."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


def user_to_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": user.role, "active": user.is_active,
            "created_at": user.created_at, "last_login_at": user.last_login_at}
