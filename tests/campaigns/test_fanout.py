"""Fan-out: one message per distinct number, each with its first status and the filter
that stopped it (CONTRACTS §5, §8), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from smscope.campaigns.counters import read_list_counters
from smscope.campaigns.fanout import text_hash
from smscope.contacts import blacklist
from smscope.db import Database
from smscope.db.tables import ContactList, CreditReservation, Message
from smscope.pricing import CreditBank
from tests.campaigns.helpers import NOW, SUNDAY, Engine, number


def statuses(engine: Engine, campaign_id: int) -> dict[str, str]:
    return {m.number: m.status for m in engine.messages(campaign_id)}


def test_blacklisted_by_contact_state_or_blacklist_table_is_not_sent(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1), "state": "blacklisted"},
                          {"number": number(2)}, {"number": number(3)}])
    with db.transaction() as session:
        blacklist.add(session, number(2), reason="asked")
    campaign_id = engine.campaign(lists=["a"], numbers=[number(4)])
    # an ad-hoc number on the blacklist (no contact) is filtered too
    with db.transaction() as session:
        blacklist.add(session, number(5))
    later = engine.campaign(numbers=[number(5)], text="other", name="c2")
    assert statuses(engine, campaign_id) == {
        number(1): "blacklisted", number(2): "blacklisted", number(3): "queued",
        number(4): "queued"}
    assert statuses(engine, later) == {number(5): "blacklisted"}
    report = engine.report(campaign_id)
    assert report["recipients"] == 4
    assert report["counts"]["unsubscribed"] == 2 and report["unsubscribes"] == 2
    assert report["counts"]["pending"] == 2


def test_invalid_adhoc_number_and_invalid_contact_are_invalid_number(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1), "state": "invalid"}, {"number": number(2)}])
    campaign_id = engine.campaign(lists=["a"], numbers=["12", "01 40 00 00 00", number(3)])
    messages = engine.messages(campaign_id)
    by_status = sorted(m.status for m in messages)
    assert by_status == ["invalid_number"] * 3 + ["queued"] * 2
    invalid_contact = engine.message(campaign_id, number(1))
    assert invalid_contact.status == "invalid_number"
    assert invalid_contact.error_detail == "the contact is marked invalid"
    assert all(m.credits == 0 for m in messages)
    report = engine.report(campaign_id)
    assert report["counts"]["not_sent"] == 3 and report["statuses"]["invalid_number"] == 3


def test_same_text_to_same_number_within_window_is_duplicate(db: Database) -> None:
    engine = Engine(db).setup()
    first = engine.campaign(numbers=[number(1), number(2)], text="Sale!", name="first")
    # a different text to number 2 is not a duplicate
    second = engine.campaign(numbers=[number(1), number(3)], text="Sale!", name="second",
                             now=NOW + timedelta(hours=1))
    third = engine.campaign(numbers=[number(2)], text="Other sale", name="third",
                            now=NOW + timedelta(hours=1))
    # outside the 24 h window it goes again
    fourth = engine.campaign(numbers=[number(1)], text="Sale!", name="fourth",
                             now=NOW + timedelta(hours=25))
    assert statuses(engine, first) == {number(1): "queued", number(2): "queued"}
    assert statuses(engine, second) == {number(1): "duplicate", number(3): "queued"}
    assert statuses(engine, third) == {number(2): "queued"}
    assert statuses(engine, fourth) == {number(1): "queued"}
    assert engine.report(second)["counts"]["not_sent"] == 1


def test_a_test_send_or_an_unsent_message_does_not_make_a_duplicate(db: Database) -> None:
    engine = Engine(db).setup(credits=1)
    with db.transaction() as session:
        session.execute(insert(Message).values(
            kind="test", number=number(1), sender="SHOP", text="Sale!",
            text_hash=text_hash("Sale!"), encoding="gsm7", segments=1, status="test",
            category="test", created_at=NOW, status_updated_at=NOW))
    # number 3 gets the one credit; number 2 is insufficient_credit, number 4 blacklisted
    with db.transaction() as session:
        blacklist.add(session, number(4))
    first = engine.campaign(numbers=[number(3), number(2), number(4)], text="Sale!")
    assert statuses(engine, first) == {number(3): "queued", number(2): "insufficient_credit",
                                       number(4): "blacklisted"}
    with db.transaction() as session:
        CreditBank(session).add(10)
        blacklist.remove(session, number(4))
    second = engine.campaign(numbers=[number(1), number(2), number(4)], text="Sale!",
                             name="second", now=NOW + timedelta(minutes=5))
    assert statuses(engine, second) == {number(1): "queued", number(2): "queued",
                                        number(4): "queued"}


def test_credit_runs_out_in_fanout_order_and_reservation_is_the_reserved_costs(
        db: Database) -> None:
    engine = Engine(db).setup(credits=4)
    long_name = "x" * 150  # 2 segments with the text around it
    engine.contacts("a", [{"number": number(1), "first_name": long_name},
                          {"number": number(2), "first_name": "Al"},
                          {"number": number(3), "first_name": long_name},
                          {"number": number(4), "first_name": "Bo"}])
    campaign_id = engine.campaign(lists=["a"], text="Hello {first_name}, see our new offers")
    messages = {m.number: m for m in engine.messages(campaign_id)}
    assert [messages[number(i)].segments for i in (1, 2, 3, 4)] == [2, 1, 2, 1]
    # 2 + 1 = 3 reserved; number 3 needs 2, more than the 1 left: the balance has run
    # out, and the rest (number 4 too, though it would fit) are insufficient_credit
    assert [messages[number(i)].status for i in (1, 2, 3, 4)] == [
        "queued", "queued", "insufficient_credit", "insufficient_credit"]
    with db.session() as session:
        reservations = list(session.scalars(select(CreditReservation)))
        balance = CreditBank(session).balance()
    assert [r.amount for r in reservations] == [Decimal(3)]
    assert reservations[0].campaign_id == campaign_id
    assert (balance.available, balance.reserved) == (Decimal(1), Decimal(3))
    report = engine.report(campaign_id)
    assert report["statuses"]["insufficient_credit"] == 2


def test_one_message_per_distinct_number_across_lists_and_numbers(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1)}, {"number": number(2)}])
    engine.contacts("b", [{"number": number(2)}, {"number": number(3)}])
    campaign_id = engine.campaign(lists=["a", "b"],
                                  numbers=["06 10 00 00 02", number(3), number(4), number(4)])
    messages = engine.messages(campaign_id)
    assert sorted(m.number for m in messages) == [number(i) for i in (1, 2, 3, 4)]
    with db.session() as session:
        ids = {n: i for n, i in session.execute(select(ContactList.name, ContactList.id))}
        per_list = read_list_counters(session, campaign_id)
    by_number = {m.number: m for m in messages}
    assert sorted(by_number[number(2)].list_ids or []) == sorted([ids["a"], ids["b"]])
    assert by_number[number(1)].list_ids == [ids["a"]]
    assert by_number[number(4)].list_ids is None
    assert by_number[number(2)].contact_id is not None
    assert per_list[ids["a"]]["queued"] == 2 and per_list[ids["b"]]["queued"] == 2
    assert engine.report(campaign_id)["recipients"] == 4


def test_placeholders_are_rendered_per_contact(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1), "first_name": "Marie", "fields": {"city": "Lyon"}},
                          {"number": number(2), "first_name": None, "fields": {}}])
    campaign_id = engine.campaign(lists=["a"], numbers=[number(3)],
                                  text="Hi {first_name|friend} from {city|Paris} {{ok}} {number}")
    texts = {m.number: m.text for m in engine.messages(campaign_id)}
    assert texts == {
        number(1): f"Hi Marie from Lyon {{ok}} {number(1)}",
        number(2): f"Hi friend from Paris {{ok}} {number(2)}",
        number(3): f"Hi friend from Paris {{ok}} {number(3)}",
    }


def test_marketing_outside_the_french_window_is_scheduled_at_its_opening(
        db: Database) -> None:
    engine = Engine(db).setup()
    marketing = engine.campaign(numbers=[number(1)], type_="marketing", now=SUNDAY)
    transactional = engine.campaign(numbers=[number(2)], name="t", now=SUNDAY)
    monday_8_paris = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    message = engine.message(marketing, number(1))
    assert message.status == "scheduled"
    assert message.next_attempt_at == monday_8_paris
    assert engine.message(transactional, number(2)).status == "queued"
    # not claimed before the window opens; claimed at the opening
    assert [c["number"] for c in engine.claim(SUNDAY)] == [number(2)]
    assert engine.claim(monday_8_paris - timedelta(seconds=1)) == []
    assert [c["number"] for c in engine.claim(monday_8_paris)] == [number(1)]
    engine.report(marketing)


def test_a_queued_marketing_message_whose_window_closed_is_scheduled_and_counted_so(
        db: Database) -> None:
    engine = Engine(db).setup()
    saturday_1959_paris = datetime(2026, 11, 21, 18, 59, tzinfo=UTC)
    campaign_id = engine.campaign(numbers=[number(1)], type_="marketing",
                                  now=saturday_1959_paris)
    assert engine.message(campaign_id, number(1)).status == "queued"
    # the worker gets to it after 20:00 on Saturday: it waits for Monday 08:00
    assert engine.claim(saturday_1959_paris + timedelta(minutes=2)) == []
    message = engine.message(campaign_id, number(1))
    assert message.status == "scheduled"
    assert message.next_attempt_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    report = engine.report(campaign_id)  # counters follow the message
    assert report["statuses"]["scheduled"] == 1 and report["statuses"]["queued"] == 0


def test_a_filtered_message_has_its_status_as_a_history_event_and_a_webhook(
        db: Database) -> None:
    """A filter's status is final from the start: one event from no status, with the
    filter's reason, so that status webhooks tell it too. Queued messages get none (their
    first event is their submit)."""
    from smscope.campaigns import service
    from smscope.db.tables import StatusEvent
    from smscope.reports.recipients import message_history
    from smscope.webhooks.payload import payload_of

    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1), "state": "invalid"}, {"number": number(2)},
                          {"number": number(3)}])
    with db.transaction() as session:
        blacklist.add(session, number(2), reason="asked")
    draft = engine.campaign(lists=["a"], numbers=["12"], send=False)
    with db.transaction() as session:
        service.send(session, draft, config=engine.config, prices=engine.prices, now=NOW)
    by_number = {m.number: m for m in engine.messages(draft)}
    with db.session() as session:
        events = {(e.message_id, e.from_status, e.to_status, e.reason, e.at)
                  for e in session.scalars(select(StatusEvent))}
    stopped = {m for m in by_number.values() if m.kind == "campaign" and m.status != "queued"}
    assert {m.status for m in stopped} == {"invalid_number", "blacklisted"} and len(stopped) == 3
    assert events == {(m.id, None, m.status, m.error_detail, m.created_at) for m in stopped}
    with db.session() as session:
        history = message_history(session, by_number[number(2)].id)["history"]
    assert history == [{"at": by_number[number(2)].created_at, "kind": "created",
                        "to": "blacklisted", "reason": by_number[number(2)].error_detail}]
    queued = by_number[number(3)]
    with db.session() as session:
        assert message_history(session, queued.id)["history"] == [
            {"at": queued.created_at, "kind": "created", "to": "queued"}]
    # as a webhook event: from no status to the filter's, final
    from smscope.webhooks.pump import _events_query
    with db.session() as session:
        rows = list(session.execute(_events_query()).mappings())
    documents = {d["number"]: d for d in (payload_of(row) for row in rows)}
    assert set(documents) == {m.number for m in stopped}
    assert documents[number(2)]["from_status"] is None
    assert documents[number(2)]["to_status"] == "blacklisted"
    assert documents[number(2)]["final"] is True
