"""Statistics over a date range (CONTRACTS §11): periods of the account's zone, breakdowns
by country, sender and connector, all read from the statistics counters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from smscope.campaigns.counters import DAYS_SETTING, rebuild_days
from smscope.db import Database
from smscope.db.tables import Setting, StatDay
from smscope.errors import UsageError
from smscope.reports.stats import ensure_days, period_of, statistics
from tests.campaigns.helpers import Engine, number, receipt

PARIS = ZoneInfo("Europe/Paris")
ROW_KEYS = {"recipients", "sent", "received", "pending", "soft_bounce", "hard_bounce",
            "errors", "not_sent", "unsubscribes", "replies", "clicks", "rates"}
RATE_KEYS = {"receipt_rate", "waiting_rate", "temporary_error_rate", "permanent_error_rate",
             "error_rate", "unsubscribe_rate", "delivery_rate"}


def stats(db: Database, start: date, end: date, by: str = "day",
          zone: ZoneInfo = PARIS) -> dict:  # type: ignore[type-arg]
    """The document, read both ways: from the quarter hours, and from the days of
    ``zone`` (made from them) — which must agree."""
    with db.transaction() as session:
        session.execute(delete(Setting).where(Setting.key == DAYS_SETTING))
    with db.session() as session:
        from_quarters = statistics(session, date_from=start, date_to=end, by=by, zone=zone)
    assert ensure_days(db, zone) is True
    assert ensure_days(db, zone) is False  # kept in that zone now
    with db.session() as session:
        from_days = statistics(session, date_from=start, date_to=end, by=by, zone=zone)
    assert from_days == from_quarters
    return from_days


def stored_days(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as session:
        return sorted(tuple(row) for row in session.execute(select(
            StatDay.day, StatDay.campaign_id, StatDay.region, StatDay.sender,
            StatDay.connector_id, StatDay.name, StatDay.value).where(StatDay.value != 0)))


def test_days_kept_with_every_change_equal_the_days_made_from_the_quarter_hours(
        db: Database) -> None:
    engine = Engine(db).setup()
    assert ensure_days(db, PARIS)  # kept from now on, by every writer
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    engine.contacts("vip", [{"number": number(1)}])
    engine.campaign(lists=["vip"], numbers=[number(2), number(3)], now=late)
    ids = engine.send_all(late)
    engine.receipts([receipt(ids[number(1)], to=number(1)),
                     receipt(ids[number(2)], "UNDELIV", "001", to=number(2))],
                    late + timedelta(minutes=2))
    engine.campaign(numbers=[number(4)], name="next", now=late + timedelta(hours=2))
    kept = stored_days(db)
    assert {row[0] for row in kept} == {date(2026, 11, 25)}
    with db.transaction() as session:
        rebuild_days(session, PARIS)
    assert stored_days(db) == kept
    # another zone: made again, in that zone's days
    assert ensure_days(db, ZoneInfo("America/New_York"))
    assert {row[0] for row in stored_days(db)} == {date(2026, 11, 24)}


def test_a_message_belongs_to_the_day_it_was_created_in_the_account_zone(
        db: Database) -> None:
    engine = Engine(db).setup()
    # 23:30 UTC on the 24th is 00:30 on the 25th in Paris
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    engine.campaign(numbers=[number(1), number(2)], now=late)
    ids = engine.send_all(late)
    engine.receipts([receipt(ids[number(1)], to=number(1))], late + timedelta(minutes=1))
    paris = stats(db, date(2026, 11, 24), date(2026, 11, 25))
    assert [(p["period"], p["recipients"]) for p in paris["periods"]] == [
        ("2026-11-24", 0), ("2026-11-25", 2)]
    new_york = stats(db, date(2026, 11, 24), date(2026, 11, 25),
                     zone=ZoneInfo("America/New_York"))
    assert [(p["period"], p["recipients"]) for p in new_york["periods"]] == [
        ("2026-11-24", 2), ("2026-11-25", 0)]
    day = paris["periods"][1]
    assert (day["sent"], day["received"], day["pending"]) == (2, 1, 1)
    assert day["rates"]["receipt_rate"] == 0.5 and day["rates"]["delivery_rate"] == 0.5


def test_a_zone_three_quarters_of_an_hour_off_utc_splits_days_exactly(db: Database) -> None:
    engine = Engine(db).setup()
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    # 18:14 UTC is 23:59 local; 18:15 UTC is midnight
    engine.campaign(numbers=[number(1)], now=datetime(2026, 11, 24, 18, 14, tzinfo=UTC))
    engine.campaign(numbers=[number(2), number(3)], name="next",
                    now=datetime(2026, 11, 24, 18, 15, tzinfo=UTC))
    document = stats(db, date(2026, 11, 24), date(2026, 11, 25), zone=kathmandu)
    assert [p["recipients"] for p in document["periods"]] == [1, 2]
    assert document["timezone"] == "Asia/Kathmandu"


def test_weeks_and_months_group_the_days_and_empty_periods_are_listed(db: Database) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)], now=datetime(2026, 11, 30, 10, tzinfo=UTC))
    engine.campaign(numbers=[number(2)], name="dec", now=datetime(2026, 12, 1, 10, tzinfo=UTC))
    weeks = stats(db, date(2026, 11, 16), date(2026, 12, 6), by="week")
    assert [(p["period"], p["recipients"]) for p in weeks["periods"]] == [
        ("2026-W47", 0), ("2026-W48", 0), ("2026-W49", 2)]
    months = stats(db, date(2026, 11, 1), date(2026, 12, 31), by="month")
    assert [(p["period"], p["recipients"]) for p in months["periods"]] == [
        ("2026-11", 1), ("2026-12", 1)]
    assert period_of(date(2027, 1, 1), "week") == "2026-W53"


def test_breakdowns_by_country_sender_and_connector(db: Database) -> None:
    engine = Engine(db).setup()
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    engine.campaign(numbers=[number(1), number(2), "+34612345678"], now=now)
    engine.campaign(numbers=[number(3)], sender="OTHER", name="other", now=now)
    document = stats(db, date(2026, 11, 24), date(2026, 11, 24))
    assert [(r["country"], r["recipients"]) for r in document["by_country"]] == [
        ("FR", 3), ("ES", 1)]
    assert [(r["sender"], r["recipients"]) for r in document["by_sender"]] == [
        ("SHOP", 3), ("OTHER", 1)]
    assert [(r["connector"], r["recipients"]) for r in document["by_connector"]] == [
        ("sim", 4)]
    assert document["totals"]["recipients"] == 4


def test_totals_are_the_campaign_reports_figures(db: Database) -> None:
    engine = Engine(db).setup()
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    campaign_id = engine.campaign(numbers=[number(1), number(2), number(3)], now=now)
    ids = engine.send_all(now)
    engine.receipts([receipt(ids[number(1)], to=number(1)),
                     receipt(ids[number(2)], "UNDELIV", "001", to=number(2))], now)
    report = engine.report(campaign_id)
    totals = stats(db, date(2026, 11, 24), date(2026, 11, 24))["totals"]
    assert totals["recipients"] == report["recipients"] == 3
    assert totals["hard_bounce"] == report["counts"]["hard_bounce"] == 1
    assert totals["received"] == report["counts"]["delivered"] == 1
    assert totals["rates"] == report["rates"]


def test_an_empty_range_has_every_rate_defined(db: Database) -> None:
    Engine(db).setup()
    document = stats(db, date(2026, 1, 1), date(2026, 1, 3))
    assert set(document) == {"from", "to", "by", "timezone", "totals", "periods",
                             "by_country", "by_sender", "by_connector"}
    assert set(document["totals"]) >= ROW_KEYS and set(document["totals"]["rates"]) >= RATE_KEYS
    assert all(v == 0 for v in document["totals"]["rates"].values())
    assert len(document["periods"]) == 3 and document["by_country"] == []


@pytest.mark.parametrize(("start", "end", "by", "message"), [
    (date(2026, 11, 25), date(2026, 11, 24), "day", "after --to"),
    (date(2026, 11, 24), date(2026, 11, 25), "year", "--by must be one of"),
    (date(1, 1, 1), date(9999, 12, 31), "day", "at most 3,660 days"),
])
def test_bad_ranges_get_a_clear_error(db: Database, start: date, end: date, by: str,
                                      message: str) -> None:
    with pytest.raises(UsageError, match=message):
        stats(db, start, end, by=by)


def test_stats_command_prints_the_document_and_refuses_bad_dates(smscope: Any) -> None:
    run = smscope("stats", "--from", "2026-11-01", "--to", "2026-11-03", "--json")
    assert run.code == 0, run.err
    assert [p["period"] for p in run.json()["periods"]] == [
        "2026-11-01", "2026-11-02", "2026-11-03"]
    table = smscope("stats", "--from", "2026-11-01", "--to", "2026-11-03")
    assert table.code == 0 and "no messages were created in this range" in table.out
    bad = smscope("stats", "--from", "2026-13-01")
    assert bad.code == 2 and "YYYY-MM-DD" in bad.err
    reversed_ = smscope("stats", "--from", "2026-11-03", "--to", "2026-11-01")
    assert reversed_.code == 2 and "swap them" in reversed_.err


def test_a_long_range_by_day_is_summed_by_quarter_hour_and_agrees_with_the_days(
        db: Database) -> None:
    """Beyond a few months of periods the quarter hours are summed by bucket, not by a
    SQL ``CASE`` per period: the same figures either way."""
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)], now=datetime(2026, 6, 1, 22, 30, tzinfo=UTC))
    engine.campaign(numbers=[number(2), number(3)], name="later",
                    now=datetime(2026, 11, 24, 9, tzinfo=UTC))
    document = stats(db, date(2026, 5, 1), date(2026, 11, 30))
    assert len(document["periods"]) == 214
    busy = {p["period"]: p["recipients"] for p in document["periods"] if p["recipients"]}
    assert busy == {"2026-06-02": 1, "2026-11-24": 2}  # 22:30 UTC is 00:30 in Paris


def test_stats_csv_writes_the_periods_with_their_rates(smscope: Any, tmp_path: Any) -> None:
    from smscope.reports.exports import PERIODS_COLUMNS

    run = smscope("stats", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "week",
                  "--csv", str(tmp_path / "periods.csv"), "--json")
    assert run.code == 0, run.err
    assert run.json() == {"file": str(tmp_path / "periods.csv"), "rows": 6}
    data = (tmp_path / "periods.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(PERIODS_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == [
        "2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    assert lines[1].endswith(",0,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000")
    unwritable = smscope("stats", "--csv", str(tmp_path / "missing" / "x.csv"))
    assert unwritable.code == 1 and "cannot write" in unwritable.err


def test_stats_pdf_writes_the_statistics_with_the_csv_or_alone(smscope: Any,
                                                               tmp_path: Any) -> None:
    from pypdf import PdfReader

    pdf = tmp_path / "stats.pdf"
    run = smscope("stats", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "week",
                  "--pdf", str(pdf), "--json")
    assert run.code == 0, run.err
    assert run.json() == {"file": str(pdf), "pages": len(PdfReader(pdf).pages)}
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "SMS statistics, 2026-11-01 to 2026-11-30" in text and "2026-W48" in text
    both = smscope("stats", "--from", "2026-11-01", "--to", "2026-11-30", "--pdf",
                   str(pdf), "--csv", str(tmp_path / "p.csv"), "--json")
    assert both.code == 0, both.err
    assert set(both.json()) == {"csv", "pdf"} and both.json()["csv"]["rows"] == 30
    told = smscope("stats", "--pdf", str(pdf))
    assert told.code == 0 and f"statistics written to {pdf}" in told.out.replace("\n", "")
    unwritable = smscope("stats", "--pdf", str(pdf / "under-a-file.pdf"))
    assert unwritable.code == 1 and "cannot write the PDF" in unwritable.err
