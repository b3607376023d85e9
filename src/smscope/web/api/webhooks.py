"""``/webhooks``: the status webhook endpoints and their delivery log — as ``smscope
webhooks`` does. Admins only: an endpoint receives every message's status (numbers
included), and its secret is shown once, when it is added."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.errors import PermissionDeniedError
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Limit, app_of
from smscope.web.api._json import ApiJSON
from smscope.webhooks import endpoints as hooks

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS)

#: endpoints and campaigns have 32-bit ids (PostgreSQL's integer)
MAX_ROW_ID = 2**31 - 1
EndpointId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    campaign_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    secret: str | None = Field(default=None, min_length=16, max_length=128)


def _admin(request: Request) -> None:
    if not request.state.login.is_admin:
        raise PermissionDeniedError("only admins manage status webhooks")


@router.get("", summary="The status webhook endpoints, with their deliveries by state")
def list_endpoints(request: Request) -> ApiJSON:
    _admin(request)
    with app_of(request).db.session() as session:
        return ApiJSON({"items": hooks.endpoints_with_counts(session), "next_cursor": None})


@router.post("", summary="Add an endpoint for the account or one campaign; its secret "
                         "is in this answer only")
def add_endpoint(request: Request, body: EndpointIn) -> ApiJSON:
    _admin(request)
    with app_of(request).db.transaction() as session:
        endpoint, secret = hooks.add_endpoint(session, body.url, campaign_id=body.campaign_id,
                                              secret=body.secret)
        document = {**hooks.endpoint_to_json(endpoint), "secret": secret}
    return ApiJSON(document, 201)


@router.delete("/{endpoint_id}", summary="Stop sending to an endpoint (its log stays)")
def remove_endpoint(request: Request, endpoint_id: EndpointId) -> ApiJSON:
    _admin(request)
    with app_of(request).db.transaction() as session:
        endpoint = hooks.remove_endpoint(session, endpoint_id)
        return ApiJSON(hooks.endpoint_to_json(endpoint))


@router.get("/deliveries", summary="The delivery log, newest first")
def deliveries(request: Request,
               endpoint: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
               state: Annotated[str | None, Query(max_length=20)] = None,
               cursor: Cursor = None, limit: Limit = DEFAULT) -> ApiJSON:
    _admin(request)
    with app_of(request).db.session() as session:
        page, next_cursor = hooks.deliveries(session, endpoint_id=endpoint, state=state,
                                             cursor=cursor, limit=limit)
        return ApiJSON({"items": [hooks.delivery_to_json(d) for d in page],
                        "next_cursor": next_cursor})
