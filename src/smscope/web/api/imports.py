"""``/imports``: a CSV file into a list, as ``smscope contacts import`` (the same
importer and options), run in the background — ``POST`` answers 202 with the import,
whose progress and totals ``GET /imports/{id}`` reads, and whose rejected rows
``GET /imports/{id}/rejects`` lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from smscope.contacts.importer import get_import, rejects_page
from smscope.errors import ImportFileError
from smscope.web import uploads
from smscope.web.api._common import DEFAULT, ERRORS, Cursor, Limit, RowId, app_of
from smscope.web.api._errors import ApiError
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/imports", tags=["imports"], responses=ERRORS)


@router.post("", status_code=202, summary="Import a CSV file (the request body) into a list",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}}}}})
async def create(
    request: Request,
    list_name: Annotated[str, Query(alias="list", min_length=1, max_length=200)],
    default_region: Annotated[str | None, Query(max_length=2)] = None,
    delimiter: Annotated[str | None, Query(max_length=3)] = None,
    phone_column: Annotated[str | None, Query(max_length=200)] = None,
    map_: Annotated[list[str] | None, Query(alias="map", max_length=50)] = None,
) -> ApiJSON:
    smscope = app_of(request)
    region = (default_region or "").strip().upper() or smscope.config.default_region
    if region:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ApiError(422, "validation_error",
                           f"default_region: {default_region!r} is not a country; use an "
                           "ISO code like FR")
    try:
        path = await uploads.save_upload(request.stream())
    except uploads.TooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from None
    try:
        started = uploads.start(smscope.db, path, list_name, filename="upload.csv",
                                default_region=region, delimiter=delimiter or None,
                                phone_column=phone_column or None, mapping=map_ or (),
                                actor=f"api:{request.state.login.email}")
    except ImportFileError as exc:
        # the message would name our temporary file, not the caller's
        raise type(exc)(str(exc).replace(str(path), "the uploaded file")) from None
    uploads.import_in_background(started, path)
    with smscope.db.session() as session:
        return ApiJSON(get_import(session, started.import_id), 202,
                       headers={"Location": f"{request.scope.get('root_path', '')}"
                                            f"/imports/{started.import_id}"})


@router.get("/{import_id}", summary="An import: its state, progress and row totals")
def status(request: Request, import_id: RowId) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(get_import(session, import_id))


@router.get("/{import_id}/rejects", summary="The rows not imported, with why")
def rejects(request: Request, import_id: RowId, cursor: Cursor = None,
            limit: Limit = DEFAULT) -> ApiJSON:
    with app_of(request).db.session() as session:
        return ApiJSON(rejects_page(session, import_id, cursor=cursor, limit=limit).to_json())
