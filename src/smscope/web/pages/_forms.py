"""What the address-book, connectors, settings and credits pages share: the admin
check of their forms, reading a form whole, and the page parameters."""

from __future__ import annotations

from typing import Any

from fastapi import Form, Request

from smscope.errors import PermissionDeniedError, UsageError
from smscope.pagination import decode_cursor
from smscope.web.auth import Login, writer_form

__all__ = ["PAGE", "admin_only", "cursor_or_none", "form_of"]

#: rows a page of a table shows
PAGE = 50


def admin_only(request: Request, csrf_token: str = Form("")) -> Login:
    """A form of the connectors and settings pages: an admin's, with its CSRF token."""
    login = writer_form(request, csrf_token)
    if not login.is_admin:
        raise PermissionDeniedError("Only admins change connectors, settings and credits.")
    return login


async def form_of(request: Request) -> dict[str, Any]:
    """Every field of the posted form (names not known in advance: custom fields)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def cursor_or_none(cursor: str | None) -> str | None:
    """A page's cursor, or None for a mangled one (a link typed by hand: page one)."""
    if not cursor:
        return None
    try:
        decode_cursor(cursor)
    except UsageError:
        return None
    return cursor
