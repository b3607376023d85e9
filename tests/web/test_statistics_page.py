"""The statistics page (/stats): the document of ``smscope stats --json`` — totals with
each rate's formula, the periods with their chart, per country, sender and connector —
by day, week or month, the periods as CSV, and bad input answered next to its field."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime, timedelta

import pytest

from smscope.reports.exports import write_periods_csv
from smscope.reports.figures import FORMULAS
from smscope.reports.stats import statistics
from tests.reports.sample import sent_campaign
from tests.web.conftest import signed_in
from tests.web.test_dashboard import cell_texts
from tests.web.test_monitoring import field_error


def document(site, first: date, last: date, by: str = "day") -> dict:
    zone = site.smscope.config.zone
    with site.smscope.db.session() as session:
        return statistics(session, date_from=first, date_to=last, by=by, zone=zone)


def row_heads(page: str, table_id: str) -> list[str]:
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return [html.unescape(h) for h in re.findall(r'<th scope="row">([^<]*)</th>', body)]


def test_an_empty_range_says_so_and_lists_every_day(site) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/stats")
    assert page.status_code == 200 and 'id="no-stats"' in page.text
    today = datetime.now(site.smscope.config.zone).date()
    assert row_heads(page.text, "periods") == [
        (today - timedelta(days=29 - i)).isoformat() for i in range(30)]
    assert re.search(rf'name="from" value="{today - timedelta(days=29)}"', page.text)


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_the_figures_are_the_stats_documents(any_site, by) -> None:
    site = any_site
    sent_campaign(site.smscope.db)
    first, last = date(2026, 10, 20), date(2026, 11, 30)
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/stats", params={"from": first.isoformat(), "to": last.isoformat(),
                                        "by": by}).text
    doc = document(site, first, last, by)
    totals = doc["totals"]
    for key, element in (("recipients", "total-recipients"), ("sent", "total-sent"),
                         ("received", "total-received"), ("hard_bounce", "total-hard-bounces"),
                         ("errors", "total-errors"), ("replies", "total-replies")):
        assert re.search(rf'id="{element}">{totals[key]:,}[ <]', page), key
    assert f"{totals['rates']['receipt_rate']:.1%}" in page
    assert row_heads(page, "periods") == [p["period"] for p in doc["periods"]]
    rows = cell_texts(page, "periods")
    for cells, period in zip(rows, doc["periods"], strict=True):
        assert cells[0] == f"{period['recipients']:,}"
        assert cells[-2:] == [f"{period['rates'][k]:.1%}"
                              for k in ("receipt_rate", "delivery_rate")]
    for name, key in (("by_country", "country"), ("by_sender", "sender"),
                      ("by_connector", "connector")):
        assert doc[name], name
        assert row_heads(page, name.replace("_", "-")) == [r[key] for r in doc[name]]
    # the chart is the report's SVG, drawn for these periods
    assert '<svg id="chart-periods"' in page or 'id="chart-periods"' in page
    # the switch keeps the range
    for other in ("day", "week", "month"):
        assert f'href="/stats?from={first}&amp;to={last}&amp;by={other}" id="by-{other}"' in page
    assert f'id="by-{by}" aria-current="true"' in page


def test_every_rate_has_its_formula_on_hover(site) -> None:
    sent_campaign(site.smscope.db)
    client, _ = signed_in(site, "reader@example.com")
    page = html.unescape(client.get("/stats", params={"from": "2026-11-01",
                                                      "to": "2026-11-30"}).text)
    for name in ("receipt_rate", "delivery_rate", "waiting_rate", "temporary_error_rate",
                 "permanent_error_rate", "error_rate", "unsubscribe_rate",
                 "click_through_rate"):
        assert f'= {FORMULAS[name]}"' in page, name


def test_the_periods_csv_is_the_documents(any_site) -> None:
    site = any_site
    sent_campaign(site.smscope.db)
    client, _ = signed_in(site, "reader@example.com")
    answer = client.get("/stats.csv", params={"from": "2026-11-01", "to": "2026-11-30",
                                              "by": "week"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="stats-2026-11-01-2026-11-30-by-week.csv"' in \
        answer.headers["content-disposition"]
    expected = io.StringIO()
    write_periods_csv(expected, document(site, date(2026, 11, 1), date(2026, 11, 30), "week"))
    assert answer.content.decode("utf-8") == "\ufeff" + expected.getvalue()


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"from": "2026-02-30"}, "from", "“From” '2026-02-30' is not a date"),
    ({"to": "<script>x</script>"}, "to", "“To” '<script>x</script>' is not a date"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to", "swap them"),
    ({"by": "year"}, "by", "Group by day, week, month"),
    ({"from": "0001-01-01", "to": "9999-12-31"}, "from", "At most 3,660 days"),
    ({"from": "2026-11-01'; DROP TABLE stat_days; --"}, "from", "is not a date"),
])
def test_a_wrong_field_is_said_next_to_it(site, params, field, message) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/stats", params=params)
    assert page.status_code == 400
    assert message in field_error(page.text, field), page.text
    assert "<script>x" not in page.text and "Traceback" not in page.text
    assert 'id="totals"' not in page.text
    csv_answer = client.get("/stats.csv", params=params)
    assert csv_answer.status_code == 400 and "cannot be exported" in csv_answer.text


def test_the_statistics_pages_need_a_login(site) -> None:
    client = site.client()
    for path in ("/stats", "/stats.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def pdf_text(data: bytes) -> str:
    """The text of a PDF, read back with pypdf (what a reader of the file sees)."""
    from pypdf import PdfReader
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_and_the_print_layout_hold_the_ranges_figures(site) -> None:
    sent_campaign(site.smscope.db)
    first, last = date(2026, 10, 20), date(2026, 11, 30)
    client, _ = signed_in(site, "reader@example.com")
    query = {"from": first.isoformat(), "to": last.isoformat(), "by": "week"}
    page = client.get("/stats", params=query).text
    for link in ("/stats.csv?", "/stats.pdf?", "/stats/print?"):
        assert f'href="{link}from={first}&amp;to={last}&amp;by=week"' in page, link
    doc = document(site, first, last, "week")
    answer = client.get("/stats.pdf", params=query)
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert answer.headers["content-type"] == "application/pdf"
    assert (f'filename="stats-{first}-{last}-by-week.pdf"'
            in answer.headers["content-disposition"])
    text = pdf_text(answer.content)
    assert f"SMS statistics, {first} to {last}" in text
    assert f"{doc['totals']['recipients']:,}" in text
    assert all(period["period"] in text for period in doc["periods"])
    printed = client.get("/stats/print", params=query)
    assert printed.status_code == 200 and "default-src 'none'" in printed.headers[
        "content-security-policy"]
    assert "<svg" in printed.text and 'id="by-country"' in printed.text
    for row in doc["by_country"]:
        assert f"<td>{row['country']}</td>" in printed.text
    assert FORMULAS["receipt_rate"] in html.unescape(printed.text)


@pytest.mark.parametrize("path", ["/stats.pdf", "/stats/print"])
def test_an_export_of_a_wrong_range_is_a_400_page(site, path) -> None:
    client, _ = signed_in(site, "reader@example.com")
    answer = client.get(path, params={"from": "2026-11-30", "to": "2026-11-01"})
    assert answer.status_code == 400 and "cannot be exported" in answer.text
    assert "swap them" in answer.text


def test_sharing_the_statistics_mails_their_pdf(site, tmp_path, monkeypatch) -> None:
    from tests.reports.test_share import smtp_server
    from tests.web.test_campaign_pages import with_smtp
    monkeypatch.chdir(tmp_path)
    sent_campaign(site.smscope.db)
    reader, _ = signed_in(site, "reader@example.com")
    assert 'id="share"' not in reader.get("/stats").text  # read-only: no share form
    client, csrf = signed_in(site, "member@example.com")
    assert "No mail server is configured" in client.get("/stats").text
    query = {"from": "2026-10-20", "to": "2026-11-30", "by": "month"}
    with smtp_server() as (mailbox, port):
        with_smtp(site, port)
        page = client.get("/stats", params=query).text
        assert 'action="/stats/share"' in page and 'name="by" value="month"' in page
        answer = client.post("/stats/share", data={
            "csrf_token": csrf, **query, "addresses": "boss@example.com; nobody@example.com"})
    assert answer.status_code == 200 and "Report sent to boss@example.com" in answer.text
    assert "nobody@example.com" in answer.text and "550" in answer.text
    assert 'name="by" value="month"' in answer.text  # back on the same range
    [saved] = (tmp_path / "reports").glob("stats-2026-10-20-2026-11-30-by-month-*.pdf")
    assert saved.name in answer.text
    [(_, to, message)] = mailbox.received
    assert to == ["boss@example.com"]
    assert message["Subject"] == "SMS statistics, 2026-10-20 to 2026-11-30"
    [attached] = [part for part in message.iter_attachments()]
    assert attached.get_filename() == "stats-2026-10-20-2026-11-30-by-month.pdf"
    assert attached.get_content() == saved.read_bytes()
    body = message.get_body(("plain",)).get_content()
    totals = document(site, date(2026, 10, 20), date(2026, 11, 30), "month")["totals"]
    assert f"{totals['recipients']:,} recipients" in body


def test_sharing_the_statistics_needs_a_writer_and_the_csrf_token(site) -> None:
    reader, csrf = signed_in(site, "reader@example.com")
    refused = reader.post("/stats/share", data={"csrf_token": csrf,
                                                "addresses": "boss@example.com"})
    assert refused.status_code == 403
    member, _ = signed_in(site, "member@example.com")
    forged = member.post("/stats/share", data={"csrf_token": "wrong",
                                               "addresses": "boss@example.com"})
    assert forged.status_code == 403 and "reload the page" in forged.text
    client, good = signed_in(site, "member@example.com")
    bad = client.post("/stats/share", data={"csrf_token": good,
                                            "addresses": "not an address"})
    assert bad.status_code == 200 and "is not an email address" in bad.text
    wrong = client.post("/stats/share", data={"csrf_token": good, "from": "2026-13-01",
                                              "addresses": "boss@example.com"})
    assert wrong.status_code == 400 and "cannot be exported" in wrong.text
