"""The campaign report as HTML (SPEC §5.1): a full page for printing and for the PDF,
made of fragments the web UI includes as they are.

Templates live in ``templates/`` beside this module: ``report.html`` (the whole page),
``report.css`` (screen, ``@media print`` and ``@page`` with running header and page
numbers), and one self-contained fragment per part — ``summary.html``,
``statistics.html``, ``by_list.html``, ``delivery_times.html``, ``timeline.html``,
``recipients.html`` — plus ``periods.html`` for a statistics document. A fragment needs
only the report (``report``, a :func:`smscope.reports.campaign.campaign_report`) and the
account's zone (``zone``); the charts, labels and formats are globals and filters of
:func:`environment`.

Autoescaping is on: a campaign's text, a contact's name and a reply are user input.
Dates are written in the account's zone with their offset, credits without useless
zeros (CONTRACTS §2).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from smscope.db.types import utcnow
from smscope.output import credits_text, local_time
from smscope.reports import charts
from smscope.reports.campaign import campaign_report
from smscope.reports.figures import FORMULAS, RATE_OF_CATEGORY
from smscope.reports.labels import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    CATEGORY_ORDER,
    STATS_CATEGORY,
    duration_text,
    share_text,
    status_label,
)
from smscope.reports.recipients import iter_recipients

__all__ = ["FRAGMENTS", "ROW_LIMIT", "environment", "listing_header", "listing_line",
           "render_fragment", "render_report_css", "render_report_html",
           "render_report_page", "render_stats_page"]

#: the most recipients a printed report or PDF lists (CONTRACTS §11); the CSV export
#: has every one
ROW_LIMIT = 5000
#: the parts of a report, each a template the web UI can include on its own
FRAGMENTS = ("summary.html", "statistics.html", "by_list.html", "delivery_times.html",
             "timeline.html", "recipients.html")


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return local_time(value, zone)


def _credits(value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    return credits_text(value if isinstance(value, Decimal) else Decimal(str(value)))


def _number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _safe(chart: Callable[..., str]) -> Callable[..., Markup]:
    """A chart function whose SVG goes into a template as markup, not as text."""
    @functools.wraps(chart)
    def render(*args: Any, **kwargs: Any) -> Markup:
        return Markup(chart(*args, **kwargs))
    return render


# -- the recipients' listing ------------------------------------------------------------

#: (header, width in characters, right-aligned) of each column of the listing; the
#: widths fit a landscape A4 page at 7 pt
_LISTING: tuple[tuple[str, int, bool], ...] = (
    ("number", 16, False), ("name", 24, False), ("status", 30, False),
    ("status changed", 25, False), ("attempts", 8, True), ("error code", 10, False),
    ("segments", 8, True), ("cost", 8, True), ("clicks", 6, True), ("reply", 26, False),
)
_GAP = "  "


def _width(text: str) -> int:
    """Columns a text takes in a fixed-width font: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(value: Any, width: int, right: bool) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    pad = " " * (width - _width(text))
    return pad + text if right else text + pad


def _line(cells: Iterable[Any]) -> str:
    return _GAP.join(_fit(value, width, right)
                     for value, (_, width, right) in zip(cells, _LISTING, strict=True)
                     ).rstrip()


def listing_header() -> str:
    """The header line of the recipients' listing."""
    return _line(header for header, _, _ in _LISTING)


def listing_line(row: Mapping[str, Any], zone: ZoneInfo) -> str:
    """One recipient (a row of :func:`smscope.reports.recipients.iter_recipients`) as a
    line of the listing: values cut to their column with ``…``, whitespace folded."""
    name = " ".join(part for part in (row.get("first_name"), row.get("last_name")) if part)
    return _line((
        row["number"], name, status_label(row["status"]),
        local_time(row.get("status_updated_at"), zone), row.get("attempts"),
        row.get("error_code") or "", row.get("segments"), _credits(row.get("cost")),
        row.get("clicks") or 0, row.get("reply") or "",
    ))


# -- the environment --------------------------------------------------------------------


@functools.cache
def environment() -> Environment:
    """The Jinja environment of the report's templates, with its filters (``when``,
    ``credits``, ``number``, ``share``, ``duration``, ``status_label``) and globals
    (the chart functions, labels, formulas). Autoescaping is on for HTML."""
    env = Environment(
        loader=PackageLoader("smscope.reports", "templates"),
        autoescape=select_autoescape(("html",), default_for_string=True, default=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(when=_when, credits=_credits, number=_number, share=share_text,
                       duration=duration_text, status_label=status_label)
    env.globals.update(
        categories_chart=_safe(charts.categories_chart),
        statuses_chart=_safe(charts.statuses_chart),
        delivery_times_chart=_safe(charts.delivery_times_chart),
        periods_chart=_safe(charts.periods_chart),
        category_order=CATEGORY_ORDER, category_labels=CATEGORY_LABELS,
        colours=CATEGORY_COLOURS,
        stats_category=STATS_CATEGORY, rate_of_category=RATE_OF_CATEGORY,
        formulas=FORMULAS, ratio=_ratio, listing_header=listing_header,
        listing_line=listing_line, report_css=lambda: Markup(render_report_css()),
    )
    return env


def render_fragment(name: str, **context: Any) -> str:
    """One template of the report (one of :data:`FRAGMENTS`, or ``periods.html`` with
    ``stats``) rendered with ``context`` (``report``, ``zone``, ``recipients``…)."""
    return environment().get_template(name).render(**context)


@functools.cache
def render_report_css() -> str:
    """The report's stylesheet (also for a page that includes the fragments)."""
    return environment().get_template("report.css").render()


def render_report_page(report: Mapping[str, Any], recipients: Iterable[Mapping[str, Any]],
                       *, zone: ZoneInfo, row_limit: int = ROW_LIMIT,
                       generated_at: datetime | None = None) -> str:
    """The whole report as one HTML page from its data: ``report`` from
    :func:`~smscope.reports.campaign.campaign_report` and its recipients' rows, of which
    the first ``row_limit`` are listed (with a line saying where the others are)."""
    rows = list(islice(recipients, row_limit))
    return environment().get_template("report.html").render(
        report=report, recipients=rows, zone=zone,
        generated_at=generated_at or utcnow())


def render_report_html(session: Session, campaign_id: int, *, zone: ZoneInfo,
                       row_limit: int = ROW_LIMIT,
                       generated_at: datetime | None = None) -> str:
    """The whole report of a campaign as one HTML page (print layout included)."""
    report = campaign_report(session, campaign_id)
    return render_report_page(report, iter_recipients(session, campaign_id), zone=zone,
                              row_limit=row_limit, generated_at=generated_at)


def render_stats_page(stats: Mapping[str, Any], *, zone: ZoneInfo,
                      generated_at: datetime | None = None) -> str:
    """Statistics over a date range (:func:`smscope.reports.stats.statistics`) as one
    HTML page, for printing and for the PDF: the totals with each rate's formula, the
    periods with their chart, per country, sender and connector."""
    return environment().get_template("stats_report.html").render(
        stats=stats, zone=zone, generated_at=generated_at or utcnow())
