"""The receipt pipeline: durable and idempotent, monotonic, order-independent (SPEC §4.3,
CONTRACTS §4, §9), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from smscope.campaigns.dispatch import LEASE
from smscope.db import Database
from tests.campaigns.helpers import NOW, Engine, garbage, number, ok, receipt

LATER = NOW + timedelta(minutes=1)


def sent_one(db: Database, rid: str = "1a2b") -> tuple[Engine, int, int]:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=[rid])
    return engine, campaign_id, engine.message(campaign_id, number(1)).id


def test_same_receipt_twice_in_a_batch_and_again_later_is_stored_and_counted_once(
        db: Database) -> None:
    engine, campaign_id, message_id = sent_one(db)
    first = engine.receipts([receipt("1a2b"), receipt("1a2b")], LATER)
    assert (first.stored, first.duplicates, first.applied) == (1, 1, 1)
    before = engine.counters(campaign_id)
    again = engine.receipts([receipt("1a2b")], LATER + timedelta(minutes=5))
    assert (again.stored, again.duplicates, again.applied) == (0, 1, 0)
    assert len(engine.stored_receipts()) == 1
    assert engine.message(campaign_id, number(1)).status == "received"
    assert engine.history(message_id) == [("queued", "sent"), ("sent", "received")]
    assert engine.counters(campaign_id) == before
    report = engine.report(campaign_id)
    assert report["statuses"]["received"] == 1 and report["counts"]["delivered"] == 1
    assert report["sent"] == 1 and report["rates"]["delivery_rate"] == 1.0


def test_enroute_after_delivrd_changes_nothing_but_the_receipts_history(
        db: Database) -> None:
    engine, campaign_id, message_id = sent_one(db)
    engine.receipts([receipt("1a2b", "DELIVRD")], LATER)
    before = engine.counters(campaign_id)
    result = engine.receipts([receipt("1a2b", "ENROUTE")], LATER + timedelta(seconds=5))
    assert result.stored == 1
    assert engine.message(campaign_id, number(1)).status == "received"
    assert engine.parts(message_id)[0].status == "received"
    assert engine.history(message_id) == [("queued", "sent"), ("sent", "received")]
    assert [r.stat for r in engine.stored_receipts()] == ["DELIVRD", "ENROUTE"]
    assert engine.counters(campaign_id) == before
    engine.report(campaign_id)


def test_delivrd_after_enroute_moves_delivered_to_operator_to_received(db: Database) -> None:
    engine, campaign_id, message_id = sent_one(db)
    engine.receipts([receipt("1a2b", "ENROUTE")], LATER)
    assert engine.message(campaign_id, number(1)).status == "delivered_to_operator"
    assert engine.report(campaign_id)["statuses"]["delivered_to_operator"] == 1
    engine.receipts([receipt("1a2b", "DELIVRD")], LATER + timedelta(seconds=5))
    assert engine.message(campaign_id, number(1)).status == "received"
    assert engine.history(message_id) == [
        ("queued", "sent"), ("sent", "delivered_to_operator"),
        ("delivered_to_operator", "received")]
    report = engine.report(campaign_id)
    assert report["statuses"]["delivered_to_operator"] == 0
    assert report["statuses"]["received"] == 1


def test_a_final_receipt_replaces_smscopes_own_expired_guess(db: Database) -> None:
    engine, campaign_id, message_id = sent_one(db)
    engine.receipts([receipt("1a2b", "ENROUTE")], LATER)
    assert engine.expire(NOW + timedelta(hours=71)) == 0
    assert engine.expire(NOW + timedelta(hours=72, seconds=1)) == 1
    expired = engine.message(campaign_id, number(1))
    assert (expired.status, expired.status_is_guess) == ("expired", True)
    report = engine.report(campaign_id)
    assert report["statuses"]["expired"] == 1 and report["counts"]["soft_bounce"] == 1
    engine.receipts([receipt("1a2b", "DELIVRD")], NOW + timedelta(hours=73))
    message = engine.message(campaign_id, number(1))
    assert (message.status, message.status_is_guess) == ("received", False)
    assert engine.history(message_id)[-2:] == [("delivered_to_operator", "expired"),
                                               ("expired", "received")]
    report = engine.report(campaign_id)
    assert report["statuses"]["expired"] == 0 and report["statuses"]["received"] == 1
    assert report["counts"]["soft_bounce"] == 0 and report["counts"]["delivered"] == 1
    # the operator's word is not replaced in turn
    engine.receipts([receipt("1a2b", "UNDELIV", "001")], NOW + timedelta(hours=74))
    assert engine.message(campaign_id, number(1)).status == "received"


def test_a_receipt_before_the_submit_is_recorded_waits_as_an_orphan(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    claimed = engine.claim()
    early = engine.receipts([receipt("1a2b", "DELIVRD")], NOW)
    assert (early.stored, early.orphans, early.applied) == (1, 1, 0)
    assert engine.stored_receipts()[0].state == "orphan"
    assert engine.message(campaign_id, number(1)).status == "queued"
    engine.record(claimed, [ok("1a2b")], NOW + timedelta(seconds=1))
    message = engine.message(campaign_id, number(1))
    assert message.status == "received"
    assert engine.history(message.id) == [("queued", "sent"), ("sent", "received")]
    stored = engine.stored_receipts()[0]
    assert (stored.state, stored.message_id) == ("applied", message.id)
    report = engine.report(campaign_id)
    assert report["statuses"]["received"] == 1 and report["sent"] == 1


def test_hex_submit_id_matches_its_decimal_rendering_in_the_receipt(db: Database) -> None:
    # 0x1a2b = 6699: the SMSC answered the submit in hex and writes receipts in decimal
    engine, campaign_id, _ = sent_one(db, rid="1a2b")
    result = engine.receipts([receipt("6699", "DELIVRD", tlvs=False)], LATER)
    assert result.applied == 1
    assert engine.message(campaign_id, number(1)).status == "received"
    # and the same, the receipt coming first (an orphan applied at record)
    other = engine.campaign(numbers=[number(2)], name="second", text="other")
    claimed = engine.claim()
    # while the claim is live, the receipt waits for the submit to be recorded
    assert engine.receipts([receipt("6700", "DELIVRD", to=number(2), tlvs=False)],
                           NOW + LEASE / 2).orphans == 1
    engine.record(claimed, [ok("1A2C")], LATER)
    assert engine.message(other, number(2)).status == "received"
    engine.report(other)


def test_a_receipt_for_an_unknown_id_stays_an_orphan_and_changes_nothing(
        db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    before = engine.counters(campaign_id)
    result = engine.receipts([receipt("ffff", "DELIVRD")], LATER)
    assert (result.stored, result.orphans, result.applied) == (1, 1, 0)
    assert engine.stored_receipts()[0].state == "orphan"
    assert engine.message(campaign_id, number(1)).status == "sent"
    assert engine.counters(campaign_id) == before


def test_an_unparseable_receipt_is_stored_as_such_and_does_not_raise(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    result = engine.receipts([garbage(), garbage(), receipt("1a2b")], LATER)
    assert (result.stored, result.unparseable, result.applied, result.duplicates) == (
        2, 1, 1, 1)
    states = sorted(r.state for r in engine.stored_receipts())
    assert states == ["applied", "unparseable"]
    assert engine.message(campaign_id, number(1)).status == "received"
    engine.report(campaign_id)


def test_every_receipt_of_a_mixed_batch_is_stored_whole(db: Database) -> None:
    """Unparseable, orphan and applied receipts in one batch, the unparseable one
    first: each row keeps its own ids and links (a bulk insert once took its columns
    from the first row and dropped the others')."""
    engine, campaign_id, _ = sent_one(db)
    engine.receipts([garbage(), receipt("ffff", to=number(2)), receipt("1a2b")], LATER)
    stored = {r.state: r for r in engine.stored_receipts()}
    assert stored["unparseable"].operator_id is None
    orphan, applied = stored["orphan"], stored["applied"]
    assert (orphan.operator_id, orphan.operator_key, orphan.stat) == ("ffff", "n:65535",
                                                                       "DELIVRD")
    message = engine.message(campaign_id, number(1))
    assert (applied.operator_id, applied.message_id, applied.stat) == ("1a2b", message.id,
                                                                       "DELIVRD")
    assert applied.part_id is not None and applied.applied_at is not None
