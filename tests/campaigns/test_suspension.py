"""Auto-suspension of a sending campaign from its counters (CONTRACTS §6), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from smscope.campaigns import service
from smscope.campaigns.timeline import timeline
from smscope.db import Database
from tests.campaigns.helpers import NOW, Engine, make_config, mo, number, receipt

LATER = NOW + timedelta(minutes=1)


def state(engine: Engine, campaign_id: int) -> str:
    with engine.db.session() as session:
        return service.get_campaign(session, campaign_id).state


def suspensions(engine: Engine, campaign_id: int) -> list[str]:
    with engine.db.session() as session:
        return [e.message for e in timeline(session, campaign_id) if e.kind == "suspended"]


def started(db: Database, recipients: int) -> tuple[Engine, int, dict[str, str]]:
    engine = Engine(db, config=make_config(min_sample=10)).setup()
    campaign_id = engine.campaign(numbers=[number(i) for i in range(1, recipients + 1)])
    ids = engine.send_all()
    return engine, campaign_id, ids


def test_enough_hard_bounces_suspend_a_sending_campaign(db: Database) -> None:
    engine, campaign_id, ids = started(db, 12)
    batch = [receipt(ids[number(i)], "UNDELIV", "001", to=number(i)) for i in range(1, 7)]
    batch += [receipt(ids[number(i)], to=number(i)) for i in range(7, 11)]
    engine.receipts(batch, LATER)
    assert state(engine, campaign_id) == "suspended"
    assert suspensions(engine, campaign_id) == [
        "suspended: hard-bounce rate 60 % > 5 % after 10 messages"]
    report = engine.report(campaign_id)
    assert report["state_reason"] == "hard-bounce rate 60 % > 5 % after 10 messages"
    assert report["counts"]["hard_bounce"] == 6 and report["counts"]["pending"] == 2


def test_below_the_minimum_sample_nothing_is_suspended(db: Database) -> None:
    engine, campaign_id, ids = started(db, 9)
    engine.receipts([receipt(ids[number(i)], "UNDELIV", "001", to=number(i))
                     for i in range(1, 10)], LATER)
    assert state(engine, campaign_id) == "sending"
    assert suspensions(engine, campaign_id) == []
    assert engine.report(campaign_id)["counts"]["hard_bounce"] == 9


def test_a_suspended_campaign_sends_nothing_and_once_resumed_is_not_suspended_again_at_once(
        db: Database) -> None:
    engine = Engine(db, config=make_config(min_sample=10)).setup()
    campaign_id = engine.campaign(numbers=[number(i) for i in range(1, 31)])
    sent = engine.send_all(limit=10)
    first = list(sent)
    engine.receipts([receipt(sent[n], "UNDELIV", "001", to=n) for n in first[:6]]
                    + [receipt(sent[n], to=n) for n in first[6:]], LATER)
    assert state(engine, campaign_id) == "suspended"
    assert engine.claim(LATER) == []  # nothing goes while suspended
    with db.transaction() as session:
        service.resume(session, campaign_id, now=LATER + timedelta(minutes=1))
    assert state(engine, campaign_id) == "sending"
    # new outcomes, fewer than min_sample since the resume: not suspended again by the
    # hard bounces that stopped it
    more = engine.send_all(LATER + timedelta(minutes=2))
    assert len(more) == 20
    fresh = list(more)
    engine.receipts([receipt(more[n], to=n) for n in fresh[:5]], LATER + timedelta(minutes=3))
    assert state(engine, campaign_id) == "sending"
    # 10 new outcomes with 1 hard bounce (10 % > 5 %): suspended again, on new figures
    engine.receipts([receipt(more[fresh[5]], "UNDELIV", "001", to=fresh[5])]
                    + [receipt(more[n], to=n) for n in fresh[6:10]],
                    LATER + timedelta(minutes=4))
    assert state(engine, campaign_id) == "suspended"
    assert suspensions(engine, campaign_id)[-1] == (
        "suspended: hard-bounce rate 10 % > 5 % after 10 messages")
    engine.report(campaign_id)


def test_stop_replies_count_towards_the_unsubscribe_rate(db: Database) -> None:
    engine, campaign_id, ids = started(db, 10)
    engine.receipts([receipt(ids[number(i)], to=number(i)) for i in range(1, 11)], LATER)
    assert state(engine, campaign_id) == "sending"
    engine.replies([mo("STOP", frm=number(1))], LATER + timedelta(minutes=1))
    assert state(engine, campaign_id) == "suspended"
    assert suspensions(engine, campaign_id) == [
        "suspended: unsubscribe rate 10 % > 2 % after 10 messages"]
