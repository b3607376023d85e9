"""``/texts/segments``: what a campaign's text will be sent as — encoding, characters,
segments, the units left in the last one, tracked links, the estimated recipients and
cost — and the text rendered for one contact of the chosen lists. Thin over
:func:`smscope.campaigns.preview.text_counter`; the campaign form's live counter calls
it while the user types."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.campaigns.preview import text_counter
from smscope.web.api._common import ERRORS, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/texts", tags=["texts"], responses=ERRORS)


class TextIn(BaseModel):
    """A campaign's text and its recipients, as the campaign would get them."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=10_000)
    lists: list[str] = Field(default_factory=list, max_length=100)
    numbers: list[str] = Field(default_factory=list, max_length=1000)
    track_links: bool = True
    offset: int = Field(default=0, ge=0, le=1_000_000,
                        description="Which contact of the lists the preview is for.")


@router.post("/segments", summary="Count a text's segments, cost and preview it")
def segments(request: Request, body: TextIn) -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.session() as session:
        counted = text_counter(session, body.text, config=smscope.config,
                               prices=smscope.price_table(), lists=body.lists,
                               numbers=body.numbers, track_links=body.track_links,
                               offset=body.offset)
    return ApiJSON(counted)
