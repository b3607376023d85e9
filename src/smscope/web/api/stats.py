"""``/stats``: the statistics document of ``smscope stats --json``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from smscope.reports.days import parse_day
from smscope.reports.stats import ensure_days, statistics
from smscope.web.api._common import ERRORS, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(tags=["statistics"], responses=ERRORS)

Day = Annotated[str | None, Query(max_length=10,
                                  description="Last day, YYYY-MM-DD in the account's zone "
                                              "(default: today)")]


@router.get("/stats", summary="Statistics over a date range (as stats --json)")
def stats(request: Request,
          from_: Annotated[str | None, Query(alias="from", max_length=10,
                                             description="First day, YYYY-MM-DD (default: "
                                                         "29 days before 'to')")] = None,
          to: Day = None, by: Literal["day", "week", "month"] = "day") -> ApiJSON:
    smscope = app_of(request)
    zone = smscope.config.zone
    last = parse_day(to, "to") if to else datetime.now(zone).date()
    first = parse_day(from_, "from") if from_ else last - timedelta(days=29)
    ensure_days(smscope.db, zone)
    with smscope.db.session() as session:
        return ApiJSON(statistics(session, date_from=first, date_to=last, by=by, zone=zone))
