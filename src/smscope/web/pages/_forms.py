"""What the pages' forms share: the admin check of the connectors, settings and
credits forms, reading a form whole, the page parameters, and the refusal of a NUL
character in any field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Form, Request

from smscope.errors import PermissionDeniedError, UsageError
from smscope.inputs import NulCharacterError, nul_fields, nul_message
from smscope.pagination import decode_cursor
from smscope.web.auth import Login, writer_form

__all__ = ["PAGE", "admin_only", "cursor_or_none", "form_of", "nul_error", "nul_errors"]

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


def nul_errors(form: Mapping[str, Any], shown: Iterable[str]) -> dict[str, str]:
    """The error of each field of ``form`` that holds a NUL character (PostgreSQL
    cannot store one), to show next to it before anything reaches the database.

    ``shown`` names the fields the form shows an error beside. A NUL in any other field
    — a choice, a checkbox, a hidden field: nothing a person types — raises
    :class:`~smscope.inputs.NulCharacterError`, which is the 400 page.
    """
    return _refusals(form, dict.fromkeys(shown, "This field"))


def nul_error(form: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """:func:`nul_errors` for a form with one error line: the sentence that names each
    field holding a NUL by its label (``{"email": "The e-mail address"}``), or ""."""
    return " ".join(f"{message}." for message in _refusals(form, labels).values())


def _refusals(form: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, str]:
    errors = {}
    for name in nul_fields(form):
        if name not in labels:
            raise NulCharacterError(f"The form's field {name!r}", field=name)
        errors[name] = nul_message(labels[name])
    return errors
