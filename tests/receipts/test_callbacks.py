"""HTTP providers' status reports through the receipt pipeline (Ingest.callbacks): the
same rules as SMPP receipts — idempotent, monotonic, order-independent — on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import BlacklistEntry
from smscope.receipts.http import Callback, twilio, vonage
from smscope.receipts.ingest import Ingest
from smscope.receipts.orphans import sweep_orphans
from smscope.statuses import Status
from tests.campaigns.helpers import NOW, SENDER, Engine, number

LATER = NOW + timedelta(minutes=1)
SID = "SM0123456789abcdef0123456789abcdef"


def twilio_report(stat: str, err: str | None = None, *, sid: str = SID,
                  to: str = number(1)) -> Callback:
    raw = f"MessageSid={sid}&MessageStatus={stat}&ErrorCode={err or ''}&To={to}"
    return Callback(provider_id=sid, stat=stat, err=err, status=twilio.status_of(stat, err),
                    number=to, sender=SENDER, opt_out=err in twilio.OPT_OUT, raw=raw)


def sent_one(db: Database, provider_id: str = SID) -> tuple[Engine, int, int]:
    engine = Engine(db, id_format="string").setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all(ids=[provider_id])
    return engine, campaign_id, engine.message(campaign_id, number(1)).id


def callbacks(engine: Engine, reports: list[Callback], now=LATER, connector_id=None):
    return Ingest(engine.db, connector_id=connector_id or engine.connector_id,
                  config=engine.config, id_format="string", clock=lambda: now,
                  prices=engine.prices).callbacks(reports)


def test_a_report_moves_its_message_and_a_byte_identical_repeat_changes_nothing(
        db: Database) -> None:
    engine, campaign_id, message_id = sent_one(db)
    first = callbacks(engine, [twilio_report("sent"), twilio_report("delivered")])
    assert (first.stored, first.applied, first.orphans) == (2, 2, 0)
    assert engine.message(campaign_id, number(1)).status == "received"
    before = engine.counters(campaign_id)
    again = callbacks(engine, [twilio_report("delivered")], LATER + timedelta(minutes=1))
    assert (again.stored, again.duplicates) == (0, 1)
    assert len(engine.stored_receipts()) == 2
    assert engine.counters(campaign_id) == before
    assert engine.history(message_id) == [("queued", "sent"), ("sent", "delivered_to_operator"),
                                          ("delivered_to_operator", "received")]
    assert {r.source for r in engine.stored_receipts()} == {"http"}
    engine.report(campaign_id)


def test_a_late_sent_after_delivered_changes_nothing(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    callbacks(engine, [twilio_report("delivered")])
    before = engine.counters(campaign_id)
    result = callbacks(engine, [twilio_report("sent")], LATER + timedelta(seconds=5))
    assert result.stored == 1
    assert engine.message(campaign_id, number(1)).status == "received"
    assert engine.counters(campaign_id) == before


def test_a_report_before_its_send_is_recorded_waits_and_is_applied_with_its_own_table(
        db: Database) -> None:
    engine = Engine(db, id_format="string").setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    claimed = engine.claim()
    # Twilio's "undelivered" + 30005: a word and a code the SMPP table does not know
    # within the claim's lease: it waits for the record, not matched by its addresses
    early = callbacks(engine, [twilio_report("undelivered", "30005")],
                      NOW + timedelta(seconds=5))
    assert (early.stored, early.orphans) == (1, 1)
    from tests.campaigns.helpers import ok

    engine.record(claimed, [ok(SID)], NOW + timedelta(seconds=6))
    message = engine.message(campaign_id, number(1))
    assert message.status == Status.PERMANENT_ERROR_ABSENCE.value
    assert [r.state for r in engine.stored_receipts()] == ["applied"]
    engine.report(campaign_id)


def test_the_orphan_sweep_applies_http_reports_with_their_own_table(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db, provider_id="other-id")
    # stored as an orphan, then its part appears without a record (as when two workers
    # cross on PostgreSQL): the sweep applies it
    callbacks(engine, [twilio_report("undelivered", "30003", sid="late-id")])
    from smscope.db.tables import MessagePart

    with engine.db.transaction() as session:
        part = session.scalars(select(MessagePart)).one()
        part.operator_id, part.operator_key = "late-id", "s:late-id"
    with engine.db.transaction() as session:
        applied = sweep_orphans(session, connector_id=engine.connector_id, id_format="string",
                                mapping=__import__("smscope.receipts.mapping",
                                                   fromlist=["StatusMapping"]).StatusMapping(),
                                config=engine.config, now=LATER + timedelta(seconds=2))
    assert applied == 1
    # a temporary error with attempts left: another attempt is planned
    assert engine.message(campaign_id, number(1)).status == "retry_scheduled"


def test_an_opt_out_failure_blacklists_the_number(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    callbacks(engine, [twilio_report("failed", "21610")])
    assert engine.message(campaign_id, number(1)).status == "blacklisted"
    with engine.db.session() as session:
        entry = session.scalars(select(BlacklistEntry)).one()
    assert (entry.number, entry.source) == (number(1), "provider_optout")
    report = engine.report(campaign_id)
    assert report["counts"]["unsubscribed"] == 1


def test_a_vonage_err_code_9_blacklists_the_number(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db, provider_id="0A0000001234567B")
    report = Callback(provider_id="0A0000001234567B", stat="failed", err="9",
                      status=vonage.status_of("failed", "9"), number=number(1),
                      opt_out=True, raw="messageId=0A0000001234567B&status=failed&err-code=9")
    callbacks(engine, [report])
    assert engine.message(campaign_id, number(1)).status == "blacklisted"
    with engine.db.session() as session:
        assert session.scalar(select(BlacklistEntry.number)) == number(1)


def test_a_provider_id_is_matched_only_within_its_connector(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    with engine.db.transaction() as session:
        other = add_connector(session, "other", "http", {"provider": "generic",
                                                         "api_url": "http://x", "secret": "s"})
        other_id = other.id
    result = callbacks(engine, [twilio_report("delivered")], connector_id=other_id)
    assert (result.stored, result.orphans) == (1, 1)
    assert engine.message(campaign_id, number(1)).status == "sent"


def test_the_connectors_mapping_overrides_the_providers_table(db: Database) -> None:
    engine, campaign_id, _ = sent_one(db)
    from smscope.receipts.mapping import StatusMapping

    ingest = Ingest(engine.db, connector_id=engine.connector_id, config=engine.config,
                    id_format="string", clock=lambda: LATER,
                    mapping=StatusMapping.from_overrides({"undelivered:30008": "rejected"}))
    ingest.callbacks([twilio_report("undelivered", "30008")])
    assert engine.message(campaign_id, number(1)).status == "rejected"


def test_a_send_refused_because_the_recipient_opted_out_blacklists_the_number(
        db: Database) -> None:
    from smscope.campaigns.dispatch import OPTED_OUT
    from smscope.smpp.client import PartResult, SubmitResult

    engine = Engine(db, id_format="string").setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)])
    claimed = engine.claim()
    refused = SubmitResult((PartResult("failed", status=OPTED_OUT,
                                       error="Twilio error 21610 unsubscribed"),))
    by_number = {c["number"]: c for c in claimed}
    engine.record([by_number[number(1)], by_number[number(2)]],
                  [refused, SubmitResult((PartResult("ok", message_id="SM2"),))])
    assert engine.message(campaign_id, number(1)).status == "blacklisted"
    assert engine.message(campaign_id, number(2)).status == "sent"
    with engine.db.session() as session:
        assert list(session.scalars(select(BlacklistEntry.number))) == [number(1)]
    engine.report(campaign_id)
