"""``/contacts`` and ``/lists``: the address book as ``smscope contacts list --json``
and ``smscope lists --json`` show it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from smscope.contacts import book
from smscope.errors import UsageError
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Limit, RowId, app_of
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


class ContactEdit(BaseModel):
    """What changes: names, and custom fields (replaced whole when given; an empty
    value removes a field)."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    fields: dict[str, Annotated[str, Field(max_length=1000)]] | None = Field(
        default=None, max_length=100)


def _contact(session: Session, contact_id: int) -> dict[str, Any]:
    contact = book.get_contact(session, contact_id)
    names = [c.name for c in book.contact_lists(session, contact_id)]
    return book.contact_to_json(contact, names)


@router.get("/contacts/{contact_id}", summary="One contact")
def get_contact(request: Request, contact_id: RowId) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(_contact(session, contact_id))


@router.patch("/contacts/{contact_id}", summary="Change a contact's names or fields")
def edit_contact(request: Request, contact_id: RowId, body: ContactEdit) -> ApiJSON:
    with app_of(request).db.transaction() as session:
        contact = book.get_contact(session, contact_id)
        try:
            book.update_contact(
                session, contact,
                first_name=body.first_name if body.first_name is not None
                else contact.first_name or "",
                last_name=body.last_name if body.last_name is not None
                else contact.last_name or "",
                fields=body.fields if body.fields is not None else dict(contact.fields or {}),
                actor=f"api:{request.state.login.email}")
        except book.FieldError as exc:
            raise UsageError(f"{exc.field.removeprefix('field:')}: {exc}") from None
        session.flush()
        return ApiJSON(_contact(session, contact_id))


@router.delete("/contacts/{contact_id}", summary="Delete a contact (its messages stay)")
def delete_contact(request: Request, contact_id: RowId) -> ApiJSON:
    with app_of(request).db.transaction() as session:
        contact = book.get_contact(session, contact_id)
        number = contact.number
        book.delete_contact(session, contact)
    return ApiJSON({"id": contact_id, "number": number, "deleted": True})
