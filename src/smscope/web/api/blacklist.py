"""``/blacklist``: list, add, remove — as ``smscope blacklist`` does (removals are
logged, never silent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.contacts import blacklist as bl
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Limit, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/blacklist", tags=["blacklist"], responses=ERRORS)


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=500)


@router.get("", summary="Blacklisted numbers, a page at a time")
def list_entries(request: Request,
                 search: Annotated[str | None, Query(max_length=200)] = None,
                 cursor: Cursor = None, limit: Limit = DEFAULT) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(bl.list_entries(session, search=search, cursor=cursor,
                                       limit=limit).to_json())


@router.post("", summary="Blacklist a number (already there: nothing changes)")
def add(request: Request, body: EntryIn) -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.transaction() as session:
        entry, created = bl.add(session, body.number, reason=body.reason, source="manual",
                                actor=f"api:{request.state.login.email}",
                                default_region=smscope.config.default_region)
        data = bl.entry_to_json(entry)
    return ApiJSON({**data, "created": created}, 201 if created else 200)


@router.delete("/{number}", summary="Take a number off the blacklist (logged)")
def remove(request: Request, number: str,
           reason: Annotated[str, Query(max_length=500)] = "") -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.transaction() as session:
        entry = bl.remove(session, number, reason=reason,
                          actor=f"api:{request.state.login.email}",
                          default_region=smscope.config.default_region)
        return ApiJSON({"number": entry.number, "removed": True})
