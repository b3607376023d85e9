"""The whole loop over real sockets: a campaign with a link is sent through the
in-process simulator, which opens tracked links over HTTP on the web app served by
uvicorn on a free port; the clicks land in the campaign's figures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import select

from smscope.app import Smscope
from smscope.campaigns import service
from smscope.campaigns.fanout import parse_numbers
from smscope.campaigns.worker import Worker
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import Click
from smscope.simulator.clicks import USER_AGENT
from smscope.web import server
from smscope.web.app import create_app
from tests.campaigns.helpers import NOW, Engine, make_config, number
from tests.support.aio import run, until

CLICKING = """
description = "every message delivered at once, and clicked"
[latency]
distribution = "fixed"
value = 0
[[outcomes]]
stat = "DELIVRD"
share = 1.0
[clicks]
rate = 1.0
delay = { distribution = "uniform", min = "0s", max = "0.2s" }
"""


def test_the_simulator_clicks_tracked_links_through_the_served_app(
        db: Database, tmp_path: Path) -> None:
    profile = tmp_path / "clicking.toml"
    profile.write_text(CLICKING)
    sock = server.bind("127.0.0.1", 0)
    config = make_config(public_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    engine = Engine(db, config=config).setup(credits=100)
    numbers = [number(i) for i in range(1, 9)]
    with db.transaction() as session:
        add_connector(session, "clicky", "simulator", {"profile": str(profile)})
        campaign_id = service.create_campaign(
            session, name="links", sender="SHOP", config=config, now=NOW,
            text="Soldes sur shop.example.com/soldes, et https://b.example/x !",
            numbers=parse_numbers(numbers, "FR"), type_="transactional",
            connector="clicky").id
    with db.transaction() as session:
        service.send(session, campaign_id, config=config, prices=engine.prices, now=NOW)
    smscope = Smscope(config, database_url=db.url)
    web = server.BackgroundServer(create_app(smscope), sock).start()

    def unique_clicks() -> int:
        return engine.counters(campaign_id).get("unique_clicks", 0)

    async def body() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Worker(smscope, campaign_id=campaign_id).run(stop))
        try:
            await until(lambda: unique_clicks() == len(numbers), timeout=40)
        finally:
            stop.set()
            await task

    try:
        run(body, timeout=60)
        # the served app answers a stranger's guess with a bare 404
        assert httpx.get(f"{web.url}/c/000000000000").status_code == 404
    finally:
        web.stop()
        smscope.close()
    counters = engine.counters(campaign_id)
    # each recipient opened the first link of the message, once
    assert (counters["clicks"], counters["unique_clicks"]) == (8, 8)
    with db.session() as session:
        rows = list(session.scalars(select(Click)))
    assert {(r.user_agent, r.address, r.bot) for r in rows} == {(USER_AGENT, "127.0.0.1",
                                                                  False)}
    assert len({r.message_id for r in rows}) == 8
    assert engine.report(campaign_id)["unique_clicks"] == 8
