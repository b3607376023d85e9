"""``/contacts``: the address book — search, pages, a contact's page (fields, lists,
hygiene log with its undo, blacklist state, messages), edit and delete. Every change
goes through :mod:`smscope.contacts`, the CLI's services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from smscope.contacts import blacklist as bl
from smscope.contacts import book
from smscope.db.tables import ContactList, Message
from smscope.errors import NotFoundError, SmscopeError
from smscope.pagination import Page
from smscope.reports.recipients import message_history
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import PAGE, cursor_or_none, form_of, nul_error, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()

#: messages shown on a contact's page, newest first
MESSAGES = 20


@router.get("/contacts", include_in_schema=False)
def contacts_page(request: Request, search: str = "", state: str = "", list: str = "",
                  cursor: str = "", login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    error = nul_error({"search": search, "list": list, "state": state, "cursor": cursor},
                      {"search": "The search", "list": "The list filter",
                       "state": "The state filter", "cursor": "The page's link"})
    with smscope.db.session() as session:
        lists = [n for n in session.scalars(select(ContactList.name).order_by(ContactList.name))]
        page: Page[dict[str, Any]] = Page([], None)
        try:
            if not error:
                page = book.list_contacts(
                    session, list_name=list or None,
                    state=state if state in book.STATES else None,
                    search=search.strip()[:200] or None, cursor=cursor_or_none(cursor),
                    limit=PAGE)
        except NotFoundError as exc:
            error = str(exc)
    filters = {"search": search, "state": state, "list": list}
    return render(request, "contacts.html",
                  {"page": page, "filters": filters, "lists": lists, "states": book.STATES,
                   "error": error, "query": {k: v for k, v in filters.items() if v}})


def _contact_context(request: Request, contact_id: int) -> dict[str, Any]:
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        contact = book.get_contact(session, contact_id)
        data = book.contact_to_json(contact)
        lists = [{"id": c.id, "name": c.name} for c in book.contact_lists(session, contact_id)]
        entry = bl.check(session, contact.number)
        message_ids = list(session.scalars(
            select(Message.id).where(Message.contact_id == contact_id)
            .order_by(Message.id.desc()).limit(MESSAGES)))
        return {
            "contact": data, "lists": lists,
            "events": book.contact_events(session, contact_id),
            "restorable": book.can_restore(session, contact),
            "blacklist": bl.entry_to_json(entry) if entry else None,
            "messages": [message_history(session, i) for i in message_ids],
        }


def _contact_page(request: Request, contact_id: int, *, errors: dict[str, str] | None = None,
                  form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = _contact_context(request, contact_id)
    contact = context["contact"]
    if form is None:
        form = {"first_name": contact["first_name"] or "",
                "last_name": contact["last_name"] or "",
                **{f"field:{k}": v for k, v in contact["fields"].items()},
                "new_field_name": "", "new_field_value": ""}
    fields = [k.removeprefix("field:") for k in form if k.startswith("field:")]
    return render(request, "contact.html",
                  {**context, "form": form, "fields": fields, "errors": errors or {}},
                  status_code=status_code)


@router.get("/contacts/{contact_id}", include_in_schema=False)
def contact_page(request: Request, contact_id: int,
                 login: Login = Depends(signed_in)) -> Response:
    return _contact_page(request, contact_id)


@router.post("/contacts/{contact_id}", include_in_schema=False)
async def edit_contact(request: Request, contact_id: int,
                       login: Login = Depends(writer_form)) -> Response:
    form = await form_of(request)
    fields = {k.removeprefix("field:"): v for k, v in form.items() if k.startswith("field:")}
    new_name = form.get("new_field_name", "").strip()
    new_value = form.get("new_field_value", "")
    errors = nul_errors({k: v for k, v in form.items() if k != "csrf_token"},
                        ["first_name", "last_name", "new_field_name", "new_field_value",
                         *(k for k in form if k.startswith("field:"))])
    if errors:
        pass  # a NUL character: nothing else is checked
    elif new_name:
        try:
            fields[book.check_field_name(new_name)] = new_value
        except SmscopeError as exc:
            errors["new_field_name"] = str(exc)
    elif new_value.strip():
        errors["new_field_name"] = "give the new field a name"
    if not errors:
        try:
            with smscope_of(request).db.transaction() as session:
                contact = book.get_contact(session, contact_id)
                book.update_contact(session, contact, first_name=form.get("first_name", ""),
                                    last_name=form.get("last_name", ""), fields=fields,
                                    actor=f"web:{login.email}")
                number = contact.number
        except book.FieldError as exc:
            errors[exc.field] = str(exc)
    if errors:
        shown = {"first_name": "", "last_name": "", "new_field_name": "",
                 "new_field_value": "", **{k: v for k, v in form.items() if k != "csrf_token"}}
        return _contact_page(request, contact_id, errors=errors, form=shown, status_code=422)
    return redirect(f"/contacts/{contact_id}", flash=("success", f"{number} is saved."))


@router.post("/contacts/{contact_id}/restore", include_in_schema=False)
def restore_contact(request: Request, contact_id: int,
                    login: Login = Depends(writer_form)) -> Response:
    smscope = smscope_of(request)
    try:
        with smscope.db.transaction() as session:
            contact = book.get_contact(session, contact_id)
            result = book.restore(session, contact.number, None, actor=f"web:{login.email}")
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect(f"/contacts/{contact_id}", flash=("error", str(exc)))
    back = ", ".join(result["lists"]) or "no list"
    return redirect(f"/contacts/{contact_id}",
                    flash=("success", f"{result['number']} is active again (back in: {back})."))


@router.get("/contacts/{contact_id}/delete", include_in_schema=False)
def confirm_delete(request: Request, contact_id: int,
                   login: Login = Depends(signed_in)) -> Response:
    with smscope_of(request).db.session() as session:
        contact = book.contact_to_json(book.get_contact(session, contact_id))
    return render(request, "confirm.html", {
        "title": f"Delete {contact['number']}?",
        "text": "The contact leaves the address book and its lists. Its messages stay in "
                "the reports; a blacklisted number stays blacklisted.",
        "action": f"/contacts/{contact_id}/delete", "button": "Delete the contact",
        "back": f"/contacts/{contact_id}", "fields": {}})


@router.post("/contacts/{contact_id}/delete", include_in_schema=False)
def delete_contact(request: Request, contact_id: int,
                   login: Login = Depends(writer_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        contact = book.get_contact(session, contact_id)
        number = contact.number
        book.delete_contact(session, contact)
    return redirect("/contacts", flash=("success", f"{number} is deleted."))
