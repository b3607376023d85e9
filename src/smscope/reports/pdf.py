"""The campaign report as a PDF (SPEC §5.1, CONTRACTS §11): the summary, the statistics
with their charts, the lists, the delivery times, the timeline and the recipients —
every one up to :data:`~smscope.reports.html.ROW_LIMIT`, beyond that the first ones and a
line saying how to export them all as CSV.

The PDF is the print page of :mod:`smscope.reports.html` laid out by WeasyPrint (HTML and
CSS to PDF through Pango: the charts stay vectors, the text stays text). Nothing is
fetched while rendering: the page carries its stylesheet and its SVG inline, and the
URL fetcher only accepts ``data:`` URLs. Text is set in DejaVu Sans (the Debian package
``fonts-dejavu-core``), which covers Latin accents, ``€`` and most symbols; a character
no installed font has (most emoji) prints as a placeholder box.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smscope.errors import OutputFileError
from smscope.reports.campaign import campaign_report
from smscope.reports.html import ROW_LIMIT, render_report_page, render_stats_page
from smscope.reports.recipients import iter_recipients

__all__ = ["ROW_LIMIT", "ReportPdf", "pdf_from_report", "pdf_from_stats",
           "render_report_pdf", "write_report_pdf"]


@dataclass(frozen=True)
class ReportPdf:
    """A rendered report: its bytes and what it holds."""

    data: bytes
    pages: int
    #: the campaign's recipients, and how many of them the PDF lists
    recipients: int
    listed: int
    #: where it was written (None when only rendered)
    path: Path | None = None

    @property
    def truncated(self) -> bool:
        """Whether some recipients are only in the CSV export."""
        return self.listed < self.recipients

    def save(self, path: str | os.PathLike[str]) -> ReportPdf:
        """Write the PDF to ``path`` through a temporary file in the same folder, then
        rename it: a reader never sees a partial PDF and a failure leaves no file.
        Returns the same PDF with its ``path``."""
        target = Path(path)
        # a name of our own (not mkstemp's private 0600 file): the PDF gets the
        # permissions any file written there would get
        part = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                part.write_bytes(self.data)
                os.replace(part, target)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise OutputFileError(
                f"cannot write the PDF to {target}: {exc.strerror or exc}; "
                "choose a folder you can write to") from None
        return replace(self, path=target)


def pdf_from_report(report: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *,
                    zone: ZoneInfo, row_limit: int = ROW_LIMIT,
                    generated_at: datetime | None = None) -> ReportPdf:
    """The PDF of a report from its data: ``report`` from
    :func:`~smscope.reports.campaign.campaign_report` and its first recipients' rows."""
    page = render_report_page(report, rows, zone=zone, row_limit=row_limit,
                              generated_at=generated_at)
    data, pages = _pdf_of(page)
    return ReportPdf(data=data, pages=pages, recipients=report["recipients"],
                     listed=min(len(rows), row_limit))


def pdf_from_stats(stats: Mapping[str, Any], *, zone: ZoneInfo,
                   generated_at: datetime | None = None) -> ReportPdf:
    """Statistics over a date range (:func:`smscope.reports.stats.statistics`) as a
    PDF: the print page of :func:`~smscope.reports.html.render_stats_page`. It lists
    no recipient: ``recipients`` and ``listed`` are the range's message count."""
    data, pages = _pdf_of(render_stats_page(stats, zone=zone, generated_at=generated_at))
    total = int(stats["totals"]["recipients"])
    return ReportPdf(data=data, pages=pages, recipients=total, listed=total)


def _pdf_of(page: str) -> tuple[bytes, int]:
    """An HTML page laid out by WeasyPrint: the PDF's bytes and its page count."""
    import weasyprint

    # only data: URLs (there are none today): rendering never reaches the network
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=page, url_fetcher=fetcher).render()
    return document.write_pdf(), len(document.pages)


def render_report_pdf(session: Session, campaign_id: int, *, zone: ZoneInfo,
                      row_limit: int = ROW_LIMIT,
                      generated_at: datetime | None = None) -> ReportPdf:
    """The report of a campaign as a PDF in memory (dates in ``zone``)."""
    report = campaign_report(session, campaign_id)
    rows = list(islice(iter_recipients(session, campaign_id), row_limit))
    return pdf_from_report(report, rows, zone=zone, row_limit=row_limit,
                           generated_at=generated_at)


def write_report_pdf(session: Session, campaign_id: int,
                     target: str | os.PathLike[str] | IO[bytes], *, zone: ZoneInfo,
                     row_limit: int = ROW_LIMIT,
                     generated_at: datetime | None = None) -> ReportPdf:
    """Write the report of a campaign as a PDF to a file (replaced whole, never left
    half-written) or to a binary stream; returns what was written (with its ``path``
    for a file)."""
    pdf = render_report_pdf(session, campaign_id, zone=zone, row_limit=row_limit,
                            generated_at=generated_at)
    if isinstance(target, str | os.PathLike):
        return pdf.save(target)
    target.write(pdf.data)
    return pdf
