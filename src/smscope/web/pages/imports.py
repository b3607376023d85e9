"""``/imports``: upload a CSV file into a list (the importer of ``smscope contacts
import``, with its options), watch its progress, and read the row-by-row result: the
totals and every rejected row with its reason, downloadable as CSV.

The upload is checked before anything is recorded (not a CSV, empty, no phone column,
too large: a clear message on the form); then the rows are read in the background
(:mod:`smscope.web.uploads`) and the import's page shows how far it is: it refreshes
itself without JavaScript, and a small script updates it in place when it can.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from smscope.contacts.importer import (
    RejectsCsv,
    get_import,
    iter_rejects,
    recent_imports,
    rejects_page,
)
from smscope.db.tables import ContactList
from smscope.errors import ImportFileError, SmscopeError
from smscope.inputs import has_nul, nul_message
from smscope.web import uploads
from smscope.web.auth import Login, check_csrf, signed_in, smscope_of
from smscope.web.pages._forms import PAGE, cursor_or_none, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()

EMPTY_FORM = {"list": "", "new_list": "", "default_region": "", "delimiter": "",
              "phone_column": "", "mapping": ""}


def _new_page(request: Request, *, form: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        lists = list(session.scalars(select(ContactList.name).order_by(ContactList.name)))
        recent = recent_imports(session)
    form = form or {**EMPTY_FORM, "list": request.query_params.get("list", ""),
                    "default_region": smscope.config.default_region or ""}
    return render(request, "import_new.html",
                  {"lists": lists, "recent": recent, "form": form, "errors": errors or {},
                   "max_mb": uploads.MAX_UPLOAD // 2**20}, status_code=status_code)


@router.get("/imports/new", include_in_schema=False)
def new_import(request: Request, login: Login = Depends(signed_in)) -> Response:
    return _new_page(request)


def _writer(request: Request) -> Login:
    login = signed_in(request)
    if not login.can_write:
        from smscope.errors import PermissionDeniedError

        raise PermissionDeniedError("Your account is read-only: you can look at everything "
                                    "but change nothing. Ask an admin for another role.")
    return login


@router.post("/imports", include_in_schema=False)
async def upload(request: Request, login: Login = Depends(_writer)) -> Response:
    # The form is read here, not declared: its size is checked before it is read.
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return _new_page(request, errors={"file": "the upload must say its size "
                                                  "(Content-Length); send the form again"},
                         status_code=411)
    if int(declared) > uploads.MAX_UPLOAD + 64 * 1024:
        return _new_page(request, errors={"file": uploads.too_large_message()},
                         status_code=413)
    async with request.form(max_files=1, max_fields=20) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        check_csrf(login, fields.get("csrf_token"))
        shown = {k: fields.get(k, "") for k in EMPTY_FORM}
        errors = nul_errors(shown, list(EMPTY_FORM)) or _check_options(shown)
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            errors["file"] = "choose the CSV file to import"
        elif has_nul(file.filename):
            errors["file"] = nul_message("The file's name")
        if errors:
            return _new_page(request, form=shown, errors=errors, status_code=422)
        assert isinstance(file, UploadFile)
        try:
            path = uploads.save_file(file.file)  # type: ignore[arg-type]
        except uploads.TooLarge as exc:
            return _new_page(request, form=shown, errors={"file": str(exc)}, status_code=413)
        filename = file.filename or "upload.csv"
    return _start(request, login, path, filename, shown)


def _check_options(form: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not (form["new_list"].strip() or form["list"].strip()):
        errors["list"] = "choose a list, or name a new one"
    region = form["default_region"].strip().upper()
    if region:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            errors["default_region"] = (f"{form['default_region']!r} is not a country; "
                                        "use an ISO code like FR")
    return errors


def _start(request: Request, login: Login, path: Any, filename: str,
           form: dict[str, str]) -> Response:
    smscope = smscope_of(request)
    mapping = [line.strip() for line in form["mapping"].splitlines() if line.strip()]
    try:
        started = uploads.start(
            smscope.db, path, form["new_list"].strip() or form["list"].strip(),
            filename=filename, default_region=form["default_region"].strip().upper() or None,
            delimiter=form["delimiter"] or None,
            phone_column=form["phone_column"].strip() or None, mapping=mapping,
            actor=f"web:{login.email}")
    except ImportFileError as exc:
        # the message names our temporary file: the person knows their file by its name
        message = str(exc).replace(str(path), filename)
        field = ("file" if "no phone column" in message else
                 "mapping" if "--map" in message else
                 "phone_column" if "--phone-column" in message else
                 "delimiter" if "--delimiter" in message else "file")
        # the options have names of their own on the form
        for option, name in (("--phone-column NAME", "the phone column (under “Columns "
                                                     "and delimiter”)"),
                             ("--phone-column", "the phone column"),
                             ("--map", "the mapping"), ("--delimiter", "the delimiter")):
            message = message.replace(option, name)
        return _new_page(request, form=form, errors={field: message}, status_code=422)
    except SmscopeError as exc:
        return _new_page(request, form=form, errors={"file": str(exc)}, status_code=422)
    uploads.import_in_background(started, path)
    return redirect(f"/imports/{started.import_id}")


@router.get("/imports/{import_id}", include_in_schema=False)
def import_page(request: Request, import_id: int, cursor: str = "",
                login: Login = Depends(signed_in)) -> Response:
    with smscope_of(request).db.session() as session:
        record = get_import(session, import_id)
        rejects = rejects_page(session, import_id, cursor=cursor_or_none(cursor), limit=PAGE)
    share = record["bytes_read"] / record["size"] if record["size"] else 1.0
    return render(request, "import.html",
                  {"imp": record, "rejects": rejects, "share": min(share, 1.0),
                   "running": record["state"] == "running"})


@router.get("/imports/{import_id}/rejects.csv", include_in_schema=False)
def rejects_csv(request: Request, import_id: int,
                login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        record = get_import(session, import_id)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        out = RejectsCsv(buffer, record["header"])
        with smscope.db.session() as session:
            for cells, reason in iter_rejects(session, import_id):
                out.add(cells, reason)
                if buffer.tell() > 65536:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    name = f"import-{import_id}-rejects.csv"
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
