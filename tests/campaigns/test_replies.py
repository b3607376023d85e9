"""Replies (MO): stored once, linked to the campaign that last texted the number from
that address; STOP blacklists it and counts once per number (CONTRACTS §5, §8)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from smscope.contacts import blacklist
from smscope.db import Database
from smscope.db.tables import Contact, Reply
from tests.campaigns.helpers import NOW, Engine, mo, number


def replies(db: Database) -> list[Reply]:
    with db.session() as session:
        return list(session.scalars(select(Reply).order_by(Reply.id)))


def is_blacklisted(db: Database, to: str) -> bool:
    with db.session() as session:
        return blacklist.is_blacklisted(session, to)


def test_a_reply_is_linked_to_the_campaign_that_last_texted_the_number_from_that_sender(
        db: Database) -> None:
    engine = Engine(db).setup()
    first = engine.campaign(numbers=[number(1)], name="first", text="one")
    engine.send_all()
    second = engine.campaign(numbers=[number(1)], name="second", text="two",
                             now=NOW + timedelta(minutes=1))
    engine.send_all(NOW + timedelta(minutes=1))
    # a later campaign from another sender is not the one replied to
    engine.campaign(numbers=[number(1)], name="other", text="three", sender="OTHER",
                    now=NOW + timedelta(minutes=2))
    engine.send_all(NOW + timedelta(minutes=2))
    assert engine.replies([mo("Thanks!")], NOW + timedelta(minutes=3)) == 1
    (reply,) = replies(db)
    assert (reply.number, reply.sender, reply.text, reply.is_stop) == (
        number(1), "SHOP", "Thanks!", False)
    assert reply.campaign_id == second
    assert reply.message_id == engine.message(second, number(1)).id
    assert engine.report(second)["replies"] == 1 and engine.report(first)["replies"] == 0
    assert not is_blacklisted(db, number(1))


def test_stop_replies_blacklist_the_number_and_count_once_per_number(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("a", [{"number": number(1)}])
    campaign_id = engine.campaign(lists=["a"], numbers=[number(2), number(3)])
    engine.send_all()
    later = NOW + timedelta(minutes=5)
    assert engine.replies([mo("Stop", frm=number(1)), mo("ARRÊT", frm=number(1)),
                           mo("stop!", frm=number(2)), mo("don't stop", frm=number(3))],
                          later) == 4
    assert [r.is_stop for r in replies(db)] == [True, True, True, False]
    assert is_blacklisted(db, number(1)) and is_blacklisted(db, number(2))
    assert not is_blacklisted(db, number(3))
    with db.session() as session:
        state = session.scalar(select(Contact.state).where(Contact.number == number(1)))
    assert state == "blacklisted"
    report = engine.report(campaign_id)
    assert (report["stop_replies"], report["replies"]) == (2, 4)
    assert report["unsubscribes"] == 2  # none blacklisted at send, 2 STOP replies
    # another STOP from the same number, later, is not a new unsubscribe
    engine.replies([mo("STOP", frm=number(2))], later + timedelta(hours=2))
    assert engine.report(campaign_id)["stop_replies"] == 2


def test_a_resent_identical_reply_is_stored_once(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    engine.send_all()
    at = NOW + timedelta(minutes=5)
    assert engine.replies([mo("stop"), mo("stop")], at) == 1
    assert engine.replies([mo("stop")], at + timedelta(seconds=30)) == 0
    assert len(replies(db)) == 1
    report = engine.report(campaign_id)
    assert (report["replies"], report["stop_replies"]) == (1, 1)
    # re-sent across the turn of an hour: still the same reply
    assert engine.replies([mo("hello")], NOW + timedelta(minutes=59, seconds=50)) == 1
    assert engine.replies([mo("hello")], NOW + timedelta(minutes=60, seconds=10)) == 0
    # the same words an hour later are a new reply
    assert engine.replies([mo("hello")], NOW + timedelta(hours=2)) == 1
    assert engine.report(campaign_id)["replies"] == 3
