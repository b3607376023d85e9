"""Monitoring search of every message: filters, days of the account's zone, keyset pages,
the streamed CSV export, clear errors, and the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from smscope.campaigns import service
from smscope.db import Database
from smscope.db.tables import Campaign, Connector, Message
from smscope.errors import NotFoundError, UsageError
from smscope.pagination import encode_cursor, encode_keys
from smscope.reports import search
from smscope.reports.search import ITEM_KEYS, MessageFilters, search_messages
from tests.campaigns.helpers import NOW, Engine, number, receipt

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- data


def add_world(db: Database) -> dict[str, int]:
    """Two connectors and two campaigns (SHOP through op-a, NEWS through op-b)."""
    with db.transaction() as session:
        a = Connector(name="op-a", type="simulator")
        b = Connector(name="op-b", type="simulator")
        session.add_all([a, b])
        session.flush()
        shop = Campaign(name="shop", sender="SHOP", text="Hello", connector_id=a.id,
                        state="completed")
        news = Campaign(name="news", sender="NEWS", text="News", connector_id=b.id,
                        state="completed")
        session.add_all([shop, news])
        session.flush()
        return {"op-a": a.id, "op-b": b.id, "shop": shop.id, "news": news.id}


def add_messages(db: Database, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Messages with sensible defaults; their ids, in the order given."""
    defaults = {"campaign_id": None, "kind": "campaign", "number": number(1), "region": "FR",
                "sender": "SHOP", "text": "Hello", "text_hash": "x" * 32,
                "encoding": "GSM-7", "segments": 1, "credits": Decimal(1),
                "connector_id": None, "status": "received", "category": "delivered",
                "created_at": T0, "status_updated_at": T0, "sent_at": T0}
    with db.transaction() as session:
        return list(session.execute(
            insert(Message).returning(Message.id, sort_by_parameter_order=True),
            [{**defaults, **row} for row in rows]).scalars())


def find(db: Database, zone: ZoneInfo = PARIS, default_region: str | None = "FR",
         **filters: Any) -> list[int]:
    """Ids of every message matching ``filters``, in the search's order (all pages)."""
    with db.session() as session:
        return [m["id"] for m in search.iter_messages(
            session, MessageFilters(**filters), zone=zone, default_region=default_region)]


def page(db: Database, filters: MessageFilters | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("zone", PARIS)
    with db.session() as session:
        return search_messages(session, filters or MessageFilters(), **kwargs)


def every_page(db: Database, limit: int, **filters: Any) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        result = page(db, MessageFilters(**filters), cursor=cursor, limit=limit)
        pages.append([m["id"] for m in result.items])
        cursor = result.next_cursor
        if cursor is None:
            return pages


# --------------------------------------------------------------------------- items & order


def test_an_item_has_exactly_the_contract_keys(db: Database) -> None:
    world = add_world(db)
    [mid] = add_messages(db, [{"campaign_id": world["shop"], "connector_id": world["op-a"],
                               "credits": Decimal("2.5"), "segments": 2, "text": "Héllo",
                               "status": "expired", "category": "soft_bounce"}])
    [item] = page(db).items
    assert tuple(item) == ITEM_KEYS
    assert item == {
        "id": mid, "campaign_id": world["shop"], "sender": "SHOP", "number": number(1),
        "text": "Héllo", "segments": 2, "credits": Decimal("2.5"), "connector": "op-a",
        "status": "expired", "category": "soft_bounce", "created_at": T0, "sent_at": T0,
        "status_updated_at": T0}
    from smscope.output import dumps

    assert json.loads(dumps(item))["created_at"] == "2026-11-20T10:00:00Z"


def test_newest_first_by_creation_time_then_id(db: Database) -> None:
    # the second row is created later but written first: creation time decides
    ids = add_messages(db, [{"created_at": T0}, {"created_at": T0 + timedelta(hours=1)},
                            {"created_at": T0}, {"created_at": T0 - timedelta(hours=1)}])
    assert find(db) == [ids[1], ids[2], ids[0], ids[3]]


def test_pages_cover_every_message_once_even_across_equal_creation_times(
        db: Database) -> None:
    # a fan-out gives a campaign's messages one creation time: pages must cut inside it
    moments = [T0 + timedelta(minutes=i // 25) for i in range(110)]
    ids = add_messages(db, [{"created_at": m} for m in moments])
    expected = [i for _, i in sorted(zip(moments, ids, strict=True), reverse=True)]
    pages = every_page(db, 7)
    assert [i for p in pages for i in p] == expected
    assert all(len(p) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 7
    assert find(db) == expected


def test_the_last_full_page_has_no_next_cursor(db: Database) -> None:
    add_messages(db, [{} for _ in range(6)])
    first = page(db, limit=3)
    second = page(db, cursor=first.next_cursor, limit=3)
    assert len(second.items) == 3 and second.next_cursor is None


def test_streaming_reads_in_batches_and_yields_everything(db: Database) -> None:
    ids = add_messages(db, [{"created_at": T0 + timedelta(seconds=i % 3)} for i in range(10)])
    with db.session() as session:
        streamed = [m["id"] for m in search.iter_messages(
            session, MessageFilters(), zone=PARIS, batch=3)]
    assert sorted(streamed) == sorted(ids) and len(set(streamed)) == 10
    assert streamed == find(db)


# --------------------------------------------------------------------------- days


def test_a_day_is_a_day_of_the_account_zone(db: Database) -> None:
    # Paris is UTC+1 in November: 24 November runs from 23 Nov 23:00Z to 24 Nov 23:00Z
    start = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    ids = add_messages(db, [
        {"created_at": start - timedelta(microseconds=1)},  # 23 Nov, 23:59:59.999999
        {"created_at": start},  # 24 Nov, 00:00
        {"created_at": start + timedelta(hours=24) - timedelta(microseconds=1)},
        {"created_at": start + timedelta(hours=24)},  # 25 Nov, 00:00
    ])
    day = date(2026, 11, 24)
    assert find(db, date_from=day, date_to=day) == [ids[2], ids[1]]
    assert find(db, date_from=day) == [ids[3], ids[2], ids[1]]
    assert find(db, date_to=day) == [ids[2], ids[1], ids[0]]
    # the same moments, read in UTC
    assert find(db, zone=ZoneInfo("UTC"), date_from=date(2026, 11, 23),
                date_to=date(2026, 11, 23)) == [ids[1], ids[0]]


@pytest.mark.parametrize(("day", "starts", "hours"), [
    (date(2026, 3, 29), datetime(2026, 3, 28, 23, 0, tzinfo=UTC), 23),  # summer time
    (date(2026, 10, 25), datetime(2026, 10, 24, 22, 0, tzinfo=UTC), 25),  # winter time
])
def test_a_day_across_a_dst_change_has_its_true_length(
        db: Database, day: date, starts: datetime, hours: int) -> None:
    end = starts + timedelta(hours=hours)
    ids = add_messages(db, [{"created_at": starts - timedelta(seconds=1)},
                            {"created_at": starts}, {"created_at": end - timedelta(seconds=1)},
                            {"created_at": end}])
    assert find(db, date_from=day, date_to=day) == [ids[2], ids[1]]


@pytest.mark.parametrize(("options", "message"), [
    ({"date_from": "2026-11-31"}, "--from '2026-11-31' is not a date; write it as YYYY-MM-DD"),
    ({"date_to": "24/11/2026"}, "--to '24/11/2026' is not a date"),
])
def test_a_malformed_date_says_how_to_write_it(options: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        MessageFilters.from_options(**options)


def test_reversed_dates_are_refused_with_the_fix(db: Database) -> None:
    filters = MessageFilters.from_options(date_from="2026-11-25", date_to="2026-11-24")
    with pytest.raises(UsageError, match="--from 2026-11-25 is after --to 2026-11-24; swap"):
        page(db, filters)


def test_blank_options_are_no_filter() -> None:
    assert MessageFilters.from_options(sender=" ", text="", date_from="") == MessageFilters()


# --------------------------------------------------------------------------- filters


def test_campaign_sender_and_connector_filters(db: Database) -> None:
    world = add_world(db)
    ids = add_messages(db, [
        {"campaign_id": world["shop"], "sender": "SHOP", "connector_id": world["op-a"]},
        {"campaign_id": world["news"], "sender": "NEWS", "connector_id": world["op-b"]},
        {"campaign_id": None, "kind": "single", "sender": "ALERTS",
         "connector_id": world["op-b"]},
    ])
    assert find(db, campaign_id=world["shop"]) == [ids[0]]
    assert find(db, sender="NEWS") == [ids[1]]
    assert find(db, sender="news") == []  # exact, as sent
    assert find(db, connector="op-b") == [ids[2], ids[1]]
    assert find(db, connector="op-b", sender="ALERTS") == [ids[2]]


def test_unknown_campaign_and_connector_are_named_in_the_error(db: Database) -> None:
    add_world(db)
    with pytest.raises(NotFoundError, match="campaign 999 does not exist"):
        find(db, campaign_id=999)
    with pytest.raises(NotFoundError, match="'op-z': no connector has this name; known "
                                            "connectors: op-a, op-b"):
        find(db, connector="op-z")


def test_a_number_in_any_format_finds_its_messages(db: Database) -> None:
    ids = add_messages(db, [{"number": "+33612345678"}, {"number": "+33612345679"},
                            {"number": "hello", "status": "invalid_number",
                             "category": "not_sent"}])
    for typed in ("06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"):
        assert find(db, number=typed) == [ids[0]], typed
    assert find(db, number="0612") == []  # the whole number, not a part of it
    # an invalid ad-hoc number is stored as typed, and found that way
    assert find(db, number="hello") == [ids[2]]


def test_a_national_number_without_a_region_says_how_to_set_it(db: Database) -> None:
    with pytest.raises(UsageError, match="default_region"):
        find(db, default_region=None, number="06 12 34 56 78")


def test_text_is_a_substring_in_any_case_in_any_alphabet(db: Database) -> None:
    ids = add_messages(db, [
        {"text": "Votre commande est expédiée"}, {"text": "VOTRE COLIS EST EXPÉDIÉ"},
        {"text": "Remise de 50% ce week-end"}, {"text": "Remise de 50 euros"},
        {"text": "code_promo: ÉTÉ"}, {"text": "codexpromo"},
    ])
    assert sorted(find(db, text="EXPÉDI")) == [ids[0], ids[1]]
    assert sorted(find(db, text="expédiée")) == [ids[0]]
    assert find(db, text="50%") == [ids[2]]  # a typed wildcard is a character
    assert find(db, text="code_promo") == [ids[4]]
    assert find(db, text="été") == [ids[4]]
    assert sorted(find(db, text="  votre ")) == [ids[0], ids[1]]


def test_status_and_category_filters(db: Database) -> None:
    ids = add_messages(db, [
        {"status": "received", "category": "delivered"},
        {"status": "rejected", "category": "error"},
        {"status": "internal_error", "category": "error"},
        {"status": "queued", "category": "pending"},
        {"status": "permanent_error_phone", "category": "hard_bounce"},
    ])
    assert find(db, status="received") == [ids[0]]
    assert find(db, status="REJECTED") == [ids[1]]
    assert sorted(find(db, category="error")) == [ids[1], ids[2]]
    assert find(db, status="internal_error", category="error") == [ids[2]]
    assert find(db, status="queued") == [ids[3]]
    assert find(db, category="hard_bounce") == [ids[4]]


def test_test_sends_are_listed_with_status_test(db: Database) -> None:
    world = add_world(db)
    ids = add_messages(db, [
        {"campaign_id": world["shop"]},
        {"campaign_id": world["shop"], "kind": "test", "created_at": T0 - timedelta(hours=1)},
    ])
    items = page(db).items
    assert [(m["id"], m["status"], m["category"]) for m in items] == [
        (ids[0], "received", "delivered"), (ids[1], "test", "test")]
    assert find(db, status="test") == [ids[1]]
    assert find(db, category="test") == [ids[1]]
    assert find(db, status="received") == [ids[0]]  # a test send is not "received"
    assert find(db, category="delivered") == [ids[0]]


@pytest.mark.parametrize(("filters", "message"), [
    ({"status": "deliverd"}, "--status 'deliverd' is unknown; use one of: queued, "),
    ({"category": "bounced"}, "--category 'bounced' is unknown; use one of: pending, "),
    ({"status": "received", "category": "error"},
     "--status received is in the category delivered, not error"),
])
def test_unknown_or_contradictory_status_and_category_are_refused(
        db: Database, filters: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        find(db, **filters)


def test_filters_combine(db: Database) -> None:
    world = add_world(db)
    day = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    ids = add_messages(db, [
        {"campaign_id": world["shop"], "created_at": day, "status": "expired",
         "category": "soft_bounce", "text": "Soldes d'hiver"},
        {"campaign_id": world["shop"], "created_at": day, "text": "Soldes d'hiver"},
        {"campaign_id": world["shop"], "created_at": day - timedelta(days=2),
         "status": "expired", "category": "soft_bounce", "text": "Soldes d'hiver"},
        {"campaign_id": world["news"], "sender": "NEWS", "created_at": day,
         "status": "expired", "category": "soft_bounce", "text": "Soldes d'hiver"},
    ])
    assert find(db, date_from=date(2026, 11, 24), date_to=date(2026, 11, 24),
                sender="SHOP", category="soft_bounce", text="SOLDES",
                campaign_id=world["shop"]) == [ids[0]]


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("cursor", ["garbage", "!!!", encode_cursor(5), encode_keys(1, 2, 3),
                                    encode_keys(10**20, 1)])
def test_a_bad_or_foreign_cursor_is_refused(db: Database, cursor: str) -> None:
    with pytest.raises(UsageError, match=r"invalid cursor .*use the next_cursor"):
        page(db, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 1001])
def test_the_limit_is_between_1_and_1000(db: Database, limit: int) -> None:
    with pytest.raises(UsageError, match="--limit must be between 1 and 1000"):
        page(db, limit=limit)


def test_the_default_page_is_100(db: Database) -> None:
    add_messages(db, [{} for _ in range(101)])
    first = page(db)
    assert len(first.items) == 100 and first.next_cursor is not None


# --------------------------------------------------------------------------- engine


def test_a_campaign_sent_by_the_engine_is_found_with_its_test_send(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)], send=False)
    with db.transaction() as session:
        [test_id] = service.test_send(session, campaign_id, [number(3)],
                                      config=engine.config, now=NOW - timedelta(minutes=5))
    with db.transaction() as session:
        service.send(session, campaign_id, config=engine.config, prices=engine.prices,
                     now=NOW)
    ids = engine.send_all()
    engine.receipts([receipt(ids[number(1)], to=number(1))], NOW + timedelta(seconds=20))
    items = {m["number"]: m for m in page(db, MessageFilters(campaign_id=campaign_id)).items}
    assert items[number(1)]["status"] == "received"
    assert items[number(1)]["connector"] == "sim" and items[number(1)]["sent_at"] == NOW
    assert items[number(1)]["status_updated_at"] == NOW + timedelta(seconds=20)
    assert items[number(2)]["status"] == "sent"
    assert (items[number(3)]["id"], items[number(3)]["status"]) == (test_id, "test")
    assert find(db, status="received") == [items[number(1)]["id"]]


# --------------------------------------------------------------------------- windows


def pages_of(db: Database, limit: int, **filters: Any) -> list[Any]:
    """Every page of a search, following the cursors."""
    pages, cursor = [], None
    while True:
        result = page(db, MessageFilters(**filters), cursor=cursor, limit=limit)
        pages.append(result)
        cursor = result.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("one_moment", [False, True], ids=["spread", "one-fan-out"])
def test_a_rare_text_pauses_the_page_and_its_cursor_goes_on(
        db: Database, monkeypatch: pytest.MonkeyPatch, one_moment: bool) -> None:
    """A page reads at most SCAN_LIMIT messages: a rare text gives short pages whose
    cursors, followed, find every match once and in order, also inside one fan-out
    (one creation moment for all)."""
    monkeypatch.setattr(search, "SCAN_LIMIT", 40)
    rare = {17, 18, 95, 160, 239}
    moments = [T0 if one_moment else T0 + timedelta(seconds=i) for i in range(240)]
    ids = add_messages(db, [{"created_at": m, "text": "Code 42 soldes" if i in rare else "Hi"}
                            for i, m in enumerate(moments)])
    expected = find(db, text="SOLDES")
    assert sorted(expected) == sorted(ids[i] for i in rare)
    pages = pages_of(db, 2, text="soldes")
    assert [m["id"] for p in pages for m in p.items] == expected
    paused = [p for p in pages if len(p.items) < 2 and p.next_cursor is not None]
    assert paused, "240 messages read 40 at a time: some pages stop short"
    assert all(p.searched_to is not None for p in paused)
    assert sum(1 for p in pages if not p.items) >= 1
    # a page that did not pause is full, or the last
    assert all(len(p.items) == 2 for p in pages if p.next_cursor and p.searched_to is None)
    assert pages[-1].next_cursor is None


def test_a_common_text_fills_its_page_from_the_first_window(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SCAN_LIMIT", 40)
    add_messages(db, [{"created_at": T0 + timedelta(seconds=i), "text": "Hi soldes"}
                      for i in range(100)])
    pages = pages_of(db, 10, text="soldes")
    assert [len(p.items) for p in pages] == [10] * 10
    assert all(p.searched_to is None for p in pages)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shares=st.lists(st.sampled_from(["a", "b", "ab"]), min_size=0, max_size=60),
       ties=st.integers(1, 30), limit=st.integers(1, 7), scan=st.integers(1, 25),
       wanted=st.sampled_from([
           {"text": "a"}, {"text": "b"}, {"status": "expired"},
           {"category": "soft_bounce", "text": "b"}, {"sender": "SHOP", "text": "a"},
           {"text": "b", "date_from": date(2026, 11, 21), "date_to": date(2026, 11, 22)},
           {"sender": "SHOP", "text": "a", "date_from": date(2026, 11, 22)},
           {"status": "received", "date_to": date(2026, 11, 21)},
           {"date_from": date(2026, 11, 21), "date_to": date(2026, 11, 21)}]))
def test_pages_of_a_selective_search_are_the_whole_result_in_order(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, shares: list[str], ties: int,
        limit: int, scan: int, wanted: dict[str, str]) -> None:
    """Whatever the windows, the pages followed to the end hold exactly the result the
    export streams (every match, once, newest first); messages 7 hours apart (with
    ``ties`` at each moment) span days, cut by the date filters."""
    with sqlite_db.transaction() as session:
        session.execute(text("DELETE FROM messages"))
    monkeypatch.setattr(search, "SCAN_LIMIT", scan)
    monkeypatch.setattr(search, "_FIRST_WINDOW", 1)
    if shares:
        add_messages(sqlite_db, [
            {"created_at": T0 + timedelta(hours=7 * (i // ties)), "text": share,
             "status": "expired" if share == "b" else "received",
             "category": "soft_bounce" if share == "b" else "delivered"}
            for i, share in enumerate(shares)])
    expected = find(sqlite_db, **wanted)
    got = [m["id"] for p in pages_of(sqlite_db, limit, **wanted) for m in p.items]
    assert got == expected


# --------------------------------------------------------------------------- plans


#: a cursor's moment inside the dates of SQLITE_PLANS: 2026-11-03 12:00 UTC
DEEP = 1_793_707_200_000_000
SQLITE_PLANS: dict[str, tuple[MessageFilters, str]] = {
    "none": (MessageFilters(), "ix_messages_created"),
    "dates": (MessageFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 7)),
              "ix_messages_created"),
    "campaign": (MessageFilters(campaign_id=1), "ix_messages_search_campaign"),
    "campaign+status": (MessageFilters(campaign_id=1, status="received"),
                        "ix_messages_search_campaign"),
    "sender": (MessageFilters(sender="SHOP"), "ix_messages_search_sender"),
    "connector": (MessageFilters(connector="op-a"), "ix_messages_search_connector"),
    "number": (MessageFilters(number="+33612345678"), "ix_messages_number"),
    "status received": (MessageFilters(status="received"), "ix_messages_created"),
    "status queued": (MessageFilters(status="queued"), "ix_messages_created"),
    "status rejected": (MessageFilters(status="rejected"), "ix_messages_search_problem"),
    "category": (MessageFilters(category="hard_bounce"), "ix_messages_created"),
    "tests": (MessageFilters(status="test"), "ix_messages_search_test"),
    "text": (MessageFilters(text="soldes"), "ix_messages_created"),
}


@pytest.mark.parametrize("name", list(SQLITE_PLANS))
@pytest.mark.parametrize("deep", [False, True])
def test_sqlite_reads_each_page_off_an_index_in_order(tmp_path: Path, sqlite_template: Path,
                                                      name: str, deep: bool) -> None:
    """Without statistics SQLite picks plans by rules: each filter must read an index in
    the search's order (no sort of every match) on page 1 and on later pages; the probes
    that bound a selective search's windows read that index alone (no table row)."""
    import shutil

    path = tmp_path / "plans.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    add_world(db)
    filters, index = SQLITE_PLANS[name]
    plans: list[str] = []
    probes: list[str] = []
    from sqlalchemy import event

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM messages" in statement and "ORDER BY" in statement:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}",
                                             parameters).fetchall()
            plan = " / ".join(row[-1] for row in rows)
            probe = statement.startswith("SELECT messages.created_at, messages.id \nFROM")
            (probes if probe else plans).append(plan)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page(db, filters, cursor=encode_keys(DEEP, 10) if deep else None)
    finally:
        db.dispose()
    assert len(plans) == (2 if deep else 1)
    for plan in plans:
        assert index in plan and "TEMP B-TREE" not in plan, plan
    if deep:  # the rows of the cursor's own moment: a seek to its id, not a scan
        assert re.search(r"created_at=\? AND (id|rowid)<\?", plans[0]), plans[0]
    selective = name in {"campaign+status", "status received", "status queued", "category",
                         "text"}
    assert len(probes) == ((2 if deep else 1) if selective else 0)
    for plan in probes:
        assert f"COVERING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan


# --------------------------------------------------------------------------- CSV


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_writes_every_page(db: Database, tmp_path: Path) -> None:
    count = search.EXPORT_BATCH + 150
    ids = add_messages(db, [{"created_at": T0 + timedelta(seconds=i // 500)}
                            for i in range(count)])
    out = tmp_path / "all.csv"
    with db.session() as session:
        written = search.export_csv(session, MessageFilters(), out, zone=PARIS)
    rows = read_csv(out)
    assert written == count == len(rows)
    assert [int(r["id"]) for r in rows] == find(db)
    assert sorted(int(r["id"]) for r in rows) == sorted(ids)
    assert not list(tmp_path.glob(".*.partial"))


def test_csv_cells_are_safe_and_times_are_local(db: Database, tmp_path: Path) -> None:
    world = add_world(db)
    add_messages(db, [
        {"text": "=HYPERLINK(\"http://evil\")", "sender": "+33612345678",
         "campaign_id": world["shop"], "connector_id": world["op-a"],
         "credits": Decimal("0.5"), "created_at": T0, "sent_at": T0 + timedelta(seconds=5),
         "status_updated_at": T0 + timedelta(minutes=1)},
        {"number": "=1+2", "text": "-2 pour le prix d'un", "status": "invalid_number",
         "category": "not_sent", "sent_at": None, "credits": Decimal(0),
         "created_at": T0 - timedelta(hours=1)},
    ])
    out = tmp_path / "safe.csv"
    with db.session() as session:
        search.export_csv(session, MessageFilters(), out, zone=PARIS)
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ("sender,number,text,credits,sent_at,status_updated_at,status,id,"
                      "campaign_id,category,connector,segments,created_at")
    first, second = read_csv(out)
    assert first["text"] == "'=HYPERLINK(\"http://evil\")"
    assert first["sender"] == "'+33612345678"  # only the number column is left as is
    assert first["number"] == number(1)
    assert (first["credits"], first["connector"]) == ("0.5", "op-a")
    assert first["sent_at"] == "2026-11-20T11:00:05+01:00"
    assert first["status_updated_at"] == "2026-11-20T11:01:00+01:00"
    assert first["created_at"] == "2026-11-20T11:00:00+01:00"
    assert second["number"] == "'=1+2"  # an invalid number stored as typed
    assert second["text"] == "'-2 pour le prix d'un"
    assert (second["sent_at"], second["credits"], second["connector"]) == ("", "0", "")


def test_a_bad_filter_fails_before_the_file_is_written(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "never.csv"
    with db.session() as session, pytest.raises(UsageError):
        search.export_csv(session, MessageFilters(status="nope"), out, zone=PARIS)
    assert not out.exists()


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_db(smscope: Callable[..., Any], tmp_path: Path) -> Iterator[Database]:
    """The command line's database, migrated, with two campaigns and 5 messages."""
    smscope("db", "upgrade")
    database = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    world = add_world(database)
    add_messages(database, [
        {"campaign_id": world["shop"], "connector_id": world["op-a"],
         "created_at": T0 + timedelta(minutes=i), "text": f"Bonjour n°{i}",
         "number": number(i)} for i in range(5)])
    yield database
    database.dispose()


def test_cli_json_is_one_page_object(smscope: Callable[..., Any], cli_db: Database) -> None:
    run = smscope("messages", "search", "--sender", "SHOP", "--limit", "2", "--json")
    assert run.code == 0 and run.err == ""
    document = run.json()
    assert set(document) == {"items", "next_cursor"}
    assert [tuple(m) for m in document["items"]] == [ITEM_KEYS, ITEM_KEYS]
    assert document["items"][0]["created_at"] == "2026-11-20T10:04:00Z"
    assert document["items"][0]["connector"] == "op-a"
    assert document["items"][0]["credits"] == 1
    seen = [m["id"] for m in document["items"]]
    cursor = document["next_cursor"]
    while cursor:
        document = smscope("messages", "search", "--sender", "SHOP", "--limit", "2",
                           "--cursor", cursor, "--json").json()
        seen += [m["id"] for m in document["items"]]
        cursor = document["next_cursor"]
    assert len(seen) == len(set(seen)) == 5


def test_cli_table_shows_the_page_and_how_to_get_the_next(
        smscope: Callable[..., Any], cli_db: Database) -> None:
    run = smscope("messages", "search", "--limit", "2", "--text", "bonjour")
    assert run.code == 0
    assert "Bonjour n°4" in run.out and "Bonjour n°2" not in run.out
    assert "more: add --cursor " in run.out
    empty = smscope("messages", "search", "--status", "expired")
    assert "no message matches these filters" in empty.out


def test_cli_says_how_far_a_paused_search_read_and_how_to_go_on(
        smscope: Callable[..., Any], cli_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SCAN_LIMIT", 2)
    monkeypatch.setattr(search, "_FIRST_WINDOW", 1)
    run = smscope("messages", "search", "--limit", "5", "--text", "n°0")
    assert run.code == 0
    # the newest two, 10:04 and 10:03 (the account zone is UTC), do not match
    assert "no match yet" in run.out
    assert "searched the messages created back to 2026-11-20T10:03:00+00:00" in run.out
    cursor: str | None = re.search(r"--cursor (\S+)", run.out).group(1)  # type: ignore[union-attr]
    found = []
    while cursor is not None:  # two at a time, as the first page did
        document = json.loads(smscope("messages", "search", "--limit", "5", "--text", "n°0",
                                      "--json", "--cursor", cursor).out)
        found += [m["text"] for m in document["items"]]
        cursor = document["next_cursor"]
    assert found == ["Bonjour n°0"]


def test_cli_csv_writes_the_whole_result(smscope: Callable[..., Any], cli_db: Database,
                                         tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    run = smscope("messages", "search", "--campaign", "1", "--csv", str(out), "--json")
    assert run.code == 0 and run.json() == {"file": str(out), "rows": 5}
    assert len(read_csv(out)) == 5
    again = smscope("messages", "search", "--csv", str(out))
    assert again.out.strip() == f"5 messages written to {out}"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--from", "yesterday"], 2, "--from 'yesterday' is not a date; write it as YYYY-MM-DD"),
    (["--from", "2026-11-25", "--to", "2026-11-24"], 2, "swap them"),
    (["--status", "lost"], 2, "--status 'lost' is unknown"),
    (["--category", "lost"], 2, "--category 'lost' is unknown"),
    (["--connector", "nope"], 1, "'nope': no connector has this name"),
    (["--campaign", "42"], 1, "campaign 42 does not exist"),
    (["--campaign", "abc"], 2, "'abc' is not a valid integer"),
    (["--cursor", "xyz"], 2, "invalid cursor"),
    (["--limit", "5000"], 2, "--limit must be between 1 and 1000"),
    (["--csv", "x.csv", "--cursor", "abc"], 2, "--csv writes every page of the result"),
    (["--csv", "missing/x.csv"], 1, "cannot write missing/x.csv"),
])
def test_cli_errors_are_one_line_with_the_right_exit_code(
        smscope: Callable[..., Any], cli_db: Database, args: list[str], code: int,
        message: str) -> None:
    run = smscope("messages", "search", *args)
    assert run.code == code, run.err
    assert run.out == ""
    assert len(run.err.strip().splitlines()) == 1 and message in run.err, run.err


def test_the_indexes_exist_on_both_backends(db: Database) -> None:
    from sqlalchemy import inspect

    with db.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("messages")}
        assert {"ix_messages_search_campaign", "ix_messages_search_sender",
                "ix_messages_search_connector", "ix_messages_search_problem",
                "ix_messages_search_test"} <= names
        if db.backend == "postgresql":
            where = conn.execute(text(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indexrelid = 'ix_messages_search_test'::regclass")).scalar()
            assert where == "((kind)::text = 'test'::text)"
