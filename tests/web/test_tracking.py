"""``/c/{token}`` in the web app: redirects only to the link's own URL, counts the
click, and answers anything else with a bare 404 — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from smscope.app import Smscope
from smscope.db import Database
from smscope.db.tables import Click
from smscope.web.app import create_app
from tests.campaigns.helpers import Engine, number

TOKEN_RX = re.compile(r"/c/([0-9A-Za-z]{12})")
TEXT = "Soldes : shop.example.com/soldes et https://b.example/x?a=1&b=%C3%A9 !"
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"


class Web:
    """The app in process: each request runs whole, background work included."""

    def __init__(self, engine: Engine) -> None:
        self.smscope = Smscope(engine.config, database_url=engine.db.url)
        self.app = create_app(self.smscope)

    def request(self, method: str, path: str, **headers: str) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("203.0.113.9", 4321))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                return await client.request(method, path, headers=headers)

        return asyncio.run(go())

    def get(self, path: str, user_agent: str = PHONE) -> httpx.Response:
        return self.request("GET", path, **{"User-Agent": user_agent})


@pytest.fixture
def sent(db: Database) -> Iterator[tuple[Engine, int, Web]]:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(text=TEXT, numbers=[number(1), number(2)])
    web = Web(engine)
    yield engine, campaign_id, web
    web.smscope.close()


def tokens(engine: Engine, campaign_id: int, to: str) -> list[str]:
    return TOKEN_RX.findall(engine.message(campaign_id, to).text)


def test_a_tracked_link_redirects_to_its_original_url_and_counts(sent) -> None:
    engine, campaign_id, web = sent
    first, second = tokens(engine, campaign_id, number(1))
    response = web.get(f"/c/{first}")
    assert response.status_code == 302
    assert response.headers["location"] == "http://shop.example.com/soldes"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    again = web.get(f"/c/{second}")
    assert again.headers["location"] == "https://b.example/x?a=1&b=%C3%A9"
    counters = engine.counters(campaign_id)
    assert (counters["clicks"], counters["unique_clicks"]) == (2, 1)
    with engine.db.session() as session:
        row = session.scalars(select(Click).order_by(Click.id)).first()
    assert row is not None
    assert (row.user_agent, row.address) == (PHONE, "203.0.113.9")


@pytest.mark.parametrize("after", [".", ":", "!", ").", "%E2%80%A6"])
def test_punctuation_a_phone_took_for_part_of_the_link_is_ignored(sent, after) -> None:
    engine, campaign_id, web = sent
    token = tokens(engine, campaign_id, number(1))[0]
    response = web.get(f"/c/{token}{after}")
    assert response.headers["location"] == "http://shop.example.com/soldes"


def test_the_redirect_ignores_whatever_the_request_names(sent) -> None:
    engine, campaign_id, web = sent
    token = tokens(engine, campaign_id, number(1))[0]
    for path in (f"/c/{token}?url=https://evil.example", f"/c/{token}?next=//evil.example"):
        assert web.get(path).headers["location"] == "http://shop.example.com/soldes"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # a flipped character
    lambda t: t[:-1],  # too short
    lambda t: t + "a",  # too long
    lambda t: t[:5] + "-" + t[6:],  # not base62
    lambda t: t[:5] + "%C3%A9" + t[6:],  # not base62, escaped
    lambda t: "0" * 12,
    lambda t: "x" * 5000,
])
def test_unknown_or_tampered_tokens_get_a_bare_404(sent, mangle) -> None:
    engine, campaign_id, web = sent
    response = web.get(f"/c/{mangle(tokens(engine, campaign_id, number(1))[0])}")
    assert response.status_code == 404
    assert response.text == "Not found.\n"
    assert "location" not in response.headers
    assert engine.counters(campaign_id).get("clicks", 0) == 0


def test_a_head_request_is_answered_but_not_counted(sent) -> None:
    engine, campaign_id, web = sent
    token = tokens(engine, campaign_id, number(1))[0]
    response = web.request("HEAD", f"/c/{token}")
    assert response.status_code == 302 and response.content == b""
    assert response.headers["location"] == "http://shop.example.com/soldes"
    assert engine.counters(campaign_id).get("clicks", 0) == 0


def test_a_broken_database_gets_a_bare_503_not_a_trace(sent, monkeypatch) -> None:
    engine, campaign_id, web = sent
    token = tokens(engine, campaign_id, number(1))[0]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("smscope.tracking.clicks.resolve", broken)
    response = web.get(f"/c/{token}")
    assert response.status_code == 503
    assert "fire" not in response.text and "Traceback" not in response.text
