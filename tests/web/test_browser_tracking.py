"""A tracked link opened in a real browser (Chromium): the redirect lands on the
link's own page, and the click is recorded with the browser's user agent — counted
when it is a phone's, kept apart as a bot's when it says it is a headless browser."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from smscope.app import Smscope
from smscope.db import Database
from smscope.db.tables import Click
from smscope.web import server
from smscope.web.app import create_app
from tests.campaigns.helpers import Engine, number

TOKEN_RX = re.compile(r"/c/([0-9A-Za-z]{12})")
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Mobile Safari/537.36")


class _Shop(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<html><title>Soldes</title><h1>Page {self.path}</h1></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    """The site the campaign links to, on a free port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_tracked_link_opened_in_chromium_lands_on_its_page_and_counts(
        db: Database, shop: str, browser: Any, browser_page: Any) -> None:
    sock = server.bind("127.0.0.1", 0)
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    engine = Engine(db).setup()
    engine.config = engine.config.model_copy(update={"public_url": public})
    campaign_id = engine.campaign(text=f"Soldes : {shop}/soldes?ref=sms !",
                                  numbers=[number(1)])
    [token] = TOKEN_RX.findall(engine.message(campaign_id, number(1)).text)
    smscope = Smscope(engine.config, database_url=db.url)
    web = server.BackgroundServer(create_app(smscope), sock).start()
    phone = browser.new_context(user_agent=PHONE, is_mobile=True)
    try:
        # as a person's phone: the link's own page, counted
        tab = phone.new_page()
        response = tab.goto(f"{public}/c/{token}")
        assert response is not None and response.ok
        assert tab.url == f"{shop}/soldes?ref=sms"
        assert tab.inner_text("h1") == "Page /soldes?ref=sms"
        # a stranger's guess: a bare 404, no redirect
        missing = tab.goto(f"{public}/c/000000000000")
        assert missing is not None and missing.status == 404
        assert tab.url == f"{public}/c/000000000000"
        # Chromium saying it is headless: redirected too, but a bot's click
        browser_page.goto(f"{public}/c/{token}")
        assert browser_page.url == f"{shop}/soldes?ref=sms"
        headless = browser_page.evaluate("navigator.userAgent")
        assert "HeadlessChrome" in headless
    finally:
        phone.close()
        web.stop()
        smscope.close()
    with db.session() as session:
        clicks = list(session.scalars(select(Click).order_by(Click.id)))
    assert [(c.user_agent, c.bot) for c in clicks] == [(PHONE, False), (headless, True)]
    assert engine.counters(campaign_id)["unique_clicks"] == 1
