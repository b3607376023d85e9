"""``/messages``: monitoring search, the items and filters of ``smscope messages
search --json``, and one message's history (``smscope messages show --json``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from smscope.campaigns.service import MAX_CAMPAIGN_ID
from smscope.reports.recipients import message_history
from smscope.reports.search import MessageFilters, search_messages
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Id, Limit, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(tags=["messages"], responses=ERRORS)

Text = Annotated[str | None, Query(max_length=200)]


@router.get("/messages", summary="Search every message, newest first")
def search(request: Request,
           from_: Annotated[str | None, Query(alias="from", max_length=10,
                                              description="First day, YYYY-MM-DD")] = None,
           to: Annotated[str | None, Query(max_length=10, description="Last day")] = None,
           campaign: Annotated[int | None, Query(ge=1, le=MAX_CAMPAIGN_ID)] = None,
           sender: Text = None, number: Text = None, text: Text = None,
           status: Text = None, category: Text = None, connector: Text = None,
           cursor: Cursor = None, limit: Limit = DEFAULT) -> ApiJSON:
    smscope = app_of(request)
    filters = MessageFilters.from_options(
        date_from=from_, date_to=to, campaign_id=campaign, sender=sender, number=number,
        text=text, status=status, category=category, connector=connector)
    with smscope.db.session() as session:
        page = search_messages(session, filters, cursor=cursor, limit=limit,
                               zone=smscope.config.zone,
                               default_region=smscope.config.default_region)
        return ApiJSON(page.to_json())


@router.get("/messages/{message_id}", summary="One message and everything that happened to it")
def show(request: Request, message_id: Id) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(message_history(session, message_id))
