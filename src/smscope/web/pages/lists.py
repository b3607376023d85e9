"""``/lists``: the contact lists — create, rename, delete (after a confirmation), how
many contacts each holds, and a list's own page with its contacts a page at a time,
where numbers are added and contacts taken out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.contacts import book
from smscope.errors import NotFoundError, SmscopeError
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import PAGE, cursor_or_none, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def _lists_page(request: Request, *, error: str = "", name: str = "",
                status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        lists = book.lists_summary(session)
    return render(request, "lists.html", {"lists": lists, "error": error, "name": name},
                  status_code=status_code)


@router.get("/lists", include_in_schema=False)
def lists_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    return _lists_page(request)


@router.post("/lists", include_in_schema=False)
def create_list(request: Request, name: str = Form(""),
                login: Login = Depends(writer_form)) -> Response:
    refused = nul_errors({"name": name}, ["name"])
    if refused:
        return _lists_page(request, error=refused["name"], name=name, status_code=422)
    try:
        with smscope_of(request).db.transaction() as session:
            made = book.create_list(session, name)
            list_id, made_name = made.id, made.name
    except SmscopeError as exc:
        return _lists_page(request, error=str(exc), name=name, status_code=422)
    return redirect(f"/lists/{list_id}", flash=("success", f"The list {made_name} is made."))


def _list_page(request: Request, list_id: int, *, cursor: str = "",
               errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        contact_list = book.get_list_by_id(session, list_id)
        summary = next(s for s in book.lists_summary(session) if s["id"] == list_id)
        page = book.list_contacts(session, list_name=contact_list.name,
                                  cursor=cursor_or_none(cursor), limit=PAGE)
    return render(request, "list.html",
                  {"list": summary, "page": page, "errors": errors or {},
                   "form": form or {"name": summary["name"], "number": ""}},
                  status_code=status_code)


@router.get("/lists/{list_id}", include_in_schema=False)
def list_page(request: Request, list_id: int, cursor: str = "",
              login: Login = Depends(signed_in)) -> Response:
    return _list_page(request, list_id, cursor=cursor)


@router.post("/lists/{list_id}/rename", include_in_schema=False)
def rename_list(request: Request, list_id: int, name: str = Form(""),
                login: Login = Depends(writer_form)) -> Response:
    refused = nul_errors({"name": name}, ["name"])
    if refused:
        return _list_page(request, list_id, errors=refused, form={"name": name, "number": ""},
                          status_code=422)
    try:
        with smscope_of(request).db.transaction() as session:
            new_name = book.rename_list(session, list_id, name).name
    except book.FieldError as exc:
        return _list_page(request, list_id, errors={"name": str(exc)},
                          form={"name": name, "number": ""}, status_code=422)
    return redirect(f"/lists/{list_id}", flash=("success", f"The list is now {new_name}."))


@router.post("/lists/{list_id}/members", include_in_schema=False)
def add_member(request: Request, list_id: int, number: str = Form(""),
               login: Login = Depends(writer_form)) -> Response:
    smscope = smscope_of(request)
    refused = nul_errors({"number": number}, ["number"])
    if refused:
        return _list_page(request, list_id, errors=refused, form={"name": "", "number": number},
                          status_code=422)
    try:
        with smscope.db.transaction() as session:
            contact, added = book.add_to_list(session, list_id, number,
                                              smscope.config.default_region)
            e164 = contact.number
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return _list_page(request, list_id, errors={"number": str(exc)},
                          form={"name": "", "number": number}, status_code=422)
    text = f"{e164} is in the list now." if added else f"{e164} was in the list already."
    return redirect(f"/lists/{list_id}", flash=("success", text))


@router.post("/lists/{list_id}/members/{contact_id}/remove", include_in_schema=False)
def remove_member(request: Request, list_id: int, contact_id: int,
                  login: Login = Depends(writer_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        book.get_list_by_id(session, list_id)
        number = book.get_contact(session, contact_id).number
        removed = book.remove_from_list(session, list_id, contact_id,
                                        actor=f"web:{login.email}")
    text = (f"{number} is out of the list (it stays in the address book)." if removed
            else f"{number} was not in the list.")
    return redirect(f"/lists/{list_id}", flash=("success", text))


@router.get("/lists/{list_id}/delete", include_in_schema=False)
def confirm_delete(request: Request, list_id: int,
                   login: Login = Depends(signed_in)) -> Response:
    with smscope_of(request).db.session() as session:
        contact_list = book.get_list_by_id(session, list_id)
        name = contact_list.name
    return render(request, "confirm.html", {
        "title": f"Delete the list {name}?",
        "text": "The list goes; its contacts stay in the address book and in their other "
                "lists. Reports keep their figures by list.",
        "action": f"/lists/{list_id}/delete", "button": "Delete the list",
        "back": f"/lists/{list_id}", "fields": {}})


@router.post("/lists/{list_id}/delete", include_in_schema=False)
def delete_list(request: Request, list_id: int,
                login: Login = Depends(writer_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        name = book.delete_list(session, list_id)
    return redirect("/lists", flash=("success", f"The list {name} is deleted."))
