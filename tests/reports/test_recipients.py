"""The recipients part of the campaign report: pages, filters, search, sorts, each
message's history, the streamed CSV export and the statistics CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smscope.db import Database
from smscope.errors import NotFoundError, UsageError
from smscope.reports import recipients as rec
from smscope.reports.campaign import campaign_report
from smscope.reports.exports import write_statistics_csv
from tests.campaigns.helpers import NOW, Engine, mo, number, receipt

PARIS = ZoneInfo("Europe/Paris")


def sent_campaign(db: Database) -> tuple[Engine, int, dict[str, str]]:
    """Six recipients: two named contacts in a list, four ad-hoc numbers, one of them
    blacklisted; receipts of every kind and a reply."""
    engine = Engine(db).setup()
    engine.contacts("vip", [{"number": number(1), "first_name": "Zoé", "last_name": "Éluard"},
                            {"number": number(2), "first_name": "=cmd|' /C calc'!A0",
                             "last_name": "Martin"}])
    with db.transaction() as session:
        from smscope.contacts import blacklist
        blacklist.add(session, number(6), reason="asked")
    campaign_id = engine.campaign(lists=["vip"], numbers=[number(3), number(4), number(5),
                                                          number(6)])
    ids = engine.send_all()
    engine.receipts([receipt(ids[number(1)], to=number(1)),
                     receipt(ids[number(2)], "UNDELIV", "001", to=number(2)),
                     receipt(ids[number(3)], "REJECTD", "000", to=number(3))],
                    NOW + timedelta(seconds=20))
    engine.replies([mo("Merci !", frm=number(1))], NOW + timedelta(minutes=1))
    return engine, campaign_id, ids


def page(db: Database, campaign_id: int, **kwargs: Any) -> Any:
    with db.session() as session:
        return rec.recipients_page(session, campaign_id, **kwargs)


def test_a_page_has_every_column_of_a_recipient(db: Database) -> None:
    _, campaign_id, _ = sent_campaign(db)
    rows = {r["number"]: r for r in page(db, campaign_id).items}
    assert len(rows) == 6
    zoe = rows[number(1)]
    assert (zoe["first_name"], zoe["last_name"], zoe["status"], zoe["category"]) == (
        "Zoé", "Éluard", "received", "delivered")
    assert (zoe["attempts"], zoe["segments"], zoe["cost"], zoe["reply"]) == (
        1, 1, Decimal(1), "Merci !")
    assert zoe["clicks"] == 0 and zoe["sent_at"] == NOW
    assert rows[number(2)]["category"] == "hard_bounce" and rows[number(2)]["error_code"]
    assert rows[number(6)]["status"] == "blacklisted" and rows[number(6)]["cost"] == 0


@pytest.mark.parametrize(("status", "expected"), [
    ("received", [1]), ("delivered", [1]), ("hard_bounce", [2]), ("pending", [4, 5]),
    ("unsubscribed", [6]), ("blacklisted", [6]), (" SENT ", [4, 5]),
])
def test_recipients_filter_by_status_or_category(db: Database, status: str,
                                                  expected: list[int]) -> None:
    _, campaign_id, _ = sent_campaign(db)
    assert sorted(r["number"] for r in page(db, campaign_id, status=status).items) == [
        number(i) for i in expected]


def test_search_finds_digits_of_the_number_or_part_of_the_name(db: Database) -> None:
    _, campaign_id, _ = sent_campaign(db)
    assert [r["number"] for r in page(db, campaign_id, search="zoé").items] == [number(1)]
    assert [r["number"] for r in page(db, campaign_id, search="mart").items] == [number(2)]
    tail = number(3)[-4:]
    assert [r["number"] for r in page(db, campaign_id, search=tail).items] == [number(3)]
    assert page(db, campaign_id, search="nobody").items == []
    assert page(db, campaign_id, search="%_").items == []


@pytest.mark.parametrize("sort", list(rec.SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_pages_through_every_recipient_once_in_order(
        db: Database, sort: str, descending: bool) -> None:
    _, campaign_id, _ = sent_campaign(db)
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        result = page(db, campaign_id, sort=sort, descending=descending, cursor=cursor,
                      limit=4 if sort == "id" else 1)
        seen.extend(result.items)
        cursor = result.next_cursor
        if cursor is None:
            break
    assert sorted(r["number"] for r in seen) == [number(i) for i in range(1, 7)]
    key = {"cost": "cost"}.get(sort, sort)
    values = [(r[key], r["id"]) for r in seen]
    assert values == sorted(values, reverse=descending)


def test_bad_filters_and_cursors_get_a_clear_error(db: Database) -> None:
    _, campaign_id, _ = sent_campaign(db)
    with pytest.raises(UsageError, match="unknown status or category 'deliverd'"):
        page(db, campaign_id, status="deliverd")
    with pytest.raises(UsageError, match="cannot sort by 'name'"):
        page(db, campaign_id, sort="name")
    with pytest.raises(UsageError, match="invalid cursor"):
        page(db, campaign_id, cursor="not-a-cursor")
    with pytest.raises(UsageError, match="limit"):
        page(db, campaign_id, limit=0)
    with pytest.raises(NotFoundError):
        page(db, 999)


def test_a_message_history_tells_everything_in_order(db: Database) -> None:
    _, campaign_id, ids = sent_campaign(db)
    zoe = next(r for r in page(db, campaign_id).items if r["number"] == number(1))
    with db.session() as session:
        history = rec.message_history(session, zoe["id"])
        with pytest.raises(NotFoundError, match="no message 999"):
            rec.message_history(session, 999)
    kinds = [e["kind"] for e in history["history"]]
    assert kinds == ["created", "submit", "status", "receipt", "status", "reply"]
    assert history["history"][0]["to"] == "queued"
    assert history["history"][1]["operator_id"] == ids[number(1)]
    assert history["history"][3]["stat"] == "DELIVRD"
    assert history["history"][4]["to"] == "received"
    assert history["first_name"] == "Zoé" and history["text"] == "Hello"


def test_the_csv_export_streams_in_batches_and_is_safe_in_a_spreadsheet(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _, campaign_id, _ = sent_campaign(db)
    monkeypatch.setattr(rec, "_EXPORT_BATCH", 4)  # several batches
    stream = io.StringIO()
    with db.session() as session:
        count = rec.write_recipients_csv(stream, rec.iter_recipients(session, campaign_id),
                                         PARIS)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert count == len(rows) == 6
    assert list(rows[0]) == list(rec.CSV_COLUMNS)
    by_number = {r["number"]: r for r in rows}
    assert set(by_number) == {number(i) for i in range(1, 7)}  # E.164 kept as is
    assert by_number[number(2)]["first_name"] == "'=cmd|' /C calc'!A0"
    assert by_number[number(1)]["status_updated_at"] == "2026-11-24T11:00:20+01:00"
    assert by_number[number(1)]["reply"] == "Merci !"
    with db.session() as session:
        hard = list(rec.iter_recipients(session, campaign_id, status="hard_bounce"))
    assert [r["number"] for r in hard] == [number(2)]


def test_the_report_has_lists_delivery_times_and_timeline(db: Database) -> None:
    engine, campaign_id, _ = sent_campaign(db)
    report = engine.report(campaign_id)
    (vip,) = report["by_list"]
    assert (vip["name"], vip["recipients"], vip["counts"]["delivered"],
            vip["counts"]["hard_bounce"]) == ("vip", 2, 1, 1)
    assert vip["rates"]["receipt_rate"] == 0.5
    curve = report["delivery_times"]
    within_30 = next(p for p in curve if p["within_seconds"] == 30)
    assert (within_30["received"], within_30["cumulative"], within_30["share"]) == (1, 1, 1.0)
    assert curve[-1]["within_seconds"] is None and curve[-1]["cumulative"] == 1
    assert [e["kind"] for e in report["timeline"]][:2] == ["created", "started"]
    assert report["rates"]["click_through_rate"] == 0.0


def test_the_statistics_csv_has_every_figure_with_its_formula(db: Database) -> None:
    _, campaign_id, _ = sent_campaign(db)
    with db.session() as session:
        report = campaign_report(session, campaign_id)
    stream = io.StringIO()
    count = write_statistics_csv(stream, report)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert count == len(rows)
    figures = {(r["section"], r["name"]): r for r in rows}
    assert figures[("category", "recipients")]["value"] == "6"
    delivered = figures[("category", "delivered")]
    assert (delivered["value"], delivered["rate"]) == ("1", f"{1 / 6:.4f}")
    assert "recipients" in delivered["formula"]
    assert figures[("status", "blacklisted")]["value"] == "1"
    assert figures[("list:vip", "recipients")]["value"] == "2"
    assert figures[("figure", "replies")]["value"] == "1"
    assert figures[("delivery_time", "within 30 s")]["rate"] == "1.0000"
    # an empty campaign: every rate defined
    engine = Engine(db)
    engine.contacts("nobody", [])
    empty = engine.campaign(lists=["nobody"], send=False, name="empty")
    with db.session() as session:
        blank = campaign_report(session, empty)
    assert write_statistics_csv(io.StringIO(), blank) > 0
    assert all(v == 0 for v in blank["rates"].values())
