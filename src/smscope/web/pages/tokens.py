"""``/tokens``: the signed-in user's API tokens — create (the value is shown once, on
the answer to the form, never again), list, revoke. Every role manages its own
tokens: a read-only user's token is read-only too."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.accounts import tokens as api_tokens
from smscope.db.types import utcnow
from smscope.errors import SmscopeError
from smscope.web.auth import Login, own_form, signed_in, smscope_of
from smscope.web.pages._forms import nul_error
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def _page(request: Request, login: Login, *, new: api_tokens.NewToken | None = None,
          error: str = "", name: str = "", status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        items = [api_tokens.token_to_json(t, u)
                 for t, u in api_tokens.list_tokens(session, login.email)]
    return render(request, "tokens.html", {"tokens": items, "new": new, "error": error,
                                           "name": name}, status_code=status_code)


@router.get("/tokens", include_in_schema=False)
def tokens_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    return _page(request, login)


@router.post("/tokens", include_in_schema=False)
def create_token(request: Request, name: str = Form(""),
                 login: Login = Depends(own_form)) -> Response:
    refused = nul_error({"name": name}, {"name": "The token's name"})
    if refused:
        return _page(request, login, error=refused, name=name, status_code=422)
    try:
        with smscope_of(request).db.transaction() as session:
            new = api_tokens.create_token(session, login.email, name=name)
    except SmscopeError as exc:
        return _page(request, login, error=str(exc), name=name, status_code=422)
    return _page(request, login, new=new)


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(request: Request, token_id: int,
                 login: Login = Depends(own_form)) -> Response:
    with smscope_of(request).db.transaction() as session:
        api_tokens.revoke_token(session, token_id, now=utcnow(), user_id=login.user_id)
    return redirect("/tokens", flash=("success", f"API token {token_id} is revoked: it "
                                                 "stops working at once."))
