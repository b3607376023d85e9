"""``/contacts`` and ``/lists``: the address book as ``smscope contacts list --json``
and ``smscope lists --json`` show it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from smscope.contacts import book
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Limit, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(tags=["contacts"], responses=ERRORS)


@router.get("/contacts", summary="Contacts, a page at a time")
def list_contacts(
    request: Request,
    list_name: Annotated[str | None, Query(alias="list", max_length=200)] = None,
    state: Literal["active", "invalid", "blacklisted"] | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None, limit: Limit = DEFAULT,
) -> ApiJSON:
    with app_of(request).db.session() as session:
        page = book.list_contacts(session, list_name=list_name, state=state, search=search,
                                  cursor=cursor, limit=limit)
        return ApiJSON(page.to_json())


@router.get("/lists", summary="Contact lists and how many contacts each holds")
def lists(request: Request) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON({"items": book.lists_summary(session), "next_cursor": None})
