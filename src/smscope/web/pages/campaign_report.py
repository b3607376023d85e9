"""``/campaigns/{id}``: the campaign report (SPEC §5.1) — the live figures, the report's
own HTML fragments (summary, statistics with their charts, by list, delivery times,
timeline), the recipients table (filters, search, sort, keyset pages), a message's
history, and the report's actions: recipients CSV (streamed), statistics CSV, PDF,
print layout and share by e-mail. Every figure comes from :mod:`smscope.reports`, as
on the command line.

While a campaign sends, ``/campaigns/{id}/events`` streams its figures as Server-Sent
Events: the counters are read about once a second, each time in a short session of its
own (no connection is held between reads), and an event goes out only when a figure
changed (else a comment line, which also tells a client that left). The stream ends
when the campaign is final, when the client leaves, and when the server stops (the
server's handle is ``app.state.server``, set by :mod:`smscope.web.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response, StreamingResponse

from smscope.campaigns import service
from smscope.campaigns.counters import read_counters
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, SmscopeError, UsageError
from smscope.output import credits_text
from smscope.reports import share
from smscope.reports.campaign import campaign_report
from smscope.reports.exports import write_statistics_csv
from smscope.reports.figures import FORMULAS, figures
from smscope.reports.html import render_fragment, render_report_css, render_report_html
from smscope.reports.labels import CATEGORY_LABELS, CATEGORY_ORDER, status_label
from smscope.reports.pdf import render_report_pdf
from smscope.reports.recipients import (
    SORTS,
    iter_recipients,
    message_history,
    recipients_page,
    write_recipients_csv,
)
from smscope.statuses import Category, Status
from smscope.web.auth import Login, signed_in, smscope_of, writer_form
from smscope.web.pages._forms import nul_error
from smscope.web.pages._render import (
    PRINT_HEADERS,
    addresses_of,
    attachment,
    redirect,
    render,
    shared_text,
)
from smscope.web.pages.campaigns import actor_of, campaign_id_of

__all__ = ["live_figures", "router"]

router = APIRouter()

#: how often the event stream reads the counters, and checks that the server goes on
POLL_SECONDS = 1.0
_TICK = 0.2
RECIPIENTS_PAGE = 50
#: the recipients table's filters, named as its error line names them
FILTERS = {"status": "The status filter", "search": "The search", "sort": "The sort",
           "cursor": "The page's link"}
#: the parts of the report the page shows as they are (the recipients have a table of
#: their own)
_FRAGMENTS = ("summary.html", "statistics.html", "by_list.html", "delivery_times.html",
              "timeline.html")


# -- the live figures -------------------------------------------------------------------


def _share(value: float) -> str:
    return f"{value:.1%}"


def live_figures(f: dict[str, Any]) -> dict[str, str]:
    """The figures the page updates in place (``data-live`` names → text), from
    :func:`smscope.reports.figures.figures`."""
    counts, rates = f["counts"], f["rates"]
    out = {"recipients": f"{f['recipients']:,}", "sent": f"{f['sent']:,}",
           "cost": credits_text(Decimal(f["cost_credits"])),
           "replies": f"{f['replies']:,}", "clicks": f"{f['unique_clicks']:,}",
           "click_through_rate": _share(rates["click_through_rate"]),
           "delivery_rate": _share(rates["delivery_rate"]),
           "unsubscribes": f"{f['unsubscribes']:,}",
           "unsubscribe_rate": _share(rates["unsubscribe_rate"])}
    for category in CATEGORY_ORDER:
        out[category] = f"{counts[category]:,}"
        out[f"{category}_share"] = _share(counts[category] / f["recipients"]
                                          if f["recipients"] else 0.0)
    return out


#: the live cards: (figure, label, its rate's figure, the formula's key)
CARDS = (
    ("recipients", "Recipients", "sent", None),
    ("delivered", "Delivered", "delivered_share", "receipt_rate"),
    ("pending", "Pending", "pending_share", "waiting_rate"),
    ("soft_bounce", "Soft bounces", "soft_bounce_share", "temporary_error_rate"),
    ("hard_bounce", "Hard bounces", "hard_bounce_share", "permanent_error_rate"),
    ("error", "Errors", "error_share", "error_rate"),
    ("unsubscribes", "Unsubscribes", "unsubscribe_rate", "unsubscribe_rate"),
    ("not_sent", "Not sent", "not_sent_share", None),
    ("replies", "Replies", None, None),
    ("clicks", "Recipients who clicked", "click_through_rate", "click_through_rate"),
    ("cost", "Credits", None, None),
)


def _read_live(request: Request, campaign_id: int) -> tuple[str, dict[str, str]]:
    """The state and live figures, in a session closed before returning."""
    with smscope_of(request).db.session() as session:
        state = service.get_campaign(session, campaign_id).state
        return state, live_figures(figures(read_counters(session, campaign_id)))


def _stopping(request: Request) -> bool:
    server = getattr(request.app.state, "server", None)
    return bool(server is not None and server.should_exit)


async def _events(request: Request, campaign_id: int) -> AsyncIterator[str]:
    # a reconnecting browser waits 2 s; the first event is the figures as they are
    yield "retry: 2000\n\n"
    last: tuple[str, dict[str, str]] | None = None
    while True:
        current = await asyncio.to_thread(_read_live, request, campaign_id)
        if current != last:
            state, live = current
            yield f"event: figures\ndata: {json.dumps({'state': state, 'figures': live})}\n\n"
            last = current
        else:
            # a comment line: a client that left makes this write fail, which ends the
            # response (and keeps proxies from closing a quiet stream)
            yield ": still sending\n\n"
        if current[0] in service.FINAL_STATES:
            yield "event: end\ndata: {}\n\n"
            return
        waited = 0.0
        while waited < POLL_SECONDS:
            if _stopping(request):
                return
            await asyncio.sleep(_TICK)
            waited += _TICK


@router.get("/campaigns/{campaign_id}/events", include_in_schema=False)
def events(request: Request, campaign_id: str,
           login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    with smscope_of(request).db.session() as session:
        service.get_campaign(session, number)
    return StreamingResponse(_events(request, number), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store",
                                      "X-Accel-Buffering": "no"})


# -- the page ---------------------------------------------------------------------------


@router.get("/campaigns/report.css", include_in_schema=False)
def report_css() -> Response:
    """The report's stylesheet, for the fragments the page includes (the page's
    Content-Security-Policy allows no inline style)."""
    return Response(render_report_css(), media_type="text/css",
                    headers={"Cache-Control": "max-age=300"})


def _recipients(request: Request, session: Any, campaign_id: int) -> dict[str, Any]:
    """The recipients table: the query's filters, the page, or the error they make."""
    params = request.query_params
    table: dict[str, Any] = {
        "status": params.get("status", "")[:40], "search": params.get("search", "")[:200],
        "sort": params.get("sort", "id"), "desc": params.get("desc") == "1",
        "cursor": params.get("cursor", "")[:1000], "rows": [], "next_cursor": None,
        "error": None}
    refused = nul_error({k: table[k] for k in FILTERS}, FILTERS)
    if refused:
        table["error"] = refused
        return table
    try:
        page = recipients_page(session, campaign_id, status=table["status"] or None,
                               search=table["search"] or None, sort=table["sort"],
                               descending=table["desc"], cursor=table["cursor"] or None,
                               limit=RECIPIENTS_PAGE)
    except UsageError as exc:
        table["error"] = str(exc)
        return table
    table["rows"], table["next_cursor"] = page.items, page.next_cursor
    return table


@router.get("/campaigns/{campaign_id}", include_in_schema=False)
def report_page(request: Request, campaign_id: str,
                login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    zone = smscope_of(request).config.zone
    with smscope_of(request).db.session() as session:
        report = campaign_report(session, number)
        table = _recipients(request, session, number)
    parts = {name.removesuffix(".html"): Markup(render_fragment(name, report=report,
                                                                 zone=zone))
             for name in _FRAGMENTS}
    return render(request, "campaign.html", {
        "report": report, "parts": parts, "live": live_figures(report), "cards": CARDS,
        "final": report["state"] in service.FINAL_STATES, "table": table,
        "sorts": list(SORTS), "statuses": [s.value for s in Status if s is not Status.TEST],
        "categories": [c.value for c in Category if c is not Category.TEST],
        "category_labels": CATEGORY_LABELS, "status_label": status_label,
        "formulas": FORMULAS, "smtp": bool(smscope_of(request).config.smtp.host),
    }, status_code=400 if table["error"] else 200)


@router.get("/campaigns/{campaign_id}/messages/{message_id}", include_in_schema=False)
def message_page(request: Request, campaign_id: str, message_id: str,
                 login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    if not message_id.isdigit() or len(message_id) > 18:
        raise NotFoundError(f"there is no message {message_id!r}; the recipients table "
                            "lists them")
    with smscope_of(request).db.session() as session:
        campaign = service.get_campaign(session, number)
        message = message_history(session, int(message_id))
        name = campaign.name
    if message["campaign_id"] != number:
        raise NotFoundError(f"campaign {number} has no message {message_id}")
    return render(request, "campaign_message.html", {
        "message": message, "campaign": {"id": number, "name": name},
        "status_label": status_label})


# -- exports ----------------------------------------------------------------------------


class _Pipe:
    """A text stream whose writes a reader takes from a bounded queue: the CSV writer
    runs on a thread of its own and the response sends what it wrote, so a large
    export holds a few chunks in memory, and stops when the client leaves."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[str | BaseException | None] = queue.Queue(maxsize=16)
        self.closed = threading.Event()
        self._buffer: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        if self.closed.is_set():
            raise BrokenPipeError("the client left")
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= 64 * 1024:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._put("".join(self._buffer))
            self._buffer, self._size = [], 0

    def _put(self, item: str | BaseException | None) -> None:
        while not self.closed.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise BrokenPipeError("the client left")


def _stream_recipients(request: Request, campaign_id: int, status: str | None,
                       search: str | None) -> Iterator[str]:
    smscope = smscope_of(request)
    pipe = _Pipe()

    def produce() -> None:
        try:
            with smscope.db.session() as session:
                rows = iter_recipients(session, campaign_id, status=status, search=search)
                write_recipients_csv(pipe, rows, smscope.config.zone)  # type: ignore[arg-type]
            pipe.flush()
            pipe._put(None)
        except BrokenPipeError:
            pass
        except BaseException as exc:  # told to the reader, which ends the response
            with contextlib.suppress(BrokenPipeError):
                pipe._put(exc)

    thread = threading.Thread(target=produce, name="smscope-csv", daemon=True)
    thread.start()
    try:
        yield "\ufeff"
        while True:
            item = pipe.chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                # the headers are gone: a cut-short file is all a client can be told
                raise item
            yield item
    finally:
        pipe.closed.set()


@router.get("/campaigns/{campaign_id}/recipients.csv", include_in_schema=False)
def recipients_csv(request: Request, campaign_id: str,
                   login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    status = request.query_params.get("status") or None
    search = request.query_params.get("search") or None
    refused = nul_error({"status": status, "search": search}, FILTERS)
    if refused:
        return redirect(f"/campaigns/{number}", flash=("error", refused))
    with smscope_of(request).db.session() as session:
        try:
            # the filters are checked before the first byte goes out
            next(iter_recipients(session, number, status=status, search=search), None)
        except UsageError as exc:
            return redirect(f"/campaigns/{number}", flash=("error", str(exc)))
    return StreamingResponse(
        _stream_recipients(request, number, status, search),
        media_type="text/csv; charset=utf-8",
        headers=attachment(f"campaign-{number}-recipients.csv"))


@router.get("/campaigns/{campaign_id}/statistics.csv", include_in_schema=False)
def statistics_csv(request: Request, campaign_id: str,
                   login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    with smscope_of(request).db.session() as session:
        report = campaign_report(session, number)

    class _Text:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

    out = _Text()
    write_statistics_csv(out, report)  # type: ignore[arg-type]
    return Response("\ufeff" + "".join(out.parts), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"campaign-{number}-statistics.csv"))


@router.get("/campaigns/{campaign_id}/report.pdf", include_in_schema=False)
def report_pdf(request: Request, campaign_id: str,
               login: Login = Depends(signed_in)) -> Response:
    number = campaign_id_of(campaign_id)
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        pdf = render_report_pdf(session, number, zone=smscope.config.zone)
    return Response(pdf.data, media_type="application/pdf",
                    headers=attachment(f"campaign-{number}-report.pdf"))


@router.get("/campaigns/{campaign_id}/print", include_in_schema=False)
def print_layout(request: Request, campaign_id: str,
                 login: Login = Depends(signed_in)) -> Response:
    """The whole report as the PDF lays it out (its own print stylesheet), to print
    from the browser."""
    number = campaign_id_of(campaign_id)
    smscope = smscope_of(request)
    with smscope.db.session() as session:
        html = render_report_html(session, number, zone=smscope.config.zone)
    return HTMLResponse(html, headers=PRINT_HEADERS)


@router.post("/campaigns/{campaign_id}/share", include_in_schema=False)
async def share_by_email(request: Request, campaign_id: str,
                         login: Login = Depends(writer_form)) -> Response:
    number = campaign_id_of(campaign_id)
    data = await request.form()
    raw = str(data.get("addresses", ""))
    refused = nul_error({"addresses": raw}, {"addresses": "The addresses"})
    if refused:
        return redirect(f"/campaigns/{number}#share", flash=("error", refused))
    addresses = addresses_of(raw)
    smscope = smscope_of(request)

    def send() -> share.ShareResult:
        with smscope.db.transaction() as session:
            service.get_campaign(session, number)
            return share.share_report(session, number, addresses, config=smscope.config,
                                      actor=actor_of(login), now=utcnow())

    try:
        result = await asyncio.to_thread(send)
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect(f"/campaigns/{number}#share", flash=("error", str(exc)[:1500]))
    return redirect(f"/campaigns/{number}", flash=("success", shared_text(result)))
