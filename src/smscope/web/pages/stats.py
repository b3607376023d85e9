"""``/stats``: statistics over a date range — the document of ``smscope stats --json``
(:func:`smscope.reports.stats.statistics`) as a page: the totals with each rate's
formula, the periods (day, week or month) with the per-period chart of
:mod:`smscope.reports.charts`, per country, sender and connector; the periods as CSV.

Like the monitoring page, the query string is read as text and every wrong field is
said next to it (a 400 page, never FastAPI's JSON error).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from smscope.errors import UsageError
from smscope.reports.charts import periods_chart
from smscope.reports.days import day_bounds, parse_day
from smscope.reports.exports import write_periods_csv
from smscope.reports.labels import CATEGORY_LABELS, STATS_CATEGORY
from smscope.reports.stats import GROUPINGS, MAX_DAYS, ensure_days, statistics
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._forms import nul_errors
from smscope.web.pages._render import PAGE_HEADERS, render

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
                   query=urlencode({**dates, "by": stats["by"]}),
                   by_links={by: urlencode({**dates, "by": by}) for by in GROUPINGS})
    return render(request, "stats.html", context)


@router.get("/stats.csv", include_in_schema=False)
def stats_csv(request: Request, login: Login = Depends(signed_in)) -> Response:
    """The periods of the range as CSV (``smscope stats --csv``)."""
    zone = smscope_of(request).config.zone
    asked, errors = read_form(_form(request), zone)
    if errors:
        from smscope.web.pages import error_page
        return error_page(request, 400, "These statistics cannot be exported: "
                          + " ".join(errors.values()) + " Fix it on the statistics page.")
    stats = _document(request, asked)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    write_periods_csv(buffer, stats)
    name = f"stats-{stats['from']}-{stats['to']}-by-{stats['by']}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={**PAGE_HEADERS,
                             "Content-Disposition": f'attachment; filename="{name}"'})
