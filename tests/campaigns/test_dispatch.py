"""Dispatch: submit errors, address-book hygiene after permanent errors, and claims that
never overlap between workers (SPEC §4.3, CONTRACTS §4, §8)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from smscope.campaigns import dispatch
from smscope.contacts import book
from smscope.db import Database
from smscope.db.tables import Contact, ContactEvent
from smscope.rules.windows import SendingWindows
from smscope.smpp.constants import CommandStatus
from tests.campaigns.helpers import NOW, Engine, make_config, number, receipt, refused
from tests.contacts.helpers import members


def contact(db: Database, to: str) -> Contact:
    with db.session() as session:
        return session.scalars(select(Contact).where(Contact.number == to)).one()


def events(db: Database, contact_id: int) -> list[tuple[str, int | None, int | None]]:
    with db.session() as session:
        return [(e.kind, e.list_id, e.message_id) for e in session.scalars(
            select(ContactEvent).where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id))]


def test_a_permanent_error_marks_the_contact_invalid_and_removes_it_from_its_lists(
        db: Database) -> None:
    engine = Engine(db).setup()
    ids = engine.contacts("a", [{"number": number(1)}, {"number": number(2)}])
    engine.contacts("b", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["a", "b"])
    engine.send_all(ids=["a1", "a2"])
    engine.receipts([receipt("a1", "UNDELIV", "001")], NOW + timedelta(minutes=1))
    message = engine.message(campaign_id, number(1))
    assert message.status == "permanent_error_absence"
    assert contact(db, number(1)).state == "invalid"
    assert members(db, "a") == [number(2)] and members(db, "b") == []
    logged = events(db, ids[0])
    assert logged[0] == ("state_changed", None, message.id)
    assert sorted(e for e in logged[1:]) == sorted(
        [("removed_from_list", lid, message.id) for lid in message.list_ids or []])
    report = engine.report(campaign_id)
    assert report["counts"]["hard_bounce"] == 1
    # the next campaign to those lists skips it; restore undoes the hygiene
    with db.transaction() as session:
        restored = book.restore(session, number(1), "FR")
    assert restored["lists"] == ["a", "b"] and restored["state"] == "active"
    assert members(db, "a") == [number(1), number(2)] and members(db, "b") == [number(1)]


def test_a_temporary_error_never_touches_the_contact(db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["1h"])).setup()
    ids = engine.contacts("a", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["a"])
    engine.send_all(ids=["a1"])
    engine.receipts([receipt("a1", "UNDELIV", "027")], NOW)
    engine.send_all(NOW + timedelta(hours=1), ids=["a2"])
    engine.receipts([receipt("a2", "UNDELIV", "027")], NOW + timedelta(hours=2))
    assert engine.message(campaign_id, number(1)).status == "temporary_error_absence"
    assert contact(db, number(1)).state == "active"
    assert members(db, "a") == [number(1)]
    assert events(db, ids[0]) == []


def test_an_invalid_destination_refused_at_submit_is_a_routing_error_with_hygiene(
        db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["a"])
    claimed = engine.claim()
    counts = engine.record(claimed, [refused(CommandStatus.ESME_RINVDSTADR)])
    assert counts["failed"] == 1
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.error_code, message.in_doubt) == (
        "routing_error", "0x0000000B", False)
    assert message.sent_at is None and message.credits == 0
    assert engine.history(message.id) == [("queued", "routing_error")]
    assert contact(db, number(1)).state == "invalid" and members(db, "a") == []
    assert engine.claim(NOW + timedelta(days=1)) == []
    report = engine.report(campaign_id)
    assert report["counts"]["hard_bounce"] == 1 and report["sent"] == 0


def test_a_throttled_submit_is_a_temporary_error_retried_later(db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["2h"])).setup()
    engine.contacts("a", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["a"])
    engine.record(engine.claim(), [refused(CommandStatus.ESME_RTHROTTLED)])
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("retry_scheduled", 1)
    assert message.next_attempt_at == NOW + timedelta(hours=2)
    assert contact(db, number(1)).state == "active"
    engine.send_all(NOW + timedelta(hours=2), ids=["b1"])
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("sent", 2)
    engine.report(campaign_id)


def test_a_submit_not_made_releases_the_claim(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    assert engine.record(engine.claim(), [None])["released"] == 1
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts, message.in_doubt) == ("queued", 0, False)
    # validity runs from the first *submit*: a claim released days ago does not start it
    later = NOW + timedelta(days=4)
    engine.send_all(later, ids=["c1"])
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.validity_until == later + timedelta(hours=72)
    assert engine.expire(later + timedelta(hours=1)) == 0
    assert engine.message(campaign_id, number(1)).status == "sent"


def test_two_workers_claiming_at_once_never_get_the_same_message(pg_db: Database) -> None:
    engine = Engine(pg_db).setup()
    campaign_id = engine.campaign(numbers=[number(i) for i in range(1, 21)])
    windows = SendingWindows.from_config(engine.config)
    both_claimed = threading.Barrier(2, timeout=20)
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            with pg_db.transaction() as session:
                claimed = dispatch.claim(session, connector_id=engine.connector_id, limit=8,
                                         now=NOW, worker_id=worker_id, config=engine.config,
                                         prices=engine.prices, windows=windows)
                got[worker_id] = [c["id"] for c in claimed]
                # neither commits before both have claimed: each holds its row locks
                # while the other looks (without SKIP LOCKED, the second would block
                # here and the barrier would time out)
                both_claimed.wait()
        except BaseException as exc:  # reported below, from the test's thread
            errors.append(exc)
            both_claimed.abort()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(got["w1"]) == len(got["w2"]) == 8
    assert not set(got["w1"]) & set(got["w2"])
    rest = engine.claim(worker_id="w3")
    assert len(rest) == 4 and not {c["id"] for c in rest} & set(got["w1"] + got["w2"])
    assert {m.claimed_by for m in engine.messages(campaign_id)} == {"w1", "w2", "w3"}
