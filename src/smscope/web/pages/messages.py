"""``/messages``: monitoring — the search of ``smscope messages search`` as a page, its
filters as GET parameters (a search is a bookmark), keyset pages, the paused search of
:mod:`smscope.reports.search` (a page that read ``SCAN_LIMIT`` messages says how far
back it searched and links on), the whole result as a streamed CSV, and one message's
history (``smscope messages show``).

The query string is read as text, not as typed FastAPI parameters: a malformed value
is shown next to its field on the page, never answered with FastAPI's JSON error.
Each filter is checked by the search itself (:func:`~smscope.reports.search.
iter_messages` checks its filters before reading anything), one at a time, so that
every wrong field gets its own message at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from smscope.db.tables import Campaign, Connector
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, UsageError
from smscope.reports.labels import CATEGORY_LABELS, status_label
from smscope.reports.recipients import message_history
from smscope.reports.search import MessageFilters, csv_chunks, iter_messages, search_messages
from smscope.statuses import Category, Status
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._render import PAGE_HEADERS, render

__all__ = ["FIELDS", "router"]

router = APIRouter()

#: the search's fields, as named in the query string (the API's names)
FIELDS = ("from", "to", "campaign", "sender", "number", "text", "status", "category",
          "connector")
LABELS = {"from": "From", "to": "To", "campaign": "Campaign", "sender": "Sender",
          "number": "Number", "text": "Text", "status": "Status", "category": "Category",
          "connector": "Connector"}
#: messages per page
PAGE_SIZE = 50
#: the longest value a field takes (the API's limit)
MAX_LENGTH = 200
#: the campaigns offered as suggestions in the campaign field
SUGGESTED_CAMPAIGNS = 200
#: ids fit every database's integer (a larger one is an error on the page, not a 500)
MAX_ID = 2**62
#: the longest text shown in a row (the history page has it whole)
TEXT_WIDTH = 80
_OPTION = re.compile(r"--(" + "|".join(FIELDS) + r")\b")


def _filters(form: Mapping[str, str]) -> MessageFilters:
    campaign = form.get("campaign", "").strip()
    return MessageFilters.from_options(
        date_from=form.get("from") or None, date_to=form.get("to") or None,
        campaign_id=int(campaign) if campaign else None,
        **{name: form.get(name) or None
           for name in ("sender", "number", "text", "status", "category", "connector")})


def _message(error: Exception) -> str:
    """An error of the search with the page's field names instead of the CLI's options."""
    return _OPTION.sub(lambda m: f"“{LABELS[m[1]]}”", str(error))


def _campaign_error(value: str) -> str | None:
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        return f"“{value[:40]}” is not a campaign's number: write its id, e.g. 12"
    return None


def check_form(session: Session, form: Mapping[str, str], *, zone: Any,
               region: str | None) -> dict[str, str]:
    """The error of each wrong field of ``form`` (empty: the search can run)."""
    errors: dict[str, str] = {}

    def attempt(fields: tuple[str, ...], blame: str) -> None:
        if blame in errors or any(f in errors for f in fields):
            return
        values = {f: form[f] for f in fields}
        if not all(v.strip() for v in values.values()):
            return
        try:
            iter_messages(session, _filters(values), zone=zone, default_region=region)
        except NotFoundError as exc:
            errors[blame] = (f"There is no campaign {form['campaign'].strip()}."
                             if blame == "campaign" else _message(exc))
        except UsageError as exc:
            errors[blame] = _message(exc)

    for field in FIELDS:
        value = form[field]
        if len(value) > MAX_LENGTH:
            errors[field] = f"At most {MAX_LENGTH} characters, please."
        elif field == "campaign" and value.strip():
            found = _campaign_error(value.strip())
            if found:
                errors[field] = found
    for field in FIELDS:
        attempt((field,), field)
    # the checks of two fields together
    attempt(("from", "to"), "to")
    attempt(("status", "category"), "category")
    return {field: errors[field] for field in FIELDS if field in errors}


def _form(request: Request) -> dict[str, str]:
    return {field: request.query_params.get(field, "") for field in FIELDS}


def _query(form: Mapping[str, str], **extra: str | None) -> str:
    """The query string of a search (empty fields left out)."""
    pairs = [(k, v) for k, v in form.items() if v.strip()]
    pairs += [(k, v) for k, v in extra.items() if v]
    return urlencode(pairs)


def _choices(session: Session) -> dict[str, Any]:
    campaigns = session.execute(select(Campaign.id, Campaign.name)
                                .order_by(Campaign.id.desc())
                                .limit(SUGGESTED_CAMPAIGNS)).all()
    return {
        "statuses": [(s.value, s.label) for s in Status],
        "categories": [(c.value, CATEGORY_LABELS.get(c.value, "Test sends"))
                       for c in Category],
        "connectors": list(session.scalars(select(Connector.name).order_by(Connector.name))),
        "campaigns": campaigns,
    }


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_WIDTH else flat[:TEXT_WIDTH - 1] + "…"


@router.get("/messages", include_in_schema=False)
def messages_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    smscope = smscope_of(request)
    zone, region = smscope.config.zone, smscope.config.default_region
    form = _form(request)
    cursor = request.query_params.get("cursor") or None
    searched = any(v.strip() for v in form.values()) or cursor is not None
    context: dict[str, Any] = {"form": form, "labels": LABELS, "cursor": cursor,
                               "page": None, "cursor_error": "", "short": _short,
                               "status_label": status_label,
                               "query": _query(form), "searched": searched}
    with smscope.db.session() as session:
        context.update(_choices(session))
        errors = check_form(session, form, zone=zone, region=region)
        context["errors"] = errors
        if not errors:
            try:
                context["page"] = search_messages(session, _filters(form), cursor=cursor,
                                                  limit=PAGE_SIZE, zone=zone,
                                                  default_region=region)
            except UsageError:
                context["cursor_error"] = ("This page's link is damaged (its cursor is not "
                                           "one smscope made). Start again from the first "
                                           "page.")
    page = context["page"]
    if page is not None and page.next_cursor:
        context["next_query"] = _query(form, cursor=page.next_cursor)
    status_code = 400 if errors or context["cursor_error"] else 200
    return render(request, "messages.html", context, status_code=status_code)


@router.get("/messages.csv", include_in_schema=False)
def messages_csv(request: Request, login: Login = Depends(signed_in)) -> Response:
    """Every message of the search as CSV, streamed: the export of ``smscope messages
    search --csv``."""
    smscope = smscope_of(request)
    zone, region = smscope.config.zone, smscope.config.default_region
    form = _form(request)
    with smscope.db.session() as session:
        errors = check_form(session, form, zone=zone, region=region)
    if errors:
        from smscope.web.pages import error_page
        return error_page(request, 400, "This search cannot be exported: "
                          + " ".join(f"{LABELS[f]}: {e}" for f, e in errors.items())
                          + " Fix it on the monitoring page.")
    filters = _filters(form)

    def rows() -> Iterator[str]:
        # the session lives as long as the answer streams
        with smscope.db.session() as session:
            yield from csv_chunks(iter_messages(session, filters, zone=zone,
                                                default_region=region), zone)

    name = f"messages-{utcnow().astimezone(zone):%Y%m%d-%H%M}.csv"
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/messages/{message_id}", include_in_schema=False)
def message_page(request: Request, message_id: str,
                 login: Login = Depends(signed_in)) -> Response:
    """One message and everything that happened to it (``smscope messages show``)."""
    if not message_id.isdigit() or not 1 <= int(message_id) <= MAX_ID:
        raise NotFoundError(f"There is no message {message_id[:40]!r}: a message's "
                            "address is /messages/ and its number.")
    with smscope_of(request).db.session() as session:
        history = message_history(session, int(message_id))
    return render(request, "message.html", {"m": history, "status_label": status_label})
