"""The campaign page's live figures over a real socket: the Server-Sent Events stream
sends the figures as they are, then again when a receipt changes one; it holds no
database connection between its reads, ends when the campaign is final, and ends
when the server stops."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smscope.web import server
from smscope.web.app import create_app
from tests.campaigns.helpers import Engine, number, receipt
from tests.web.conftest import PASSWORD, csrf_of


@pytest.fixture
def served(site) -> Iterator[tuple[str, Any]]:
    web = server.BackgroundServer(create_app(site.smscope), server.bind("127.0.0.1", 0))
    web.start()
    try:
        yield web.url, web
    finally:
        web.stop()


def logged_in(url: str, email: str = "reader@example.com") -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    page = client.get("/login")
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text), "next": "/"})
    assert answer.status_code in (200, 303)
    return client


class Events:
    """The events of a stream read on a thread, as (event, data)."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.ended = threading.Event()
        self.status = 0
        self._thread = threading.Thread(target=self._read, args=(client, path), daemon=True)
        self._thread.start()

    def _read(self, client: httpx.Client, path: str) -> None:
        try:
            with client.stream("GET", path, timeout=httpx.Timeout(10, read=30)) as answer:
                self.status = answer.status_code
                self.content_type = answer.headers["content-type"]
                kind = ""
                for line in answer.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.items.append((kind, json.loads(line[6:])))
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def wait_for(self, predicate, timeout: float = 15.0) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.items:
                if predicate(item):
                    return item
            time.sleep(0.05)
        raise AssertionError(f"no such event in {self.items}")


def delivered(item: tuple[str, dict[str, Any]], value: str) -> bool:
    return item[0] == "figures" and item[1]["figures"]["delivered"] == value


def test_the_stream_sends_the_figures_then_their_change_after_a_receipt(site,
                                                                         served) -> None:
    url, _ = served
    engine = Engine(site.smscope.db, config=site.smscope.config).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2)])
    ids = engine.send_all()
    client = logged_in(url)
    events = Events(client, f"/campaigns/{campaign_id}/events")
    first = events.wait_for(lambda item: delivered(item, "0"))
    assert events.status == 200 and events.content_type.startswith("text/event-stream")
    assert first[1]["state"] == "sending" and first[1]["figures"]["recipients"] == "2"
    # between its reads the stream holds no connection of the pool
    time.sleep(0.3)
    assert site.smscope.db.engine.pool.checkedout() == 0
    engine.receipts([receipt(ids[number(1)], "DELIVRD", to=number(1))])
    changed = events.wait_for(lambda item: delivered(item, "1"))
    assert changed[1]["figures"]["delivered_share"] == "50.0%"
    # once every message is final the campaign completes, and the stream says so and ends
    engine.receipts([receipt(ids[number(2)], "UNDELIV", err="001", to=number(2))])
    from smscope.campaigns import service
    from smscope.db.types import utcnow
    with site.smscope.db.transaction() as session:
        service.complete_finished(session, now=utcnow())
    events.wait_for(lambda item: item[0] == "end")
    assert events.ended.wait(5)
    client.close()


def test_the_stream_ends_when_the_server_stops(site, served) -> None:
    url, web = served
    engine = Engine(site.smscope.db, config=site.smscope.config).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    client = logged_in(url)
    events = Events(client, f"/campaigns/{campaign_id}/events")
    events.wait_for(lambda item: item[0] == "figures")
    started = time.monotonic()
    web.stop()
    assert events.ended.wait(5) and time.monotonic() - started < 5
    client.close()


def test_the_stream_needs_a_login_and_a_known_campaign(site, served) -> None:
    url, _ = served
    anonymous = httpx.get(f"{url}/campaigns/1/events", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    client = logged_in(url)
    missing = client.get("/campaigns/42/events")
    assert missing.status_code == 404 and re.search("campaign", missing.text)
    client.close()


def test_the_stream_stops_reading_when_the_client_leaves(site, served, monkeypatch) -> None:
    from smscope.web.pages import campaign_report
    reads: list[float] = []
    real = campaign_report._read_live

    def counted(request, campaign_id):
        reads.append(time.monotonic())
        return real(request, campaign_id)

    monkeypatch.setattr(campaign_report, "_read_live", counted)
    url, _ = served
    engine = Engine(site.smscope.db, config=site.smscope.config).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    client = logged_in(url)
    events = Events(client, f"/campaigns/{campaign_id}/events")
    events.wait_for(lambda item: item[0] == "figures")
    time.sleep(2.5)
    assert len(reads) >= 2  # about once a second while the client listens
    client.close()
    assert events.ended.wait(5)
    time.sleep(1.5)
    settled = len(reads)
    time.sleep(2.5)
    # the client left: no more reads
    assert len(reads) == settled
