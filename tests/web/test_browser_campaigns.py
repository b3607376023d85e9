"""The campaign pages in a real browser (Chromium): the live segment counter as one
types (GSM-7 and Unicode, at the 160/153 and 70/67 boundaries), and the report page's
figures changing in place while a small campaign is sent to the in-process simulator.

With ``SMSCOPE_SCREENSHOTS=DIR`` the tests also save screenshots of the list, the form,
the report page (while and after sending) and a message page at a laptop's and a
phone's width."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from smscope.accounts import users
from smscope.app import Smscope
from smscope.campaigns import service
from smscope.campaigns.fanout import parse_numbers
from smscope.campaigns.worker import Worker
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.pricing import CreditBank
from smscope.web import server
from smscope.web.app import create_app
from tests.campaigns.helpers import NOW, Engine, make_config, number
from tests.web.conftest import PASSWORD

SLOW = """
description = "every message delivered, receipts over a few seconds"
[latency]
distribution = "uniform"
min = "1s"
max = "4s"
[[outcomes]]
stat = "DELIVRD"
share = 0.8
[[outcomes]]
stat = "UNDELIV"
err = "001"
share = 0.2
"""
WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("SMSCOPE_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    """Poll from Python: the pages' Content-Security-Policy (kept on in these tests)
    forbids the string evaluation Playwright's wait_for_function uses."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        time.sleep(0.05)


def text_of(page: Any, selector: str) -> str:
    return str(page.inner_text(selector))


def log_in(page: Any, url: str, email: str = "member@example.com") -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{url}/")


@pytest.fixture
def app_with_users(db: Database) -> Any:
    sock = server.bind("127.0.0.1", 0)
    config = make_config(public_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    with db.transaction() as session:
        users.create_user(session, "member@example.com", role="member", password=PASSWORD)
    smscope = Smscope(config, database_url=db.url)
    web = server.BackgroundServer(create_app(smscope), sock).start()
    try:
        yield smscope, web.url
    finally:
        web.stop()
        smscope.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_counter_follows_the_text_as_one_types(db: Database, app_with_users: Any,
                                                  browser_page: Any) -> None:
    smscope, url = app_with_users
    engine = Engine(db, config=smscope.config).setup()
    engine.contacts("clients", [{"number": number(i), "first_name": f"Zoé{i}"}
                                for i in range(1, 4)])
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/campaigns/new")

    def counts() -> tuple[str, str]:
        return page.inner_text("#counter-encoding"), page.inner_text("#counter-segments")

    def typed(text: str, encoding: str, segments: str) -> None:
        page.fill("#text", text)
        wait_until(lambda: text_of(page, "#counter-characters") == str(len(text)))
        assert counts() == (encoding, segments)

    for text, encoding, segments in (("a" * 160, "GSM-7", "1"), ("a" * 161, "GSM-7", "2"),
                                     ("a" * 306, "GSM-7", "2"), ("a" * 307, "GSM-7", "3"),
                                     ("ж" * 70, "UCS-2", "1"), ("ж" * 71, "UCS-2", "2"),
                                     ("ж" * 134, "UCS-2", "2"), ("ж" * 135, "UCS-2", "3"),
                                     ("a" * 159 + "€", "GSM-7", "2")):
        typed(text, encoding, segments)
    # the preview follows the chosen list and the placeholders
    page.select_option("#lists", ["clients"])
    page.fill("#text", "Bonjour {first_name}, à bientôt")
    wait_until(lambda: text_of(page, "#preview-text") == "Bonjour Zoé1, à bientôt")
    assert page.inner_text("#counter-recipients") == "3"
    page.click("#preview-next")
    wait_until(lambda: text_of(page, "#preview-text") == "Bonjour Zoé2, à bientôt")
    page.fill("#name", "Soldes d'hiver")
    page.fill("#sender", "SHOP")
    shoot(page, "campaign-form")
    # a bad field comes back next to it, with what was typed
    page.fill("#sender", "THIS IS FAR TOO LONG")
    page.click("#save")
    page.wait_for_selector("#sender-error")
    assert page.input_value("#name") == "Soldes d'hiver"
    shoot(page, "campaign-form-errors")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_report_page_updates_live_while_the_campaign_sends(
        db: Database, app_with_users: Any, browser_page: Any, tmp_path: Path) -> None:
    smscope, url = app_with_users
    profile = tmp_path / "slow.toml"
    profile.write_text(SLOW)
    numbers = [number(i) for i in range(1, 13)]
    with db.transaction() as session:
        CreditBank(session).add(100)
        add_connector(session, "sim", "simulator", {"profile": str(profile)})
        campaign_id = service.create_campaign(
            session, name="Flash sale", sender="SHOP", config=smscope.config, now=NOW,
            text="Flash sale: -30% today only, reply STOP to opt out",
            numbers=parse_numbers(numbers, "FR"), type_="transactional",
            connector="sim").id
    page = browser_page
    log_in(page, url)
    page.goto(f"{url}/campaigns")
    shoot(page, "campaigns-list")
    page.goto(f"{url}/campaigns/{campaign_id}")
    page.click("#send")
    page.wait_for_selector(".flash-success")
    assert page.inner_text("#live-delivered") == "0"
    assert page.inner_text("#live-pending") == "12"
    stop = threading.Event()

    def work() -> None:
        async def body() -> None:
            done = asyncio.Event()
            task = asyncio.create_task(Worker(smscope, campaign_id=campaign_id).run(done))
            while not stop.is_set():
                await asyncio.sleep(0.1)
            done.set()
            await task
        asyncio.run(body())

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        # the figures change in place: the page is not reloaded
        page.evaluate("window.notReloaded = true")
        wait_until(lambda: text_of(page, "#live-delivered") != "0", timeout=30)
        shoot(page, "campaign-report-sending")
        wait_until(lambda: text_of(page, "#live-pending") == "0", timeout=40)
        assert page.evaluate("window.notReloaded") is True
        delivered = int(page.inner_text("#live-delivered"))
        hard = int(page.inner_text("#live-hard_bounce"))
        errors = int(page.inner_text("#live-error"))
        assert delivered + hard + errors == 12 and delivered > 0
    finally:
        stop.set()
        worker.join(30)
    page.reload()
    assert page.inner_text("#live-delivered") == str(delivered)
    shoot(page, "campaign-report-after")
    page.click("#recipients tbody tr:first-child a")
    page.wait_for_selector("#history")
    assert "DELIVRD" in page.inner_text("#history") or "UNDELIV" in page.inner_text("#history")
    shoot(page, "campaign-message")
