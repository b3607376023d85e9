"""``/messages``: monitoring search, the items and filters of ``smscope messages
search --json``, and one message's history (``smscope messages show --json``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.campaigns import service
from smscope.campaigns.service import MAX_CAMPAIGN_ID
from smscope.connectors import registry
from smscope.db.types import utcnow
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


class MessageIn(BaseModel):
    """One transactional message, sent at once."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40)
    sender: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=10_000)
    connector: str | None = Field(default=None, max_length=64)
    track_links: bool = True


@router.post("/messages", status_code=201,
             summary="Send one transactional message (tracked like any other)")
def send_message(request: Request, body: MessageIn) -> ApiJSON:
    smscope = app_of(request)
    config = smscope.config
    with smscope.db.transaction() as session:
        connector = registry.connector_for_campaign(session, config, body.connector)
        message = service.send_single(
            session, body.number, sender=body.sender, text=body.text, config=config,
            prices=smscope.price_table(), now=utcnow(), connector=connector,
            track_links=body.track_links, actor=f"api:{request.state.login.email}")
        data = {"id": message.id, "campaign_id": message.campaign_id,
                "number": message.number, "status": message.status,
                "segments": message.segments, "credits": message.credits}
    return ApiJSON(data, 201, headers={"Location": f"/api/v1/messages/{data['id']}"})
