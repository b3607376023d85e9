"""What the API's routers share: the page parameters (CONTRACTS §2), the service
context, and error answers documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel

from smscope.app import Smscope
from smscope.campaigns.service import MAX_CAMPAIGN_ID
from smscope.pagination import DEFAULT_LIMIT, MAX_LIMIT
from smscope.web.auth import smscope_of

__all__ = ["CONFLICT", "ERRORS", "CampaignId", "Cursor", "Id", "Limit", "app_of"]

Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.",
                                     max_length=1000)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-1000).")]
DEFAULT = DEFAULT_LIMIT
#: ids are positive and fit every database's integer (a larger one is a 422, not a 500)
MAX_ID = 2**62
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
#: a campaign's id: a 32-bit column on PostgreSQL
CampaignId = Annotated[int, Path(ge=1, le=MAX_CAMPAIGN_ID)]
#: the id of a row of another 32-bit table (contacts, imports…)
RowId = Annotated[int, Path(ge=1, le=MAX_CAMPAIGN_ID)]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in ((400, "Bad request"), (401, "Missing, wrong or revoked token"),
                         (403, "Not allowed for this role"), (404, "Not found"),
                         (422, "Invalid parameters"))}


def app_of(request: Request) -> Smscope:
    return smscope_of(request)

#: the answer of an action the campaign's state (or the credit balance) does not allow
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Not in this state (invalid_state), or not "
                                             "enough credit (insufficient_credit)"}}
