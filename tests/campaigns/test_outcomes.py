"""Multipart roll-up, retries, expiry and in-doubt submits (CONTRACTS §4, §8), on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from smscope.campaigns.dispatch import LEASE
from smscope.campaigns.outcomes import Outcomes
from smscope.db import Database
from smscope.db.tables import Message
from smscope.pricing import Balance, CreditBank
from smscope.receipts.ingest import _Applier
from smscope.smpp.client import PartResult, SubmitResult
from tests.campaigns.helpers import NOW, Engine, in_doubt, make_config, number, ok, receipt

LONG = "a" * 400  # 3 segments of 153 characters
MINUTE = timedelta(minutes=1)


def three_parts(db: Database) -> tuple[Engine, int, int]:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)], text=LONG)
    claimed = engine.claim()
    assert claimed[0]["segments"] == 3
    engine.record(claimed, [SubmitResult(tuple(PartResult("ok", message_id=f"{i}00")
                                               for i in (1, 2, 3)))])
    message = engine.message(campaign_id, number(1))
    assert [p.part_no for p in engine.parts(message.id)] == [1, 2, 3]
    return engine, campaign_id, message.id


def status(engine: Engine, campaign_id: int, to: str = number(1)) -> str:
    return engine.message(campaign_id, to).status


# -- multipart --------------------------------------------------------------------------


def test_a_multipart_message_is_received_only_when_every_part_is(db: Database) -> None:
    engine, campaign_id, message_id = three_parts(db)
    engine.receipts([receipt("100"), receipt("300")], NOW + MINUTE)
    assert status(engine, campaign_id) == "sent"
    engine.receipts([receipt("200", "ENROUTE")], NOW + 2 * MINUTE)
    # the least advanced pending part
    assert status(engine, campaign_id) == "delivered_to_operator"
    engine.receipts([receipt("200")], NOW + 3 * MINUTE)
    assert status(engine, campaign_id) == "received"
    assert engine.history(message_id) == [("queued", "sent"),
                                          ("sent", "delivered_to_operator"),
                                          ("delivered_to_operator", "received")]
    report = engine.report(campaign_id)
    assert report["statuses"]["received"] == 1 and report["recipients"] == 1
    assert report["cost_credits"] == Decimal(3)


def test_a_multipart_message_is_pending_while_a_part_is_then_its_worst_part(
        db: Database) -> None:
    engine, campaign_id, message_id = three_parts(db)
    engine.receipts([receipt("100"), receipt("200", "UNDELIV", "001")], NOW + MINUTE)
    assert status(engine, campaign_id) == "sent"
    assert engine.report(campaign_id)["counts"]["pending"] == 1
    engine.receipts([receipt("300")], NOW + 2 * MINUTE)
    assert status(engine, campaign_id) == "permanent_error_absence"
    assert engine.history(message_id)[-1] == ("sent", "permanent_error_absence")
    assert engine.report(campaign_id)["counts"]["hard_bounce"] == 1


def test_between_parts_of_the_same_category_the_first_part_gives_the_status(
        db: Database) -> None:
    engine, campaign_id, _ = three_parts(db)
    # part 1: unknown subscriber; part 2: illegal subscriber (both hard bounces);
    # part 2's receipt completes the message, but part 1 comes first
    engine.receipts([receipt("100", "UNDELIV", "001")], NOW + MINUTE)
    engine.receipts([receipt("300")], NOW + 2 * MINUTE)
    engine.receipts([receipt("200", "UNDELIV", "009")], NOW + 3 * MINUTE)
    assert status(engine, campaign_id) == "permanent_error_absence"
    engine.report(campaign_id)


# -- retries ----------------------------------------------------------------------------


def test_a_temporary_error_with_attempts_left_schedules_a_retry_after_the_backoff(
        db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["2h", "12h"])).setup(credits=10)
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=["a1"])
    failed_at = NOW + MINUTE
    engine.receipts([receipt("a1", "UNDELIV", "027")], failed_at)
    message = engine.message(campaign_id, number(1))
    assert message.status == "retry_scheduled"
    assert message.next_attempt_at == failed_at + timedelta(hours=2)
    assert engine.history(message.id)[-1] == ("sent", "retry_scheduled")
    report = engine.report(campaign_id)
    assert report["counts"]["pending"] == 1 and report["counts"]["soft_bounce"] == 0
    with db.session() as session:
        assert CreditBank(session).balance().available == Decimal(9)
    # not before its time; then attempt 2, paid from the balance
    assert engine.claim(failed_at + timedelta(hours=2) - MINUTE) == []
    claimed = engine.claim(failed_at + timedelta(hours=2))
    assert [c["attempts"] for c in claimed] == [2]
    with db.session() as session:
        assert CreditBank(session).balance().available == Decimal(8)
    engine.record(claimed, [ok("a2")], failed_at + timedelta(hours=2))
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts, message.credits) == ("sent", 2, Decimal(2))
    assert engine.history(message.id)[-2:] == [("retry_scheduled", "queued"),
                                               ("queued", "sent")]
    report = engine.report(campaign_id)
    assert report["cost_credits"] == Decimal(2) and report["sent"] == 1
    # attempt 1's part is final already: another receipt for it (re-sent with another
    # date, or contradicting it) changes nothing, and never retries attempt 2
    before = engine.counters(campaign_id)
    for stat, err in (("UNDELIV", "027"), ("DELIVRD", "000")):
        engine.receipts([receipt("a1", stat, err, done="2611241600")],
                        failed_at + timedelta(hours=3))
        assert status(engine, campaign_id) == "sent"
    assert engine.counters(campaign_id) == before
    engine.receipts([receipt("a2")], failed_at + timedelta(hours=3))
    assert status(engine, campaign_id) == "received"
    engine.report(campaign_id)


def test_after_the_last_attempt_a_temporary_error_is_the_final_soft_bounce(
        db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["1h"])).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=["a1"])
    engine.receipts([receipt("a1", "UNDELIV", "027")], NOW)
    retry_at = NOW + timedelta(hours=1)
    engine.send_all(retry_at, ids=["a2"])
    engine.receipts([receipt("a2", "UNDELIV", "031")], retry_at + MINUTE)
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("temporary_error_phone", 2)
    assert message.next_attempt_at is None
    assert engine.history(message.id) == [
        ("queued", "sent"), ("sent", "retry_scheduled"), ("retry_scheduled", "queued"),
        ("queued", "sent"), ("sent", "temporary_error_phone")]
    assert engine.claim(retry_at + timedelta(days=1)) == []
    report = engine.report(campaign_id)
    assert report["counts"]["soft_bounce"] == 1 and report["counts"]["pending"] == 0


def test_a_retry_is_never_scheduled_past_the_validity(db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["2h", "12h"], validity="3h")).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=["a1"])
    engine.receipts([receipt("a1", "UNDELIV", "027")], NOW + MINUTE)
    retry_at = NOW + MINUTE + timedelta(hours=2)
    assert engine.message(campaign_id, number(1)).next_attempt_at == retry_at
    engine.send_all(retry_at, ids=["a2"])
    # the next one would be 12 h later: past the 3 h validity, so this one is final
    engine.receipts([receipt("a2", "UNDELIV", "027")], retry_at + MINUTE)
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("temporary_error_absence", 2)
    engine.report(campaign_id)


def test_a_retry_that_cannot_be_paid_ends_with_the_soft_bounce(db: Database) -> None:
    engine = Engine(db, config=make_config(backoff=["1h", "2h"])).setup(credits=1)
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=["a1"])
    engine.receipts([receipt("a1", "UNDELIV", "027")], NOW)
    assert status(engine, campaign_id) == "retry_scheduled"
    assert engine.claim(NOW + timedelta(hours=1)) == []
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.attempts) == ("temporary_error_absence", 1)
    assert engine.history(message.id)[-1][1] == "temporary_error_absence"
    assert engine.claim(NOW + timedelta(days=1)) == []
    report = engine.report(campaign_id)
    assert report["counts"]["soft_bounce"] == 1 and report["cost_credits"] == Decimal(1)


# -- expiry and in-doubt submits --------------------------------------------------------


def test_no_final_receipt_within_the_validity_is_expired_as_a_guess(db: Database) -> None:
    engine = Engine(db, config=make_config(validity="1h")).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)])
    engine.send_all(ids=["a1", "a2"])
    engine.receipts([receipt("a2")], NOW + MINUTE)
    assert engine.expire(NOW + timedelta(hours=1)) == 0
    assert engine.expire(NOW + timedelta(hours=1, seconds=1)) == 1
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.status_is_guess) == ("expired", True)
    assert engine.history(message.id)[-1] == ("sent", "expired")
    assert status(engine, campaign_id, number(2)) == "received"
    report = engine.report(campaign_id)
    assert report["statuses"]["expired"] == 1 and report["counts"]["pending"] == 0


def test_in_doubt_submits_are_never_claimed_again(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)])
    claimed = engine.claim()
    by_number = {c["number"]: c for c in claimed}
    # number 1: the link died before the answer; number 2: the worker crashed
    engine.record([by_number[number(1)]], [in_doubt()])
    for later in (NOW + MINUTE, NOW + timedelta(hours=1), NOW + timedelta(hours=71)):
        assert engine.claim(later) == []
    for to in (number(1), number(2)):
        message = engine.message(campaign_id, to)
        assert (message.status, message.in_doubt, message.attempts) == ("queued", True, 1)
    engine.report(campaign_id)


def test_a_receipt_matched_by_address_settles_an_in_doubt_submit(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)])
    claimed = engine.claim()
    by_number = {c["number"]: c for c in claimed}
    engine.record([by_number[number(1)]], [in_doubt()])
    # the answer was lost but the SMSC had it: its receipts name an id we never saw
    result = engine.receipts([receipt("77", "ENROUTE", to=number(1)),
                              receipt("77", "DELIVRD", to=number(1))], NOW + MINUTE)
    assert result.applied == 2
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.in_doubt) == ("received", False)
    assert len(engine.parts(message.id)) == 1
    # the crashed claim: while it is live, a receipt waits; once lapsed, it settles it
    assert engine.receipts([receipt("78", "ENROUTE", to=number(2))],
                           NOW + LEASE / 2).orphans == 1
    lapsed = NOW + LEASE + MINUTE
    assert engine.receipts([receipt("78", "DELIVRD", to=number(2))], lapsed).applied == 1
    assert status(engine, campaign_id, number(2)) == "received"
    report = engine.report(campaign_id)
    assert report["statuses"]["received"] == 2
    assert report["sent"] == 2  # the operator did accept them
    # ... and they are paid for, once each, as a recorded answer would have made them
    assert report["cost_credits"] == Decimal(2)
    assert [m.credits for m in engine.messages(campaign_id)] == [Decimal(1), Decimal(1)]
    with db.session() as session:
        # charged from the campaign's reservation: nothing is left reserved
        assert CreditBank(session).balance() == Balance(Decimal(1000 - 2), Decimal(0))


def test_an_in_doubt_submit_without_receipt_ends_undefined_a_guess_a_receipt_replaces(
        db: Database) -> None:
    engine = Engine(db, config=make_config(validity="1h")).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.record(engine.claim(), [in_doubt()])
    assert engine.expire(NOW + timedelta(minutes=59)) == 0
    assert engine.expire(NOW + timedelta(hours=1, seconds=1)) == 1
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.status_is_guess) == ("undefined", True)
    assert engine.history(message.id) == [("queued", "undefined")]
    assert engine.report(campaign_id)["counts"]["error"] == 1
    assert engine.expire(NOW + timedelta(hours=2)) == 0
    # the operator's word, late: it replaces the guess
    engine.receipts([receipt("99", "DELIVRD", to=number(1))], NOW + timedelta(hours=2))
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.status_is_guess) == ("received", False)
    report = engine.report(campaign_id)
    assert report["counts"]["error"] == 0 and report["counts"]["delivered"] == 1


def test_an_orphan_for_a_crashed_claim_is_settled_by_the_sweep_once_the_claim_lapses(
        db: Database) -> None:
    from smscope.receipts.mapping import StatusMapping
    from smscope.receipts.orphans import sweep_orphans

    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(3)])
    engine.claim()  # the worker dies before it records the submit response
    live = NOW + LEASE / 2
    assert engine.receipts([receipt("79", "DELIVRD", to=number(3))], live).orphans == 1

    def sweep(at: object) -> int:
        with db.transaction() as session:
            return sweep_orphans(session, connector_id=engine.connector_id, id_format="hex",
                                 mapping=StatusMapping(), config=engine.config,
                                 now=at)  # type: ignore[arg-type]

    assert sweep(live) == 0  # the claim may still be recorded: the receipt waits
    assert status(engine, campaign_id, number(3)) == "queued"
    assert sweep(NOW + LEASE + MINUTE) == 1
    message = engine.message(campaign_id, number(3))
    assert (message.status, message.in_doubt) == ("received", False)
    assert engine.stored_receipts()[0].state == "applied"
    assert engine.report(campaign_id)["statuses"]["received"] == 1


def test_retries_are_paid_one_by_one_as_far_as_the_balance_goes(db: Database) -> None:
    engine = Engine(db).setup(credits=3)
    campaign_id = engine.campaign(numbers=[number(1), number(2), number(3)])
    sent = engine.send_all()
    engine.receipts([receipt(sent[number(i)], "UNDELIV", "027", to=number(i))
                     for i in (1, 2, 3)], NOW + MINUTE)
    assert {status(engine, campaign_id, number(i)) for i in (1, 2, 3)} == {
        "retry_scheduled"}
    with db.transaction() as session:
        CreditBank(session).add(1)  # one retry's worth
    retried = engine.claim(NOW + timedelta(hours=3))
    assert [item["number"] for item in retried] == [number(1)]
    # the others are not retried: their soft bounce is final
    for i in (2, 3):
        message = engine.message(campaign_id, number(i))
        assert (message.status, message.attempts) == ("temporary_error_absence", 1)
        assert "not enough credit" in (message.error_detail or "")
    with db.session() as session:
        assert CreditBank(session).balance() == Balance(Decimal(0), Decimal(0))
    engine.report(campaign_id)


def test_a_record_after_the_lease_ran_out_does_not_count_a_settled_submit_twice(
        db: Database) -> None:
    """The answer came so late that the lease ran out and the receipt settled the
    submit by its addresses: the record that follows changes nothing."""
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    claimed = engine.claim()
    lapsed = NOW + LEASE + MINUTE
    assert engine.receipts([receipt("77", "DELIVRD", to=number(1))], lapsed).applied == 1
    counts = engine.record(claimed, [ok("77")], lapsed)
    assert (counts["not_held"], counts["sent"]) == (1, 0)
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.credits, message.in_doubt) == (
        "received", Decimal(1), False)
    assert len(engine.parts(message.id)) == 1
    report = engine.report(campaign_id)
    assert (report["sent"], report["cost_credits"]) == (1, Decimal(1))
    with db.session() as session:
        assert CreditBank(session).balance() == Balance(Decimal(999), Decimal(0))


def test_an_in_doubt_submit_is_settled_once_whoever_comes_second(db: Database) -> None:
    """Two settlements that both saw the submit in doubt (on PostgreSQL, two
    transactions at once): the second finds it settled and does nothing."""
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.record(engine.claim(), [in_doubt()])
    lapsed = NOW + LEASE + MINUTE
    with db.session() as session:
        row = session.execute(
            select(Message.id, Message.attempts, Message.campaign_id, Message.list_ids,
                   Message.sent_at, Message.kind, Message.region, Message.segments)
            .where(Message.campaign_id == campaign_id)).one()
    assert engine.receipts([receipt("77", "ENROUTE", to=number(1))], lapsed).applied == 1
    with db.transaction() as session:
        late = _Applier(session, Outcomes(session, config=engine.config, now=lapsed),
                        engine.connector_id, engine.id_format, engine.prices)
        assert late._in_doubt_part(row, "78") is None  # what it read is stale
        late.flush()
        late.outcomes.flush()
    message = engine.message(campaign_id, number(1))
    assert len(engine.parts(message.id)) == 1 and message.credits == Decimal(1)
    report = engine.report(campaign_id)
    assert (report["sent"], report["cost_credits"]) == (1, Decimal(1))
