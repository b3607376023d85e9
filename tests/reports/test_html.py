"""The campaign report as HTML: a print page made of fragments the web UI reuses, user
input escaped, dates in the account's zone, credits without useless zeros."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from smscope.db import Database
from smscope.reports import html
from smscope.reports.campaign import campaign_report
from smscope.reports.figures import FORMULAS
from smscope.reports.recipients import iter_recipients
from smscope.reports.stats import statistics
from tests.campaigns.helpers import number
from tests.reports.sample import NAME, PARIS, sent_campaign

GENERATED = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def page(db: Database, campaign_id: int, **kwargs: object) -> str:
    with db.session() as session:
        return html.render_report_html(session, campaign_id,
                                       **{"zone": PARIS, "generated_at": GENERATED,
                                          **kwargs})  # type: ignore[arg-type]


def test_the_page_has_every_part_of_the_report_with_its_charts(sqlite_db: Database) -> None:
    text = page(sqlite_db, sent_campaign(sqlite_db))
    for heading in ("Summary", "Statistics", "By list", "Delivery times", "Timeline",
                    "Recipients"):
        assert f">{heading}</h2>" in text
    assert text.count("<svg ") == 3  # categories, statuses, delivery times
    assert "Clients fidèles" in text and "Müller" in text and "€" in text
    for formula in ("receipt_rate", "waiting_rate", "temporary_error_rate",
                    "permanent_error_rate", "error_rate", "unsubscribe_rate",
                    "delivery_rate", "click_through_rate"):
        assert FORMULAS[formula].replace("'", "&#39;") in text
    assert "@page" in text and "counter(pages)" in text and "@media print" in text


def test_user_input_is_escaped(sqlite_db: Database) -> None:
    campaign_id = sent_campaign(
        sqlite_db, name="<script>alert('name')</script>",
        text="Hi <b>{first_name}</b> & <script>alert(1)</script>",
        first_name="<img src=x>", reply="<script>alert(3)</script>")
    text = page(sqlite_db, campaign_id)
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in text
    assert "Hi &lt;b&gt;{first_name}&lt;/b&gt; &amp; &lt;script&gt;" in text
    assert "&lt;img src=x&gt; Müller" in text
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in text


def test_dates_are_in_the_account_zone_with_their_offset(sqlite_db: Database) -> None:
    campaign_id = sent_campaign(sqlite_db)
    # created at 10:00 UTC: 11:00 in Paris, 05:00 in New York
    assert "2026-11-24T11:00:00+01:00" in page(sqlite_db, campaign_id)
    new_york = page(sqlite_db, campaign_id, zone=ZoneInfo("America/New_York"))
    assert "2026-11-24T05:00:00-05:00" in new_york
    assert "Generated 2026-11-25T03:30:00-05:00 (America/New_York)" in new_york


def test_credits_and_counts_are_written_for_people(sqlite_db: Database) -> None:
    text = page(sqlite_db, sent_campaign(sqlite_db, extra=996))
    # 1,000 recipients of one UCS-2 segment at 1 credit: no "1000.0000"
    assert ">1,000<" in text and "1000 credits" in text and "1000.0000" not in text


def test_every_fragment_renders_on_its_own(sqlite_db: Database) -> None:
    campaign_id = sent_campaign(sqlite_db)
    with sqlite_db.session() as session:
        report = campaign_report(session, campaign_id)
        rows = list(iter_recipients(session, campaign_id))
    for name in html.FRAGMENTS:
        fragment = html.render_fragment(name, report=report, zone=PARIS, recipients=rows)
        assert fragment.lstrip().startswith("<section class=\"report-section")
        assert fragment.rstrip().endswith("</section>")
    css = html.render_report_css()
    assert ".report-swatch-delivered { background: #009E73; }" in css


def test_the_recipients_listing_keeps_its_columns(sqlite_db: Database) -> None:
    header = html.listing_header()
    row = {"number": number(1), "first_name": "Zoë", "last_name": "Ñúñez " * 10,
           "status": "permanent_error_absence", "status_updated_at": GENERATED,
           "attempts": 2, "error_code": "001", "segments": 1, "cost": None, "clicks": 3,
           "reply": "ok\nthen\tbye"}
    line = html.listing_line(row, PARIS)
    assert line.startswith(f"{number(1):<16}  Zoë Ñúñez Ñúñez")
    assert "…" in line and "Permanent error: absence" in line
    assert "2026-11-25T09:30:00+01:00" in line and line.endswith("ok then bye")
    # every column starts where its header does
    assert line.index("Permanent") == header.index("status ")
    assert line.index("  001 ") + 2 == header.index("error code")
    wide = html.listing_line({**row, "first_name": "東京", "last_name": "太郎"}, PARIS)
    assert wide.index("Permanent") == header.index("status ") - 4  # 2 columns each


def test_beyond_the_row_limit_the_page_says_where_every_recipient_is(
        sqlite_db: Database) -> None:
    campaign_id = sent_campaign(sqlite_db)
    text = page(sqlite_db, campaign_id, row_limit=3)
    assert (f"This report lists the first 3 of 4 recipients. Every recipient is in the "
            f"CSV export: <code>smscope campaign export {campaign_id} --csv FILE</code>"
            ) in text
    assert number(3) in text and number(4) not in text
    assert "lists the first" not in page(sqlite_db, campaign_id)


def test_the_periods_fragment_shows_a_statistics_document(sqlite_db: Database) -> None:
    sent_campaign(sqlite_db)
    with sqlite_db.session() as session:
        stats = statistics(session, date_from=date(2026, 11, 23), date_to=date(2026, 11, 25),
                           zone=PARIS)
    fragment = html.render_fragment("periods.html", stats=stats)
    assert "Per day, 2026-11-23 to 2026-11-25" in fragment
    assert fragment.count("<svg ") == 1
    assert re.search(r"<td>2026-11-24</td><td class=\"num\">4</td>", fragment)
    assert NAME not in fragment
