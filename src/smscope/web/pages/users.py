"""``/users`` (admins only): create users, change their role, deactivate or
reactivate them. A password left empty is made up and shown once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.accounts import users as accounts
from smscope.errors import SmscopeError
from smscope.inputs import refuse_nul
from smscope.web.auth import Login, admin_form, admin_page, smscope_of
from smscope.web.pages._forms import nul_error
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def _page(request: Request, *, error: str = "", form: dict[str, str] | None = None,
          created: dict[str, str] | None = None, status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        items = [accounts.user_to_json(u) for u in accounts.list_users(session)]
    return render(request, "users.html",
                  {"users": items, "roles": accounts.ROLES, "error": error,
                   "form": form or {"email": "", "role": "member"}, "created": created},
                  status_code=status_code)


@router.get("/users", include_in_schema=False)
def users_page(request: Request, login: Login = Depends(admin_page)) -> Response:
    return _page(request)


@router.post("/users", include_in_schema=False)
def create_user(request: Request, email: str = Form(""), role: str = Form("member"),
                password: str = Form(""), login: Login = Depends(admin_form)) -> Response:
    refused = nul_error({"email": email, "role": role, "password": password},
                        {"email": "The e-mail address", "role": "The role",
                         "password": "The password"})
    if refused:
        return _page(request, error=refused, form={"email": email, "role": role},
                     status_code=422)
    chosen = password or accounts.generate_password()
    try:
        with smscope_of(request).db.transaction() as session:
            user = accounts.create_user(session, email, role=role, password=chosen)
            address = user.email
    except SmscopeError as exc:
        return _page(request, error=str(exc), form={"email": email, "role": role},
                     status_code=422)
    return _page(request, created={"email": address,
                                   "password": "" if password else chosen})


@router.post("/users/{user_id}/role", include_in_schema=False)
def change_role(request: Request, user_id: int, role: str = Form(""),
                login: Login = Depends(admin_form)) -> Response:
    refused = nul_error({"role": role}, {"role": "The role"})
    if refused:
        return redirect("/users", flash=("error", refused))
    try:
        with smscope_of(request).db.transaction() as session:
            user = accounts.set_role(session, user_id, role)
            text = f"{user.email} is now {user.role}."
    except SmscopeError as exc:
        return redirect("/users", flash=("error", str(exc)))
    return redirect("/users", flash=("success", text))


@router.post("/users/{user_id}/active", include_in_schema=False)
def change_active(request: Request, user_id: int, active: str = Form(""),
                  login: Login = Depends(admin_form)) -> Response:
    refuse_nul(active, "The form's field 'active'")  # a hidden field: the 400 page
    try:
        with smscope_of(request).db.transaction() as session:
            user = accounts.set_active(session, user_id, active == "1")
            text = (f"{user.email} can log in again." if user.is_active else
                    f"{user.email} is deactivated: their sessions and API tokens stop "
                    "working.")
    except SmscopeError as exc:
        return redirect("/users", flash=("error", str(exc)))
    return redirect("/users", flash=("success", text))
