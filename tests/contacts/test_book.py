"""The address book: lists, contact pages, state changes, hygiene and its undo.

Every test runs on SQLite and on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from smscope.contacts import blacklist
from smscope.contacts.book import (
    find_contact,
    get_list,
    get_or_create_list,
    list_contacts,
    lists_summary,
    mark_invalid,
    restore,
    set_state,
)
from smscope.db import Database
from smscope.db.tables import ContactEvent, ContactList
from smscope.errors import NotFoundError, UsageError
from tests.contacts.helpers import contacts, e164, members, mobile, run_import, write_rows


def fill(db: Database, tmp_path: Path, list_name: str, indexes: range | list[int],
         **names: str) -> None:
    rows = [["phone", "first_name", "last_name"]]
    rows += [[mobile(i), names.get(f"first_{i}", f"First{i}"), names.get(f"last_{i}", "")]
             for i in indexes]
    run_import(db, write_rows(tmp_path / f"{list_name}.csv", rows), list_name)


def summary(db: Database) -> dict[str, dict[str, object]]:
    with db.session() as session:
        return {item["name"]: item for item in lists_summary(session)}


def events(db: Database, number: str, kind: str) -> list[ContactEvent]:
    with db.session() as session:
        contact = find_contact(session, number, None)
        return list(session.scalars(select(ContactEvent).where(
            ContactEvent.contact_id == contact.id, ContactEvent.kind == kind)
            .order_by(ContactEvent.id)))


# --------------------------------------------------------------------- lists


def test_get_or_create_list_is_idempotent_and_trims_the_name(db: Database) -> None:
    with db.transaction() as session:
        first = get_or_create_list(session, "  vip ")
        again = get_or_create_list(session, "vip")
        assert (first.id, first.name) == (again.id, "vip")
    with db.session() as session:
        assert list(session.scalars(select(ContactList.name))) == ["vip"]
        assert get_list(session, " vip ").id == first.id


def test_get_list_of_an_unknown_name_lists_the_known_ones(db: Database) -> None:
    with db.transaction() as session:
        get_or_create_list(session, "b-list")
        get_or_create_list(session, "a-list")
    with db.session() as session, pytest.raises(NotFoundError, match="lists: a-list, b-list"):
        get_list(session, "c-list")


def test_get_list_without_any_list_says_how_to_make_one(db: Database) -> None:
    with db.session() as session, pytest.raises(NotFoundError, match="--list NAME"):
        get_list(session, "customers")


def test_lists_summary_counts_contacts_by_state(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", range(1, 6))
    fill(db, tmp_path, "beta", [4, 5, 6])
    with db.transaction() as session:
        get_or_create_list(session, "empty")
        blacklist.add(session, e164(1))
        blacklist.add(session, e164(4))
        mark_invalid(session, find_contact(session, e164(2), None), "bounced",
                     remove_from_lists=False)
    result = summary(db)
    assert list(result) == ["alpha", "beta", "empty"]
    counts = {name: (item["contacts"], item["active"], item["invalid"], item["blacklisted"])
              for name, item in result.items()}
    assert counts == {"alpha": (5, 2, 1, 2), "beta": (3, 2, 0, 1), "empty": (0, 0, 0, 0)}
    assert result["alpha"]["created_at"] is not None


def test_lists_summary_without_lists_is_empty(db: Database) -> None:
    assert summary(db) == {}


# --------------------------------------------------------------------- list_contacts


def test_list_contacts_pages_through_everything_oldest_first(db: Database,
                                                             tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", range(1, 11))
    seen: list[str] = []
    cursor = None
    while True:
        with db.session() as session:
            page = list_contacts(session, cursor=cursor, limit=4)
        seen += [item["number"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e164(i) for i in range(1, 11)]
    assert len(page.items) == 2


def test_list_contacts_items_carry_their_lists_and_fields(db: Database,
                                                          tmp_path: Path) -> None:
    fill(db, tmp_path, "zeta", [1])
    fill(db, tmp_path, "alpha", [1, 2])
    with db.session() as session:
        items = list_contacts(session).items
    assert [(i["number"], i["lists"]) for i in items] == [(e164(1), ["alpha", "zeta"]),
                                                          (e164(2), ["alpha"])]
    assert set(items[0]) == {"id", "number", "region", "first_name", "last_name", "fields",
                             "state", "state_reason", "state_changed_at", "lists",
                             "created_at", "updated_at"}
    assert (items[0]["region"], items[0]["fields"], items[0]["state"]) == ("FR", {}, "active")


def test_list_contacts_filters_by_list_state_and_search(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", range(1, 5), first_1="Zoé", last_2="Zola")
    fill(db, tmp_path, "beta", [5])
    with db.transaction() as session:
        blacklist.add(session, e164(3))

    def numbers(**kwargs: object) -> list[str]:
        with db.session() as session:
            return [i["number"] for i in list_contacts(session, **kwargs).items]  # type: ignore[arg-type]

    assert numbers(list_name="beta") == [e164(5)]
    assert numbers(list_name="alpha", state="active") == [e164(1), e164(2), e164(4)]
    assert numbers(state="blacklisted") == [e164(3)]
    assert numbers(state="invalid") == []
    assert numbers(search="zo") == [e164(1), e164(2)]  # first or last name, any case
    assert numbers(search=" 610000005") == [e164(5)]  # part of the number
    assert numbers(list_name="beta", search="zo") == []


def test_list_contacts_refuses_unknown_state_list_and_bad_limits(db: Database) -> None:
    with db.session() as session:
        with pytest.raises(UsageError, match="unknown state"):
            list_contacts(session, state="deleted")
        with pytest.raises(NotFoundError, match="no list named"):
            list_contacts(session, list_name="nope")
        for limit in (0, 1001):
            with pytest.raises(UsageError, match="between 1 and 1000"):
                list_contacts(session, limit=limit)
        with pytest.raises(UsageError, match="invalid cursor"):
            list_contacts(session, cursor="not-a-cursor")
        assert list_contacts(session, limit=1000).items == []
        assert list_contacts(session, limit=1).next_cursor is None


def test_find_contact_accepts_any_spelling_and_reports_unknown_numbers(
        db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.session() as session:
        assert find_contact(session, mobile(1), "FR").number == e164(1)
        with pytest.raises(NotFoundError, match=r"\+33610000002"):
            find_contact(session, mobile(2), "FR")


# --------------------------------------------------------------------- set_state


def test_set_state_logs_the_change_and_ignores_a_no_op(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.transaction() as session:
        contact = find_contact(session, e164(1), None)
        assert set_state(session, contact, "invalid", "typo", actor="dave", message_id=42)
        assert not set_state(session, contact, "invalid", "again")
        with pytest.raises(ValueError, match="unknown contact state"):
            set_state(session, contact, "gone", "x")
    [event] = events(db, e164(1), "state_changed")
    assert (event.from_state, event.to_state, event.reason, event.actor, event.message_id) == (
        "active", "invalid", "typo", "dave", 42)
    contact = contacts(db)[e164(1)]
    assert (contact.state, contact.state_reason) == ("invalid", "typo")
    assert contact.state_changed_at is not None


# --------------------------------------------------------------------- hygiene


def test_mark_invalid_removes_from_every_list_and_restore_puts_it_back(
        db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1, 2])
    fill(db, tmp_path, "beta", [1])
    with db.transaction() as session:
        contact = find_contact(session, e164(1), None)
        left = mark_invalid(session, contact, "permanent error: unknown subscriber",
                            remove_from_lists=True, message_id=99)
        alpha_id = get_list(session, "alpha").id
        beta_id = get_list(session, "beta").id
    assert sorted(left) == sorted([alpha_id, beta_id])
    assert (members(db, "alpha"), members(db, "beta")) == ([e164(2)], [])
    assert contacts(db)[e164(1)].state == "invalid"
    removals = events(db, e164(1), "removed_from_list")
    assert sorted(r.list_id for r in removals) == sorted(left)
    assert {(r.message_id, r.reason, r.restored_at) for r in removals} == {
        (99, "permanent error: unknown subscriber", None)}
    [change] = events(db, e164(1), "state_changed")
    assert (change.to_state, change.message_id) == ("invalid", 99)

    with db.transaction() as session:
        result = restore(session, mobile(1), "FR", actor="erin")
    assert result == {"number": e164(1), "state": "active", "lists": ["alpha", "beta"]}
    assert (members(db, "alpha"), members(db, "beta")) == ([e164(1), e164(2)], [e164(1)])
    contact = contacts(db)[e164(1)]
    assert (contact.state, contact.state_reason) == ("active", "restored by hand")
    assert all(r.restored_at is not None for r in events(db, e164(1), "removed_from_list"))
    restored = events(db, e164(1), "restored_to_list")
    assert sorted(r.list_id for r in restored) == sorted(left)
    assert {r.actor for r in restored} == {"erin"}

    # Nothing left to undo: a second restore says so.
    with db.transaction() as session, pytest.raises(UsageError, match="not removed"):
        restore(session, e164(1), None)


def test_mark_invalid_without_removal_keeps_lists_and_restore_reactivates(
        db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.transaction() as session:
        contact = find_contact(session, e164(1), None)
        assert mark_invalid(session, contact, "invalid number", remove_from_lists=False) == []
    assert members(db, "alpha") == [e164(1)]
    assert events(db, e164(1), "removed_from_list") == []
    with db.transaction() as session:
        assert restore(session, e164(1), None) == {"number": e164(1), "state": "active",
                                                   "lists": []}
    assert contacts(db)[e164(1)].state == "active"


def test_a_second_hygiene_round_is_restored_as_well(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    for round_ in range(2):
        with db.transaction() as session:
            mark_invalid(session, find_contact(session, e164(1), None), f"bounce {round_}",
                         remove_from_lists=True)
        assert members(db, "alpha") == []
        with db.transaction() as session:
            assert restore(session, e164(1), None)["lists"] == ["alpha"]
        assert members(db, "alpha") == [e164(1)]


def test_restore_keeps_membership_added_since_the_removal(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.transaction() as session:
        mark_invalid(session, find_contact(session, e164(1), None), "bounce",
                     remove_from_lists=True)
    fill(db, tmp_path, "alpha", [1])  # re-imported into the same list meanwhile
    with db.transaction() as session:
        assert restore(session, e164(1), None)["lists"] == ["alpha"]
    assert members(db, "alpha") == [e164(1)]


def test_blacklisted_contact_stays_blacklisted_when_marked_invalid(db: Database,
                                                                  tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.transaction() as session:
        blacklist.add(session, e164(1), reason="STOP")
    with db.transaction() as session:
        left = mark_invalid(session, find_contact(session, e164(1), None), "bounce",
                            remove_from_lists=True)
    assert len(left) == 1
    assert contacts(db)[e164(1)].state == "blacklisted"
    assert members(db, "alpha") == []
    with db.transaction() as session, pytest.raises(UsageError, match="blacklist remove"):
        restore(session, e164(1), None)
    # Once off the blacklist, restore puts it back where hygiene took it from.
    with db.transaction() as session:
        blacklist.remove(session, e164(1))
    with db.transaction() as session:
        assert restore(session, e164(1), None)["lists"] == ["alpha"]
    assert contacts(db)[e164(1)].state == "active"


def test_restore_of_an_active_untouched_contact_is_a_usage_error(db: Database,
                                                                 tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    with db.transaction() as session, pytest.raises(UsageError, match="is active"):
        restore(session, e164(1), None)


def test_restore_of_an_unknown_number_is_not_found(db: Database) -> None:
    with db.transaction() as session, pytest.raises(NotFoundError):
        restore(session, mobile(1), "FR")


def test_restore_skips_a_list_deleted_since_the_removal(db: Database, tmp_path: Path) -> None:
    fill(db, tmp_path, "alpha", [1])
    fill(db, tmp_path, "beta", [1])
    with db.transaction() as session:
        mark_invalid(session, find_contact(session, e164(1), None), "bounce",
                     remove_from_lists=True)
    with db.transaction() as session:
        session.delete(get_list(session, "beta"))
    with db.transaction() as session:
        assert restore(session, e164(1), None)["lists"] == ["alpha"]


def test_search_matches_percent_and_underscore_literally(db: Database) -> None:
    from smscope.db.tables import Contact as ContactRow

    with db.transaction() as session:
        session.add_all([ContactRow(number="+33612345601", first_name="100%_sure"),
                         ContactRow(number="+33612345602", first_name="100 sure")])
    with db.session() as session:
        found = list_contacts(session, search="0%_s").items
        everything = list_contacts(session, search="%").items
    assert [c["number"] for c in found] == ["+33612345601"]
    assert [c["number"] for c in everything] == ["+33612345601"]
