"""The campaign report as a PDF (CONTRACTS §11), read back as a viewer reads it: its
text, its pages, and a page drawn as an image."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest

from smscope.db import Database
from smscope.errors import OutputFileError
from smscope.reports.pdf import ROW_LIMIT, ReportPdf, render_report_pdf, write_report_pdf
from smscope.reports.recipients import iter_recipients
from tests.campaigns.helpers import number
from tests.reports.sample import NAME, PARIS, sent_campaign


def render(db: Database, campaign_id: int, row_limit: int = ROW_LIMIT) -> ReportPdf:
    with db.session() as session:
        return render_report_pdf(session, campaign_id, zone=PARIS, row_limit=row_limit)


def pages_text(data: bytes) -> list[str]:
    """Each page's text as PDFium (the engine of Chromium's viewer) extracts it."""
    document = pdfium.PdfDocument(data)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def test_the_pdf_holds_the_summary_statistics_timeline_and_recipients(
        sqlite_db: Database) -> None:
    pdf = render(sqlite_db, sent_campaign(sqlite_db))
    assert pdf.data.startswith(b"%PDF-") and pdf.path is None
    assert (pdf.recipients, pdf.listed, pdf.truncated) == (4, 4, False)
    assert len(pypdf.PdfReader(io.BytesIO(pdf.data)).pages) == pdf.pages
    assert 3 <= pdf.pages <= 6
    text = "\n".join(pages_text(pdf.data))
    for expected in (NAME, "-20 € ce week-end", "Élodie Müller", "François Lefèvre",
                     "Søren Østergaard", number(4), "Summary", "Statistics", "Timeline",
                     "Recipients", "Permanent error: absence", "2026-11-24T11:00:00+01:00",
                     f"Page 1 of {pdf.pages}", "delivered (received on the handset)"):
        assert expected in text, expected
    # the charts are drawn, not replaced by the text of their title
    assert "Recipients by category" not in text
    assert "Delivered: 1 (25.0%)" in text  # the legend of the categories' donut


def test_a_page_drawn_as_an_image_shows_the_charts_in_the_category_colours(
        sqlite_db: Database) -> None:
    pdf = render(sqlite_db, sent_campaign(sqlite_db))
    document = pdfium.PdfDocument(pdf.data)
    try:
        first = document[0].render(scale=1).to_pil().convert("RGB")
    finally:
        document.close()
    assert first.size in ((595, 842), (596, 842))  # A4 portrait, 595.3 x 841.9 pt
    colours = first.getcolors(maxcolors=1 << 20) or []
    ink = sum(n for n, rgb in colours if sum(rgb) < 600)
    assert ink > 10_000  # text and charts, not a blank page
    green = sum(n for n, (r, g, b) in colours
                if abs(r - 0x00) < 30 and abs(g - 0x9E) < 30 and abs(b - 0x73) < 30)
    assert green > 500  # the delivered slice of the donut (#009E73)


def test_it_writes_a_file_whole_or_a_stream(sqlite_db: Database, tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db)
    target = tmp_path / "out" / "report.pdf"
    with sqlite_db.session() as session:
        written = write_report_pdf(session, campaign_id, target, zone=PARIS)
        stream = io.BytesIO()
        streamed = write_report_pdf(session, campaign_id, stream, zone=PARIS)
    assert written.path == target and target.read_bytes() == written.data
    assert [p.name for p in target.parent.iterdir()] == ["report.pdf"]  # no part left
    assert streamed.path is None and stream.getvalue().startswith(b"%PDF-")
    with sqlite_db.session() as session, pytest.raises(
            OutputFileError, match=r"cannot write the PDF to .*choose a folder"):
        write_report_pdf(session, campaign_id, target / "below-a-file.pdf", zone=PARIS)


def test_beyond_the_row_limit_it_lists_the_first_and_names_the_csv_export(
        sqlite_db: Database) -> None:
    campaign_id = sent_campaign(sqlite_db)
    pdf = render(sqlite_db, campaign_id, row_limit=2)
    assert (pdf.recipients, pdf.listed, pdf.truncated) == (4, 2, True)
    text = "\n".join(pages_text(pdf.data))
    assert "This report lists the first 2 of 4 recipients." in text
    assert f"smscope campaign export {campaign_id} --csv FILE" in text
    assert number(2) in text and number(3) not in text


@pytest.mark.slow
def test_a_report_of_5001_recipients_lists_5000_in_reasonable_time(
        sqlite_db: Database) -> None:
    campaign_id = sent_campaign(sqlite_db, extra=ROW_LIMIT + 1 - 4)
    started = time.perf_counter()
    pdf = render(sqlite_db, campaign_id)
    elapsed = time.perf_counter() - started
    assert (pdf.recipients, pdf.listed, pdf.truncated) == (5001, 5000, True)
    pages = pages_text(pdf.data)
    assert len(pages) == pdf.pages == len(pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert 100 <= pdf.pages <= 140  # about 45 recipients a landscape page
    text = "\n".join(pages)
    assert "This report lists the first 5,000 of 5,001 recipients." in text
    assert f"smscope campaign export {campaign_id} --csv FILE" in text
    with sqlite_db.session() as session:
        numbers = [row["number"] for row in iter_recipients(session, campaign_id)]
    assert numbers[4999] in pages[-1] and numbers[5000] not in text
    assert f"Page {pdf.pages} of {pdf.pages}" in pages[-1]
    # about 10 s on a 2-core machine; the bound only catches a pathological slowdown
    assert elapsed < 120, f"{elapsed:.0f} s for 5,000 recipients"
