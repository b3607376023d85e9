"""A walk through the web UI in a real browser (Chromium), on a real socket: logging in
(and the plain 429 page after 5 wrong passwords on another account), the dashboard,
the monitoring search with filters and its next page, the statistics by day, week and
month, logging out; a read-only user sees no write action. Every page is also taken at
a laptop's and a phone's width; with ``SMSCOPE_SCREENSHOTS=DIR`` the pictures are kept
there for people to look at. No page breaks the Content-Security-Policy (the browser
reports it on the console) or scrolls sideways on a phone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from smscope.accounts import users
from smscope.app import Smscope
from smscope.config import Config
from smscope.db.types import utcnow
from smscope.web import server
from smscope.web.app import create_app
from tests.campaigns.helpers import number
from tests.reports.sample import sent_campaign
from tests.reports.test_search import add_messages

PASSWORD = "correct horse battery staple"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Site:
    """The app served on a free loopback port over a SQLite file with a campaign and
    more messages than one page of the monitoring holds."""

    def __init__(self, path: Path, sqlite_template: Path) -> None:
        import shutil
        shutil.copyfile(sqlite_template, path)
        self.smscope = Smscope(Config(database_url=f"sqlite:///{path}",
                                      default_region="FR", timezone="Europe/Paris"))
        db = self.smscope.db
        self.campaign_id = sent_campaign(db)
        now = utcnow()
        add_messages(db, [{"campaign_id": self.campaign_id, "number": number(20 + i),
                           "text": f"Relance {i}", "created_at": now - timedelta(minutes=i),
                           "status_updated_at": now, "sent_at": now}
                          for i in range(70)])
        with db.transaction() as session:
            for email, role in (("admin@example.com", "admin"),
                                ("reader@example.com", "readonly"),
                                ("other@example.com", "member")):
                users.create_user(session, email, role=role, password=PASSWORD)
        sock = server.bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.web = server.BackgroundServer(create_app(self.smscope), sock).start()

    def close(self) -> None:
        self.web.stop()
        self.smscope.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    made = Site(tmp_path_factory.mktemp("walk") / "walk.db", sqlite_template)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("SMSCOPE_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A browser context and its page, with the console's errors collected."""

    def __init__(self, browser: Any, site: Site) -> None:
        self.context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                           viewport=LAPTOP)
        self.page = self.context.new_page()
        self.site = site
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.site.url + path)

    def log_in(self, email: str, password: str = PASSWORD) -> Any:
        self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        with self.page.expect_response(lambda r: r.request.method == "POST") as answer:
            self.page.click("#login-submit")
        self.page.wait_for_load_state()
        return answer.value

    def shoot(self, folder: Path, name: str) -> None:
        """The page at a laptop's width and at a phone's, whole; a phone never gets a
        page wider than its screen."""
        self.page.set_viewport_size(LAPTOP)
        self.page.screenshot(path=str(folder / f"{name}-laptop.png"), full_page=True)
        self.page.set_viewport_size(PHONE)
        self.page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{name} scrolls sideways on a phone ({wide}px)"
        self.page.set_viewport_size(LAPTOP)

    def close(self) -> None:
        assert self.errors == [], self.errors  # CSP violations, failed loads…
        self.context.close()


def test_a_walk_through_the_ui(browser: Any, site: Site, shots: Path) -> None:
    reader = Tab(browser, site)
    admin = Tab(browser, site)
    stranger = Tab(browser, site)
    try:
        # the read-only user and the admin log in before the address is throttled
        reader.log_in("reader@example.com")
        admin.goto("/login")
        admin.shoot(shots, "login")
        assert admin.log_in("admin@example.com").status == 303
        assert admin.page.url == site.url + "/"

        # five wrong passwords on another account: then a plain 429 page
        for _ in range(5):
            assert stranger.log_in("other@example.com", "wrong").status == 401
        refused = stranger.log_in("other@example.com", PASSWORD)
        assert refused.status == 429 and refused.headers["retry-after"]
        message = stranger.page.inner_text("#login-error")
        assert re.search(r"too many|wait|minute", message, re.I), message
        stranger.shoot(shots, "login-throttled")
        stranger.errors = [e for e in stranger.errors if "429" not in e and "401" not in e]

        # the dashboard
        page = admin.page
        assert page.inner_text("#stat-recipients") == "4"
        assert "Soldes d'hiver" in page.inner_text("#recent-campaigns")
        admin.shoot(shots, "dashboard")

        # monitoring: filters typed into the form, then the next page
        page.click("nav >> text=Monitoring")
        assert page.url == site.url + "/messages"
        page.fill("#f-campaign", str(site.campaign_id))
        page.fill("#f-text", "relance")
        page.click("#search")
        page.wait_for_load_state()
        # only the filled-in fields make the address (a bookmark that reads as the search)
        assert page.url == f"{site.url}/messages?campaign={site.campaign_id}&text=relance"
        first = page.locator("#messages tbody tr").count()
        assert first == 50
        assert page.input_value("#f-text") == "relance"
        admin.shoot(shots, "monitoring")
        first_ids = page.locator("#messages tbody tr td:first-child a").all_inner_texts()
        page.click("#next-page")
        page.wait_for_load_state()
        assert "cursor=" in page.url
        more = page.locator("#messages tbody tr td:first-child a").all_inner_texts()
        assert len(more) == 20 and not set(more) & set(first_ids)
        assert page.is_visible("#previous-page")  # the script offers the way back
        page.click("#previous-page")
        page.wait_for_url(f"{site.url}/messages?campaign={site.campaign_id}&text=relance")
        assert page.locator("#messages tbody tr td:first-child a").all_inner_texts() == first_ids
        # a wrong filter is said next to its field
        page.select_option("#f-status", "received")
        page.select_option("#f-category", "error")
        page.click("#search")
        page.wait_for_load_state()
        assert "in the category delivered, not error" in page.inner_text("#category-error")
        admin.shoot(shots, "monitoring-error")
        admin.errors = [e for e in admin.errors if "status of 400" not in e]  # that page's
        # a message's history
        admin.goto(f"/messages?campaign={site.campaign_id}&category=hard_bounce")
        page.click("#messages tbody tr td:first-child a")
        page.wait_for_load_state()
        assert "receipt" in page.inner_text("#history")
        admin.shoot(shots, "message")

        # statistics, switching day, week and month
        page.click("nav >> text=Statistics")
        assert page.inner_text("#total-recipients") == "4"
        assert page.locator("#periods tbody tr").count() == 30
        assert page.locator("#chart-periods").count() == 1
        admin.shoot(shots, "statistics")
        page.click("#by-week")
        page.wait_for_load_state()
        assert page.inner_text("#periods-title") == "Per week"
        assert re.fullmatch(r"\d{4}-W\d{2}", page.inner_text("#periods tbody tr th"))
        page.click("#by-month")
        page.wait_for_load_state()
        assert page.inner_text("#periods-title") == "Per month"
        admin.shoot(shots, "statistics-month")
        assert "Receipt rate = delivered" in (
            page.get_attribute("#periods thead th[title^='Receipt rate']", "title") or "")

        # logging out ends the session
        page.click("#logout")
        page.wait_for_load_state()
        assert page.url.startswith(site.url + "/login")
        assert "You are logged out." in page.inner_text("main")
        admin.goto("/messages")
        assert page.url.startswith(site.url + "/login")

        # the read-only user: every page it can open offers no write action
        for path in ("/", "/messages", f"/messages?campaign={site.campaign_id}", "/stats",
                     "/messages/1"):
            reader.goto(path)
            actions = reader.page.eval_on_selector_all(
                "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))")
            assert actions == ["/logout"], (path, actions)
        assert "(read-only)" in reader.page.inner_text("header")
        reader.goto("/users")
        assert "Only admins" in reader.page.inner_text("main")
        reader.errors = [e for e in reader.errors if "403" not in e]
    finally:
        for tab in (reader, admin, stranger):
            tab.close()


def test_the_navigation_by_keyboard_on_a_phone_and_without_javascript(
        browser: Any, tmp_path: Path, sqlite_template: Path, shots: Path) -> None:
    """The main navigation is plain links: with JavaScript off, a laptop shows every
    section's pages in one row, the keyboard reaches them in order, and a phone shows
    the sections as tabs over the current section's pages, without scrolling sideways."""
    site = Site(tmp_path / "nav.db", sqlite_template)  # its own: no throttled address
    context = browser.new_context(locale="fr-FR", viewport=LAPTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + "/login")
        page.fill("#email", "admin@example.com")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(site.url + "/")
        links = page.locator("nav[aria-label=Main] .section a")
        assert links.count() == 14
        assert len({round(box["y"]) for box in
                    (links.nth(i).bounding_box() for i in range(14))}) == 1  # one row
        assert page.locator("nav[aria-label=Main] .sections").is_hidden()

        # the keyboard: the skip link first, then the bar, then the pages in order
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        visited = []
        for _ in range(20):
            page.keyboard.press("Tab")
            visited.append(page.evaluate("document.activeElement.textContent.trim()"))
        assert visited[visited.index("Dashboard"):visited.index("API tokens") + 1] == [
            "Dashboard", "Campaigns", "Monitoring", "Statistics", "Contacts", "Lists",
            "Imports", "Blacklist", "Credits", "Connectors", "Settings", "Webhooks",
            "Users", "API tokens"]
        while page.evaluate("document.activeElement.textContent") != "Blacklist":
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(site.url + "/blacklist")
        assert page.inner_text("nav [aria-current=page]") == "Blacklist"

        # a phone: the sections as tabs, the current one's pages under them
        page.set_viewport_size(PHONE)
        assert page.locator(".sections a").all_inner_texts() == [
            "Sending", "Audience", "Admin"]
        assert page.inner_text(".sections [aria-current=true]") == "Audience"
        assert page.locator(".section a:visible").all_inner_texts() == [
            "Contacts", "Lists", "Imports", "Blacklist"]
        page.click(".sections >> text=Admin")
        page.wait_for_url(site.url + "/credits")
        assert page.locator(".section a:visible").all_inner_texts() == [
            "Credits", "Connectors", "Settings", "Webhooks", "Users", "API tokens"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shots / "navigation-phone.png"))
    finally:
        context.close()
        site.close()
