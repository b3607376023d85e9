"""``/blacklist``: the numbers that receive nothing more — search, pages, add (any
format, with a reason), remove after a confirmation, the CSV export, and the log of
every addition and removal with who or what did it (a STOP reply, a provider's
opt-out, a user)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response, StreamingResponse

from smscope.contacts import blacklist as bl
from smscope.csvio import SafeCsvWriter
from smscope.errors import NotFoundError, SmscopeError
from smscope.output import local_time
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import PAGE, cursor_or_none, nul_error, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()


def _page(request: Request, *, search: str = "", cursor: str = "", log_cursor: str = "",
          form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    errors = {**nul_errors({"search": search}, ["search"]), **(errors or {})}
    searched = search.strip()[:200]
    if errors.get("search"):
        searched, status_code = "", 400
    with smscope_of(request).db.session() as session:
        page = bl.list_entries(session, search=searched or None,
                               cursor=cursor_or_none(cursor), limit=PAGE)
        log = bl.log_page(session, cursor=cursor_or_none(log_cursor), limit=PAGE)
    number = request.query_params.get("number", "")
    return render(request, "blacklist.html", {
        "page": page, "log": log, "search": search,
        "query": {"search": search} if search else {},
        "form": form or {"number": number, "reason": ""}, "errors": errors},
        status_code=status_code)


@router.get("/blacklist", include_in_schema=False)
def blacklist_page(request: Request, search: str = "", cursor: str = "",
                   log_cursor: str = "", login: Login = Depends(signed_in)) -> Response:
    return _page(request, search=search, cursor=cursor, log_cursor=log_cursor)


@router.post("/blacklist", include_in_schema=False)
def add(request: Request, number: str = Form(""), reason: str = Form(""),
        login: Login = Depends(writer_form)) -> Response:
    smscope = smscope_of(request)
    errors = nul_errors({"number": number, "reason": reason}, ["number", "reason"])
    if errors:
        pass  # a NUL character: nothing else is checked
    elif not number.strip():
        errors["number"] = "give the number to blacklist"
    elif len(reason) > 500:
        errors["reason"] = "the reason has at most 500 characters"
    else:
        try:
            with smscope.db.transaction() as session:
                entry, created = bl.add(session, number, reason=reason.strip(),
                                        source="manual", actor=f"web:{login.email}",
                                        default_region=smscope.config.default_region)
                e164 = entry.number
        except SmscopeError as exc:
            errors["number"] = str(exc)
    if errors:
        return _page(request, form={"number": number, "reason": reason}, errors=errors,
                     status_code=422)
    text = (f"{e164} is blacklisted: it will never be texted again." if created
            else f"{e164} was blacklisted already.")
    return redirect("/blacklist", flash=("success", text))


@router.get("/blacklist/remove", include_in_schema=False)
def confirm_remove(request: Request, number: str = "",
                   login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    try:
        with smscope.db.session() as session:
            entry = bl.check(session, number, default_region=smscope.config.default_region)
    except SmscopeError as exc:
        raise NotFoundError(str(exc)) from None
    if entry is None:
        raise NotFoundError(f"{number} is not on the blacklist")
    return render(request, "confirm.html", {
        "title": f"Take {entry.number} off the blacklist?",
        "text": "It can be texted again, and its contact becomes active. The removal is "
                "logged with your name.",
        "action": "/blacklist/remove", "button": "Take it off the blacklist",
        "back": "/blacklist", "fields": {"number": entry.number, "reason": ""}})


@router.post("/blacklist/remove", include_in_schema=False)
def remove(request: Request, number: str = Form(""), reason: str = Form(""),
           login: Login = Depends(writer_form)) -> Response:
    smscope = smscope_of(request)
    refused = nul_error({"number": number, "reason": reason},
                        {"number": "The number", "reason": "The reason"})
    if refused:
        return redirect("/blacklist", flash=("error", refused))
    try:
        with smscope.db.transaction() as session:
            entry = bl.remove(session, number, reason=reason.strip()[:500],
                              actor=f"web:{login.email}",
                              default_region=smscope.config.default_region)
            e164 = entry.number
    except SmscopeError as exc:
        return redirect("/blacklist", flash=("error", str(exc)))
    return redirect("/blacklist", flash=("success", f"{e164} is off the blacklist (the "
                                                    "removal is logged)."))


@router.get("/blacklist.csv", include_in_schema=False)
def export(request: Request, login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    zone = smscope.config.zone

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = SafeCsvWriter(buffer, bl.EXPORT_COLUMNS, raw_columns=["number"])
        with smscope.db.session() as session:
            for e in bl.iter_entries(session):
                writer.writerow([e.number, e.reason, e.source, e.actor,
                                 local_time(e.created_at, zone)])
                if buffer.tell() > 65536:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="blacklist.csv"'})
