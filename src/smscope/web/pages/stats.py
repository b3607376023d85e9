"""``/stats``: statistics over a date range — the document of ``smscope stats --json``
(:func:`smscope.reports.stats.statistics`) as a page: the totals with each rate's
formula, the periods (day, week or month) with the per-period chart of
:mod:`smscope.reports.charts`, per country, sender and connector; the periods as CSV.

Like the monitoring page, the query string is read as text and every wrong field is
said next to it (a 400 page, never FastAPI's JSON error).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from smscope.db.types import utcnow
from smscope.errors import SmscopeError, UsageError
from smscope.reports.charts import periods_chart
from smscope.reports.days import day_bounds, parse_day
from smscope.reports.exports import write_periods_csv
from smscope.reports.html import render_stats_page
from smscope.reports.labels import CATEGORY_LABELS, STATS_CATEGORY
from smscope.reports.pdf import pdf_from_stats
from smscope.reports.share import share_statistics
from smscope.reports.stats import GROUPINGS, MAX_DAYS, ensure_days, statistics
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import nul_error, nul_errors
from smscope.web.pages._render import (
    PRINT_HEADERS,
    addresses_of,
    attachment,
    redirect,
    render,
    shared_text,
)

__all__ = ["router"]

router = APIRouter()

#: the default range, in days, ending today (the dashboard's)
DAYS = 30
#: the tables' columns: (key of a statistics row, header, category or None)
#: (headers carry soft hyphens, so that a laptop's width holds the whole table)
COLUMNS = (("recipients", "Mes\u00adsages", None), ("sent", "Sent", None),
           *((key, CATEGORY_LABELS[category], category)
             for key, category in STATS_CATEGORY.items()),
           ("unsubscribes", "Unsub\u00adscribes", None), ("replies", "Replies", None),
           ("clicks", "Clicks", None))
#: the rates shown in the tables, with their header
RATES = (("receipt_rate", "Receipt rate"), ("delivery_rate", "Delivery rate"))


def _day(value: str, label: str, errors: dict[str, str], field: str) -> date | None:
    try:
        return parse_day(value, f"“{label}”")
    except UsageError as exc:
        errors[field] = str(exc)
        return None


def read_form(form: Mapping[str, str], zone: ZoneInfo) -> tuple[dict[str, Any], dict[str, str]]:
    """The range and grouping asked for (defaults: the last 30 days by day) and the
    error of each wrong field."""
    errors = nul_errors(form, ("from", "to", "by"))
    today = datetime.now(zone).date()
    if errors:
        return {"from": today, "to": today, "by": "day"}, errors
    last = _day(form["to"], "To", errors, "to") if form["to"].strip() else today
    first = (_day(form["from"], "From", errors, "from") if form["from"].strip()
             else (last or today) - timedelta(days=DAYS - 1))
    by = form["by"].strip().lower() or "day"
    if by not in GROUPINGS:
        errors["by"] = f"Group by {', '.join(GROUPINGS)}; “{form['by'][:20]}” is none of them."
    if first is not None and last is not None and not errors.get("to"):
        try:
            day_bounds(first, last, zone)
        except UsageError:
            errors["to"] = f"The last day ({last}) is before the first ({first}): swap them."
        else:
            if (last - first).days >= MAX_DAYS:
                errors["from"] = (f"At most {MAX_DAYS:,} days (ten years) at once: "
                                  "choose a later first day.")
    return {"from": first, "to": last, "by": by}, errors


def _form(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "")[:40] for name in ("from", "to", "by")}


def _document(request: Request, asked: dict[str, Any]) -> dict[str, Any]:
    smscope = smscope_of(request)
    zone = smscope.config.zone
    ensure_days(smscope.db, zone)
    with smscope.db.session() as session:
        return statistics(session, date_from=asked["from"], date_to=asked["to"],
                          by=asked["by"], zone=zone)


@router.get("/stats", include_in_schema=False)
def stats_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    zone = smscope_of(request).config.zone
    form = _form(request)
    asked, errors = read_form(form, zone)
    context: dict[str, Any] = {"form": form, "errors": errors, "columns": COLUMNS,
                               "rates": RATES, "stats": None, "by_choices": GROUPINGS}
    if errors:
        return render(request, "stats.html", context, status_code=400)
    stats = _document(request, asked)
    dates = {"from": stats["from"].isoformat(), "to": stats["to"].isoformat()}
    context.update(stats=stats, chart=Markup(periods_chart(stats["periods"])),
                   smtp=bool(smscope_of(request).config.smtp.host),
                   query=urlencode({**dates, "by": stats["by"]}),
                   by_links={by: urlencode({**dates, "by": by}) for by in GROUPINGS})
    return render(request, "stats.html", context)


def _exported(request: Request, form: Mapping[str, str]) -> dict[str, Any] | Response:
    """The statistics document an export asks for, or the 400 page of its wrong fields."""
    asked, errors = read_form(form, smscope_of(request).config.zone)
    if errors:
        from smscope.web.pages import error_page
        return error_page(request, 400, "These statistics cannot be exported: "
                          + " ".join(errors.values()) + " Fix it on the statistics page.")
    return _document(request, asked)


def _name(stats: Mapping[str, Any]) -> str:
    return f"stats-{stats['from']}-{stats['to']}-by-{stats['by']}"


@router.get("/stats.csv", include_in_schema=False)
def stats_csv(request: Request, login: Login = Depends(signed_in)) -> Response:
    """The periods of the range as CSV (``smscope stats --csv``)."""
    stats = _exported(request, _form(request))
    if isinstance(stats, Response):
        return stats
    buffer = io.StringIO()
    buffer.write("\ufeff")
    write_periods_csv(buffer, stats)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"{_name(stats)}.csv"))


@router.get("/stats.pdf", include_in_schema=False)
def stats_pdf(request: Request, login: Login = Depends(signed_in)) -> Response:
    """The range's statistics as a PDF (``smscope stats --pdf``): totals, periods with
    their chart, per country, sender and connector."""
    stats = _exported(request, _form(request))
    if isinstance(stats, Response):
        return stats
    pdf = pdf_from_stats(stats, zone=smscope_of(request).config.zone)
    return Response(pdf.data, media_type="application/pdf",
                    headers=attachment(f"{_name(stats)}.pdf"))


@router.get("/stats/print", include_in_schema=False)
def stats_print(request: Request, login: Login = Depends(signed_in)) -> Response:
    """The statistics as the PDF lays them out, to print from the browser."""
    stats = _exported(request, _form(request))
    if isinstance(stats, Response):
        return stats
    return HTMLResponse(render_stats_page(stats, zone=smscope_of(request).config.zone),
                        headers=PRINT_HEADERS)


@router.post("/stats/share", include_in_schema=False)
async def stats_share(request: Request, login: Login = Depends(writer_form)) -> Response:
    """E-mail the range's statistics as a PDF; back to the same range with the outcome."""
    data = await request.form()
    form = {name: str(data.get(name, ""))[:40] for name in ("from", "to", "by")}
    back = "/stats?" + urlencode({k: v for k, v in form.items() if v.strip()})
    raw = str(data.get("addresses", ""))
    refused = nul_error({"addresses": raw}, {"addresses": "The addresses"})
    if refused:
        return redirect(back + "#share", flash=("error", refused))
    # reading the statistics is database work: off the event loop, like the sending
    stats = await asyncio.to_thread(_exported, request, form)
    if isinstance(stats, Response):
        return stats
    smscope = smscope_of(request)
    try:
        result = await asyncio.to_thread(
            share_statistics, stats, addresses_of(raw),
            config=smscope.config, now=utcnow())
    except SmscopeError as exc:
        return redirect(back + "#share", flash=("error", str(exc)[:1500]))
    return redirect(back, flash=("success", shared_text(result)))
