"""``/credits``: the balance, what campaigns hold reserved, the ledger of every
movement (newest first, a page at a time) and, for admins, adding credits — what
``smscope credits add`` does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.errors import SmscopeError
from smscope.output import credits_text
from smscope.pricing import CreditBank, ledger_page
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._forms import PAGE, admin_only, cursor_or_none, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def _page(request: Request, *, cursor: str = "", form: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    with smscope_of(request).db.session() as session:
        balance = CreditBank(session).balance()
        ledger = ledger_page(session, cursor=cursor_or_none(cursor), limit=PAGE)
    return render(request, "credits.html",
                  {"balance": balance, "ledger": ledger, "errors": errors or {},
                   "form": form or {"amount": "", "note": ""}}, status_code=status_code)


@router.get("/credits", include_in_schema=False)
def credits_page(request: Request, cursor: str = "",
                 login: Login = Depends(signed_in)) -> Response:
    return _page(request, cursor=cursor)


@router.post("/credits", include_in_schema=False)
def add_credits(request: Request, amount: str = Form(""), note: str = Form(""),
                login: Login = Depends(admin_only)) -> Response:
    errors = nul_errors({"amount": amount, "note": note}, ["amount", "note"])
    if errors:
        pass  # a NUL character: nothing else is checked
    elif len(note) > 200:
        errors["note"] = "the note has at most 200 characters"
    else:
        try:
            with smscope_of(request).db.transaction() as session:
                after = CreditBank(session).add(amount.strip() or "0", note=note.strip(),
                                                actor=f"web:{login.email}")
        except SmscopeError as exc:
            errors["amount"] = str(exc)
    if errors:
        return _page(request, form={"amount": amount, "note": note}, errors=errors,
                     status_code=422)
    return redirect("/credits", flash=("success", f"The balance is now "
                                                  f"{credits_text(after.available)} credits."))
