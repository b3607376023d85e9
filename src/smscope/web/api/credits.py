"""``/credits``: the balance and what is reserved (``smscope credits balance``), the
ledger newest first, and adding credits (``smscope credits add``; admins)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.errors import PermissionDeniedError
from smscope.pricing import CreditBank, ledger_page
from smscope.web.api._common import CONFLICT, DEFAULT, ERRORS, Cursor, Limit, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/credits", tags=["credits"], responses=ERRORS)


class AddIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(ge=-10**12, le=10**12, decimal_places=4)
    note: str = Field(default="", max_length=200)


@router.get("", summary="The balance and the reserved credits")
def balance(request: Request) -> ApiJSON:
    with app_of(request).db.session() as session:
        now = CreditBank(session).balance()
    return ApiJSON({"balance": now.available, "reserved": now.reserved})


@router.get("/ledger", summary="Every movement of credits, newest first")
def ledger(request: Request, cursor: Cursor = None, limit: Limit = DEFAULT) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(ledger_page(session, cursor=cursor, limit=limit).to_json())


@router.post("", responses=CONFLICT,
             summary="Add credits (a negative amount takes some away; admins; 409 when "
                     "more than is available)")
def add(request: Request, body: AddIn) -> ApiJSON:
    login = request.state.login
    if not login.is_admin:
        raise PermissionDeniedError("only admins add credits")
    with app_of(request).db.transaction() as session:
        after = CreditBank(session).add(body.amount, note=body.note,
                                        actor=f"api:{login.email}")
    return ApiJSON({"balance": after.available, "reserved": after.reserved})
