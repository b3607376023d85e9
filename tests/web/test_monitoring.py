"""The monitoring page (/messages): the search of ``smscope messages search`` with its
filters as GET parameters, keyset pages, the paused search, the streamed CSV export
(the CLI's bytes), one message's history, and bad input answered next to its field."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from smscope.db.tables import Message
from smscope.reports import search
from smscope.reports.search import MessageFilters, export_csv, search_messages
from smscope.statuses import Status
from tests.campaigns.helpers import number
from tests.reports.test_search import T0, add_messages, add_world
from tests.web.conftest import signed_in

ROW_ID = re.compile(r'<a href="/messages/(\d+)" title="this message\'s history">')


def ids_on(page: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(page)]


def link(page: str, element_id: str) -> str:
    found = re.search(rf'<a href="([^"]+)" id="{element_id}"', page)
    assert found, element_id
    return html.unescape(found.group(1))


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def library_ids(site, filters: MessageFilters, cursor: str | None = None,
                limit: int = 50) -> tuple[list[int], str | None]:
    config = site.smscope.config
    with site.smscope.db.session() as session:
        page = search_messages(session, filters, cursor=cursor, limit=limit,
                               zone=config.zone, default_region=config.default_region)
    return [m["id"] for m in page.items], page.next_cursor


def test_an_empty_account_says_so(site) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/messages")
    assert page.status_code == 200
    assert 'id="no-messages"' in page.text and "No message yet" in page.text
    assert 'aria-current="page">Monitoring' in page.text


def test_filters_are_get_parameters_and_give_the_searchs_rows(any_site) -> None:
    site = any_site
    world = add_world(site.smscope.db)
    add_messages(site.smscope.db, [
        {"campaign_id": world["shop"], "connector_id": world["op-a"], "text": "Soldes 1"},
        {"campaign_id": world["shop"], "connector_id": world["op-a"], "text": "Soldes 2",
         "status": "permanent_error_absence", "category": "hard_bounce"},
        {"campaign_id": world["news"], "connector_id": world["op-b"], "sender": "NEWS",
         "text": "Les nouvelles", "number": number(2)},
        {"campaign_id": world["shop"], "connector_id": world["op-a"], "text": "soldes 3",
         "created_at": T0 - timedelta(days=3)},
    ])
    client, _ = signed_in(site, "reader@example.com")
    cases = [
        ({}, MessageFilters()),
        ({"campaign": str(world["shop"])}, MessageFilters(campaign_id=world["shop"])),
        ({"sender": "NEWS"}, MessageFilters(sender="NEWS")),
        ({"number": "+33 6 10 00 00 02"}, MessageFilters(number="+33610000002")),
        ({"text": "SOLDES"}, MessageFilters(text="SOLDES")),
        ({"category": "hard_bounce"}, MessageFilters(category="hard_bounce")),
        ({"status": "received", "connector": "op-a"},
         MessageFilters(status="received", connector="op-a")),
        ({"from": "2026-11-20", "to": "2026-11-20"},
         MessageFilters.from_options(date_from="2026-11-20", date_to="2026-11-20")),
    ]
    for params, filters in cases:
        page = client.get("/messages", params=params)
        assert page.status_code == 200, (params, page.text)
        expected, _ = library_ids(site, filters)
        assert expected, params  # every case finds something
        assert ids_on(page.text) == expected, params
        # the form shows the search it answers (a bookmark gives it back)
        for name, value in params.items():
            assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"|'
                             rf'<option value="{re.escape(value)}" selected>', page.text) or \
                f"<option selected>{value}</option>" in page.text, (name, value)


def test_next_pages_follow_the_keyset_and_the_first_page_link_goes_back(site) -> None:
    world = add_world(site.smscope.db)
    add_messages(site.smscope.db, [{"campaign_id": world["shop"], "text": f"Hello {i}",
                                    "created_at": T0 + timedelta(seconds=i % 7)}
                                   for i in range(120)])
    client, _ = signed_in(site, "member@example.com")
    filters = MessageFilters(campaign_id=world["shop"])
    first = client.get("/messages", params={"campaign": world["shop"]}).text
    expected, cursor = library_ids(site, filters)
    assert ids_on(first) == expected and len(expected) == 50
    assert 'id="first-page"' not in first
    seen = list(expected)
    url = link(first, "next-page")
    assert f"campaign={world['shop']}" in url and f"cursor={cursor}" in url
    for _ in range(2):
        page = client.get(url).text
        expected, cursor = library_ids(site, filters, cursor)
        assert ids_on(page) == expected
        seen += expected
        assert link(page, "first-page") == f"/messages?campaign={world['shop']}"
        assert 'data-history-back hidden' in page  # "previous" only with the script
        if cursor is None:
            assert 'id="next-page"' not in page
            break
        url = link(page, "next-page")
    assert len(seen) == 120 and len(set(seen)) == 120


def test_a_rare_text_pauses_the_search_and_says_how_far_back(site, monkeypatch) -> None:
    monkeypatch.setattr(search, "SCAN_LIMIT", 300)
    add_messages(site.smscope.db, [{"text": "needle in the haystack",
                                    "created_at": T0 - timedelta(hours=2)}])
    add_messages(site.smscope.db, [{"text": f"hay {i}", "created_at": T0 + timedelta(seconds=i)}
                                   for i in range(1000)])
    client, _ = signed_in(site, "member@example.com")
    page = client.get("/messages", params={"text": "needle"}).text
    assert ids_on(page) == [] and 'id="searched-to"' in page
    assert "No match yet. Searched the messages created back to 2026-11-20 10:" in page
    assert 'id="no-messages"' not in page
    found, hops = [], 0
    while not found:
        hops += 1
        assert hops < 10
        page = client.get(link(page, "continue")).text
        found = ids_on(page)
    with site.smscope.db.session() as session:
        needle = session.scalar(select(Message.id).where(Message.text.like("needle%")))
    assert found == [needle]


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"from": "2026-13-01"}, "from", "“From” '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    ({"to": "yesterday"}, "to", "“To” 'yesterday' is not a date"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to", "swap them"),
    ({"status": "lost"}, "status", "“Status” 'lost' is unknown; use one of: queued"),
    ({"category": "awful"}, "category", "“Category” 'awful' is unknown"),
    ({"status": "received", "category": "error"}, "category",
     "is in the category delivered, not error"),
    ({"campaign": "999"}, "campaign", "There is no campaign 999."),
    ({"campaign": "12abc"}, "campaign", "is not a campaign's number"),
    ({"campaign": "-1"}, "campaign", "is not a campaign's number"),
    ({"campaign": str(2**70)}, "campaign", "is not a campaign's number"),
    ({"connector": "nowhere"}, "connector", "no connector has this name"),
    ({"text": "x" * 201}, "text", "At most 200 characters"),
])
def test_a_wrong_filter_is_said_next_to_its_field(site, params, field, message) -> None:
    add_messages(site.smscope.db, [{}])
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/messages", params=params)
    assert page.status_code == 400
    assert message in field_error(page.text, field), page.text
    assert f'name="{field}"' in page.text and 'aria-invalid="true"' in page.text
    assert 'id="form-errors"' in page.text and 'id="messages"' not in page.text
    assert "Traceback" not in page.text
    csv_answer = client.get("/messages.csv", params=params)
    assert csv_answer.status_code == 400 and "cannot be exported" in csv_answer.text


def test_every_wrong_field_is_told_at_once(site) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/messages", params={"from": "nope", "status": "bad",
                                           "campaign": "x"}).text
    assert all(field_error(page, f) for f in ("from", "status", "campaign"))
    assert "Fix the fields marked below: From, Campaign, Status." in page


@pytest.mark.parametrize("cursor", ["garbage", "a2V5czox", "////", "a" * 900])
def test_a_damaged_cursor_is_a_clear_400(site, cursor) -> None:
    add_messages(site.smscope.db, [{}])
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/messages", params={"cursor": cursor, "sender": "SHOP"})
    assert page.status_code == 400 and 'id="cursor-error"' in page.text
    assert "Start again from the first page" in page.text
    assert 'href="/messages?sender=SHOP">First page' in page.text


@pytest.mark.parametrize("text", ["'; DROP TABLE messages; --", "<script>alert(1)</script>",
                                  "%_\\", "\" OR 1=1 --", "{{ 7*7 }}", "\x00"])
def test_injection_looking_text_is_only_text(any_site, text) -> None:
    site = any_site
    stored = text.replace("\x00", "")  # PostgreSQL stores no NUL
    add_messages(site.smscope.db, [{"text": f"before {stored} after"}, {"text": "other"}])
    client, _ = signed_in(site, "reader@example.com")
    page = client.get("/messages", params={"text": text, "sender": text})
    assert "<script>alert" not in page.text and "Traceback" not in page.text
    if "\x00" in text:  # a NUL cannot be stored, so nothing has one: said plainly
        assert page.status_code == 400
        assert "NUL" in field_error(page.text, "text")
    else:
        assert page.status_code == 200, page.text
        assert f'value="{escape(text)}"' in page.text  # shown back as typed, escaped
        assert ids_on(page.text) == []  # no sender is called that
        plain = client.get("/messages", params={"text": text})
        assert plain.status_code == 200 and len(ids_on(plain.text)) == 1
    with site.smscope.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_the_csv_export_is_the_clis_file_streamed(any_site, tmp_path) -> None:
    site = any_site
    world = add_world(site.smscope.db)
    add_messages(site.smscope.db, [
        {"campaign_id": world["shop"], "text": f"=HYPERLINK(\"x\") {i}",
         "credits": Decimal("0.065"), "created_at": T0 + timedelta(seconds=i)}
        for i in range(search.EXPORT_BATCH + 30)])
    add_messages(site.smscope.db, [{"campaign_id": world["news"], "sender": "NEWS"}])
    client, _ = signed_in(site, "reader@example.com")
    answer = client.get("/messages.csv", params={"campaign": world["shop"]})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="messages-')
    config = site.smscope.config
    with site.smscope.db.session() as session:
        export_csv(session, MessageFilters(campaign_id=world["shop"]), tmp_path / "cli.csv",
                   zone=config.zone, default_region=config.default_region)
    assert answer.content == (tmp_path / "cli.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == search.EXPORT_BATCH + 30
    assert rows[0]["text"].startswith("'=HYPERLINK")  # neutralised


def test_a_message_has_its_history_page(site) -> None:
    from tests.reports.sample import sent_campaign
    campaign_id = sent_campaign(site.smscope.db)
    client, _ = signed_in(site, "reader@example.com")
    listing = client.get("/messages", params={"campaign": campaign_id,
                                              "category": "hard_bounce"}).text
    [message_id] = ids_on(listing)
    page = client.get(f"/messages/{message_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"<h1>Message {message_id} <small>to {number(2)} (François Lefèvre)" in text
    assert "stat UNDELIV, err 001 → " + Status.PERMANENT_ERROR_ABSENCE.label in text
    assert ">submit<" in text and ">receipt<" in text
    assert f'href="/messages?campaign={campaign_id}"' in page.text


@pytest.mark.parametrize("path", ["/messages/abc", "/messages/0", "/messages/999999",
                                  f"/messages/{2**70}", "/messages/1.5"])
def test_a_missing_message_is_a_404_page(site, path) -> None:
    client, _ = signed_in(site, "reader@example.com")
    page = client.get(path)
    assert page.status_code == 404 and "<html" in page.text and "Traceback" not in page.text


def test_the_pages_need_a_login(site) -> None:
    client = site.client()
    for path in ("/messages", "/messages.csv", "/messages/1"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
