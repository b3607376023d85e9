"""``/campaigns``: list, get, create, the actions (send, pause, resume, cancel), the
report (the JSON of ``smscope campaign report --json``) and the recipients pages
(``smscope campaign recipients --json``) — thin over :mod:`smscope.campaigns.service`
and :mod:`smscope.reports`, as the CLI is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from smscope.campaigns import service
from smscope.campaigns.fanout import parse_numbers
from smscope.connectors import registry
from smscope.db.tables import Campaign
from smscope.db.types import utcnow
from smscope.pagination import decode_cursor, encode_cursor
from smscope.reports.campaign import campaign_report
from smscope.reports.recipients import SORTS, recipients_page
from smscope.web.api._common import (
    CONFLICT,
    DEFAULT,
    ERRORS,
    CampaignId,
    Cursor,
    Limit,
    app_of,
)
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=ERRORS)


class CampaignIn(BaseModel):
    """A new draft campaign: the options of ``smscope campaign create``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sender: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=10_000)
    lists: list[str] = Field(default_factory=list, max_length=100)
    numbers: list[str] = Field(default_factory=list, max_length=100_000)
    type: Literal["marketing", "transactional"] = "marketing"
    connector: str | None = Field(default=None, max_length=64)
    schedule: datetime | None = Field(
        default=None, description="ISO 8601; without an offset, in the account's zone.")
    validity: str | None = Field(default=None, max_length=20, description="e.g. 48h")
    track_links: bool = True


def campaign_to_json(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "state": campaign.state,
            "state_reason": campaign.state_reason, "type": campaign.type,
            "sender": campaign.sender, "text": campaign.text,
            "recipients": campaign.recipients, "created_at": campaign.created_at,
            "scheduled_at": campaign.schedule_at, "started_at": campaign.started_at,
            "completed_at": campaign.completed_at}


@router.get("", summary="Campaigns, newest first")
def list_campaigns(request: Request, cursor: Cursor = None, limit: Limit = DEFAULT) -> ApiJSON:
    before = decode_cursor(cursor)
    query = select(Campaign).where(Campaign.type != "test")
    if before is not None:
        query = query.where(Campaign.id < before)
    with app_of(request).db.session() as session:
        rows = list(session.scalars(query.order_by(Campaign.id.desc()).limit(limit + 1)))
        items = [campaign_to_json(c) for c in rows[:limit]]
    more = len(rows) > limit
    return ApiJSON({"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more
                    else None})


@router.get("/{campaign_id}", summary="One campaign")
def get_campaign(request: Request, campaign_id: CampaignId) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(campaign_to_json(service.get_campaign(session, campaign_id)))


@router.post("", status_code=201, summary="Create a draft campaign")
def create_campaign(request: Request, body: CampaignIn) -> ApiJSON:
    smscope = app_of(request)
    config = smscope.config
    schedule = body.schedule
    if schedule is not None and schedule.tzinfo is None:
        schedule = schedule.replace(tzinfo=config.zone)
    with smscope.db.transaction() as session:
        connector = registry.connector_for_campaign(session, config, body.connector)
        campaign = service.create_campaign(
            session, name=body.name, sender=body.sender, text=body.text, config=config,
            now=utcnow(), lists=body.lists,
            numbers=parse_numbers(body.numbers, config.default_region), type_=body.type,
            connector=connector, schedule=schedule,
            validity=service.parse_validity(body.validity, "validity"),
            track_links=body.track_links, actor=f"api:{request.state.login.email}")
        data = campaign_to_json(campaign)
    return ApiJSON(data, 201, headers={"Location": f"/api/v1/campaigns/{data['id']}"})


@router.post("/{campaign_id}/send", responses=CONFLICT,
             summary="Send a draft campaign (now or at its schedule)")
def send_campaign(request: Request, campaign_id: CampaignId) -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.transaction() as session:
        campaign = service.send(session, campaign_id, config=smscope.config,
                                prices=smscope.price_table(), now=utcnow(),
                                actor=f"api:{request.state.login.email}")
        return ApiJSON({"id": campaign_id, "state": campaign.state})


class TestIn(BaseModel):
    """The numbers a test of the campaign goes to."""

    model_config = ConfigDict(extra="forbid")

    numbers: list[str] = Field(min_length=1, max_length=service.MAX_TEST_NUMBERS)


@router.post("/{campaign_id}/test", status_code=201,
             summary="Send a test of the campaign (status test, not in its figures)")
def test_send(request: Request, campaign_id: CampaignId, body: TestIn) -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.transaction() as session:
        ids = service.test_send(session, campaign_id, body.numbers, config=smscope.config,
                                now=utcnow(), actor=f"api:{request.state.login.email}")
    return ApiJSON({"id": campaign_id, "messages": ids}, 201)


def _transition(request: Request, action: str, campaign_id: CampaignId) -> ApiJSON:
    act = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}[action]
    with app_of(request).db.transaction() as session:
        campaign = act(session, campaign_id, now=utcnow(),
                       actor=f"api:{request.state.login.email}")
        return ApiJSON({"id": campaign_id, "state": campaign.state})


@router.post("/{campaign_id}/pause", responses=CONFLICT, summary="Stop submitting; resume later")
def pause_campaign(request: Request, campaign_id: CampaignId) -> ApiJSON:
    return _transition(request, "pause", campaign_id)


@router.post("/{campaign_id}/resume", responses=CONFLICT,
             summary="Resume a paused or suspended campaign")
def resume_campaign(request: Request, campaign_id: CampaignId) -> ApiJSON:
    return _transition(request, "resume", campaign_id)


@router.post("/{campaign_id}/cancel", responses=CONFLICT, summary="Stop for good")
def cancel_campaign(request: Request, campaign_id: CampaignId) -> ApiJSON:
    return _transition(request, "cancel", campaign_id)


@router.get("/{campaign_id}/report", summary="The campaign report (as campaign report --json)")
def report(request: Request, campaign_id: CampaignId) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(campaign_report(session, campaign_id))


@router.get("/{campaign_id}/recipients", summary="One page of the campaign's recipients")
def recipients(
    request: Request, campaign_id: CampaignId,
    status: Annotated[str | None, Query(max_length=40,
                                        description="A canonical status or a category.")
                      ] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[Literal[tuple(SORTS)], Query()] = "id",  # type: ignore[valid-type]
    desc: bool = False, cursor: Cursor = None, limit: Limit = DEFAULT,
) -> ApiJSON:
    with app_of(request).db.session() as session:
        page = recipients_page(session, campaign_id, status=status, search=search,
                               sort=sort, descending=desc, cursor=cursor, limit=limit)
        return ApiJSON(page.to_json())
