"""Tracked links end to end in storage: fan-out rewrites and counts them, a click is
recorded and counted (total and unique), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from alembic import command
from sqlalchemy import delete, func, select

from smscope.campaigns import service
from smscope.campaigns.counters import read_counters
from smscope.db import Database
from smscope.db.engine import _alembic_config
from smscope.db.tables import Campaign, Click, Link, Message
from smscope.text import measure
from smscope.tracking import clicks
from smscope.tracking.clicks import is_bot
from smscope.tracking.links import preview
from tests.campaigns.helpers import NOW, Engine, number

TOKEN_RX = re.compile(r"http://127\.0\.0\.1:8000/c/([0-9A-Za-z]{12})")
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"
TEXT = "Soldes -20 % : shop.example.com/soldes et https://b.example/x !"


def tokens_of(engine: Engine, campaign_id: int) -> dict[str, list[str]]:
    return {m.number: TOKEN_RX.findall(m.text) for m in engine.messages(campaign_id)}


def click(engine: Engine, token: str, user_agent: str = PHONE) -> str | None:
    """Follow ``token`` as the web app does; the URL it leads to (None: 404)."""
    with engine.db.session() as session:
        target = clicks.resolve(session, token)
    if target is None:
        return None
    with engine.db.transaction() as session:
        clicks.record(session, target, at=NOW + timedelta(minutes=5),
                      user_agent=user_agent, address="192.0.2.7")
    return target.url


def test_every_recipient_gets_tracked_links_of_their_own(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(i) for i in range(1, 6)])
    found = tokens_of(engine, campaign_id)
    assert all(len(tokens) == 2 for tokens in found.values())
    every = [t for tokens in found.values() for t in tokens]
    assert len(set(every)) == 10
    for message in engine.messages(campaign_id):
        assert "shop.example.com" not in message.text and "b.example" not in message.text
        assert TOKEN_RX.sub("L", message.text) == "Soldes -20 % : L et L !"
    with db.session() as session:
        links = session.execute(select(Link.position, Link.url).where(
            Link.campaign_id == campaign_id).order_by(Link.position)).all()
    assert [tuple(row) for row in links] == [(0, "http://shop.example.com/soldes"),
                                             (1, "https://b.example/x")]


def test_segments_and_cost_count_the_links_as_sent(db: Database) -> None:
    # 130 characters as written: one segment; sent with two tracked links: two
    text = "Bonjour, nos soldes continuent : https://a.example/x et https://b.example/y " + (
        "x" * 56)
    assert measure(text).segments == 1
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=text, numbers=[number(1), number(2)])
    messages = engine.messages(campaign_id)
    assert {m.segments for m in messages} == {2}
    assert all(measure(m.text).segments == 2 for m in messages)
    with db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        assert (campaign.segments, campaign.encoding) == (2, "GSM-7")
    assert measure(preview(text, engine.config.public_url)).segments == 2
    report = engine.report(campaign_id)
    assert report["segments"] == 2
    engine.send_all()
    assert engine.report(campaign_id)["cost_credits"] == Decimal(4)


def test_the_draft_summary_already_counts_tracked_links(db: Database) -> None:
    engine = Engine(db).setup()
    text = "Soldes: https://shop.example.com/" + "a" * 150
    campaign_id = engine.campaign(text=text, numbers=[number(1)], send=False)
    with db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.segments == 1
    with db.transaction() as session:
        service.edit_campaign(session, campaign_id, config=engine.config, now=NOW,
                              text=text + " et https://b.example/" + "b" * 150)
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.segments == 1


def test_personalised_texts_are_rewritten_after_rendering(db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("vip", [{"number": number(1), "first_name": "Léa"},
                            {"number": number(2), "first_name": None}])
    campaign_id = engine.campaign(text="Bonjour {first_name|toi}, shop.example.com/x {{ok}}",
                                  lists=["vip"])
    texts = {m.number: TOKEN_RX.sub("L", m.text) for m in engine.messages(campaign_id)}
    assert texts == {number(1): "Bonjour Léa, L {ok}", number(2): "Bonjour toi, L {ok}"}


def test_the_duplicate_filter_compares_the_text_as_written(db: Database) -> None:
    engine = Engine(db).setup()
    first = engine.campaign(text=TEXT, numbers=[number(1)], name="a")
    second = engine.campaign(text=TEXT, numbers=[number(1)], name="b")
    assert engine.messages(first)[0].status == "queued"
    assert engine.messages(second)[0].status == "duplicate"


def test_links_are_left_alone_when_tracking_is_off(db: Database) -> None:
    engine = Engine(db).setup()
    with db.transaction() as session:
        campaign = service.create_campaign(
            session, name="c", sender="SHOP", text=TEXT, config=engine.config, now=NOW,
            numbers=[{"raw": number(1), "number": number(1)}], type_="transactional",
            connector="sim", track_links=False)
        campaign_id = campaign.id
    with db.transaction() as session:
        service.send(session, campaign_id, config=engine.config, prices=engine.prices, now=NOW)
    assert engine.messages(campaign_id)[0].text == TEXT


def test_a_click_redirects_to_its_own_link_and_is_counted_once_as_unique(
        db: Database) -> None:
    engine = Engine(db).setup()
    engine.contacts("vip", [{"number": number(1)}, {"number": number(2)}])
    campaign_id = engine.campaign(text=TEXT, lists=["vip"])
    found = tokens_of(engine, campaign_id)
    one, two = found[number(1)], found[number(2)]
    assert click(engine, one[0]) == "http://shop.example.com/soldes"
    assert click(engine, one[1]) == "https://b.example/x"
    assert click(engine, one[0]) == "http://shop.example.com/soldes"
    assert click(engine, two[1]) == "https://b.example/x"
    counters = engine.counters(campaign_id)
    assert (counters["clicks"], counters["unique_clicks"]) == (4, 2)
    report = engine.report(campaign_id)  # also checks the statistics counters agree
    assert (report["clicks"], report["unique_clicks"]) == (4, 2)
    with db.session() as session:
        list_id = session.scalar(select(Message.list_ids).where(
            Message.campaign_id == campaign_id).limit(1))[0]
        rows = session.scalars(select(Click).order_by(Click.id)).all()
    with db.session() as session:
        by_list = read_counters(session, campaign_id, list_id)
    assert (by_list["clicks"], by_list["unique_clicks"]) == (4, 2)
    assert len(rows) == 4
    assert rows[0].campaign_id == campaign_id and rows[0].user_agent == PHONE
    assert rows[0].address == "192.0.2.7" and rows[0].at == NOW + timedelta(minutes=5)


def test_unknown_tampered_and_foreign_tokens_lead_nowhere(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(1)])
    token = tokens_of(engine, campaign_id)[number(1)][0]
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in [flipped, token[:-1], token + "0", "0" * 12, token.replace(token[3], "-"),
                "zzzzzzzzzzzz", ""]:
        assert click(engine, bad) is None
    assert engine.counters(campaign_id).get("clicks", 0) == 0


def test_a_token_of_a_deleted_message_leads_nowhere(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(1)])
    token = tokens_of(engine, campaign_id)[number(1)][0]
    with db.transaction() as session:
        session.execute(delete(Message).where(Message.campaign_id == campaign_id))
    assert click(engine, token) is None


def test_link_preview_bots_are_recorded_but_not_counted(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(1)])
    token = tokens_of(engine, campaign_id)[number(1)][0]
    preview_bot = ("Mozilla/5.0 (Macintosh) AppleWebKit/601.2.4 Safari/601.2.4 "
                   "facebookexternalhit/1.1 Facebot Twitterbot/1.0")
    assert click(engine, token, preview_bot) == "http://shop.example.com/soldes"
    assert engine.counters(campaign_id).get("clicks", 0) == 0
    assert click(engine, token) is not None
    assert engine.counters(campaign_id)["unique_clicks"] == 1
    with db.session() as session:
        assert [c.bot for c in session.scalars(select(Click).order_by(Click.id))] == [
            True, False]


def test_bots_by_user_agent() -> None:
    assert is_bot("WhatsApp/2.23.20.0 A") and is_bot("Slackbot-LinkExpanding 1.0")
    assert is_bot("Mozilla/5.0 (compatible; Googlebot/2.1)") and is_bot("TelegramBot")
    assert not is_bot(PHONE) and not is_bot("Mozilla/5.0 (Linux; Android 10; CUBOT X30)")
    assert not is_bot("")


def test_test_sends_are_rewritten_but_their_clicks_count_nowhere(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(1)], send=False)
    with db.transaction() as session:
        ids = service.test_send(session, campaign_id, [number(9)], config=engine.config,
                                now=NOW)
    with db.session() as session:
        test = session.get(Message, ids[0])
        assert test is not None and test.kind == "test"
    found = TOKEN_RX.findall(test.text)
    assert len(found) == 2 and "shop.example.com" not in test.text
    assert click(engine, found[0]) == "http://shop.example.com/soldes"
    assert engine.counters(campaign_id).get("clicks", 0) == 0
    # the real send keeps the link numbers the test send registered
    with db.transaction() as session:
        service.send(session, campaign_id, config=engine.config, prices=engine.prices,
                     now=NOW)
    real = tokens_of(engine, campaign_id)[number(1)]
    assert click(engine, real[1]) == "https://b.example/x"
    assert engine.counters(campaign_id)["clicks"] == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Link)) == 2
        assert session.scalar(select(func.count()).select_from(Click)) == 2


def test_texts_without_links_write_no_tracking_rows(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text="Bonjour, -20 % ce week-end !", numbers=[number(1)])
    assert engine.messages(campaign_id)[0].text == "Bonjour, -20 % ce week-end !"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Link)) == 0


def test_the_tracking_migration_goes_down_and_up_again(db: Database) -> None:
    cfg = _alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert db.current_revision() == db.head_revision()
