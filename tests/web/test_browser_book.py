"""The address book in a real browser (Chromium): import a CSV file and watch its
progress to the result, edit a contact, add and remove a blacklist entry — with
screenshots of every page at a laptop's and a phone's width when
``SMSCOPE_SCREENSHOTS`` names a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from smscope.accounts import users
from smscope.app import Smscope
from smscope.config import Config
from smscope.contacts import book
from smscope.db.tables import BlacklistLog, Contact
from smscope.pricing import CreditBank
from smscope.web import server
from smscope.web.app import create_app

PASSWORD = "correct horse battery staple"
SIZES = {"laptop": (1280, 860), "phone": (390, 844)}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Smscope, str]]:
    sock = server.bind("127.0.0.1", 0)
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    smscope = Smscope(Config(database_url=f"sqlite:///{tmp_path}/b.db", public_url=public,
                             default_region="FR"))
    with smscope.db.transaction() as session:
        users.create_user(session, "anne@example.com", role="admin", password=PASSWORD)
    running = server.BackgroundServer(create_app(smscope), sock).start()
    try:
        yield smscope, public
    finally:
        running.stop()
        smscope.close()


def log_in(page: Any, public: str) -> None:
    page.goto(f"{public}/login")
    page.fill("#email", "anne@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{public}/")


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("SMSCOPE_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(Path(folder) / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})


def test_a_csv_is_imported_and_its_progress_followed_to_the_result(
        web: tuple[Smscope, str], browser_page: Any, tmp_path: Path) -> None:
    _, public = web
    rows = ["mobile;prénom;ville"] + [
        f"06{10_000_000 + i:08d};P{i};Lyon" if i % 500 else f"nope{i};P{i};Lyon"
        for i in range(4000)]
    csv = tmp_path / "clients.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page = browser_page
    log_in(page, public)
    page.click("text=Contacts")
    shoot(page, "contacts-empty")
    page.click("#import-link")
    page.set_input_files("#import-file", str(csv))
    page.fill("#import-new-list", "Clients Lyon")
    shoot(page, "import-new")
    page.click("#import-submit")
    page.wait_for_url(re.compile(r"/imports/\d+$"))
    # the page follows the import until it ends, then shows the rows not imported
    page.wait_for_selector("#import-state:has-text('done')", timeout=30_000)
    assert page.inner_text("[data-count=rows]") == "4,000"
    assert page.inner_text("[data-count=imported]") == "3,992"
    assert page.inner_text("[data-count=invalid]") == "8"
    assert page.locator("#rejects tbody tr").count() == 8
    assert float(page.get_attribute("#import-bar", "value")) == 100
    shoot(page, "import-result")
    with page.expect_download() as download:
        page.click("#download-rejects")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "mobile,prénom,ville,reason" and len(lines) == 9
    page.click("text=Clients Lyon")
    assert page.inner_text("#list-contacts") == "3,992"
    shoot(page, "list")
    page.click("text=Lists")
    shoot(page, "lists")


def test_a_contact_is_edited_with_an_error_next_to_its_field_first(
        web: tuple[Smscope, str], browser_page: Any) -> None:
    smscope, public = web
    with smscope.db.transaction() as session:
        made = book.create_list(session, "VIP")
        contact, _ = book.add_to_list(session, made.id, "06 12 34 56 78", "FR")
        contact.fields = {"ville": "Paris"}
        cid = contact.id
        book.mark_invalid(session, contact, "unknown subscriber (UNDELIV 001)",
                          remove_from_lists=True)
    page = browser_page
    log_in(page, public)
    page.goto(f"{public}/contacts")
    page.click("text=+33612345678")
    page.fill("#first-name", "Anne")
    page.fill("#new-field-name", "number")  # a name a custom field cannot take
    page.fill("#new-field-value", "x")
    page.click("#save-contact")
    error = page.locator("#new-field-name-error")
    assert "cannot name a custom field" in error.inner_text()
    assert page.get_attribute("#new-field-name", "aria-invalid") == "true"
    assert page.input_value("#first-name") == "Anne"  # what was typed stays
    shoot(page, "contact-error")
    page.fill("#new-field-name", "code postal")
    page.fill("#new-field-value", "75001")
    page.fill("#field-1", "Lyon")
    page.click("#save-contact")
    assert "is saved" in page.inner_text(".flash-success")
    page.click("#restore")
    assert "active again (back in: VIP)" in page.inner_text(".flash-success")
    shoot(page, "contact")
    with smscope.db.session() as session:
        found = session.get(Contact, cid)
        assert (found.first_name, found.fields, found.state) == (
            "Anne", {"ville": "Lyon", "code_postal": "75001"}, "active")


def test_a_number_is_blacklisted_and_taken_off_again(
        web: tuple[Smscope, str], browser_page: Any) -> None:
    smscope, public = web
    with smscope.db.transaction() as session:
        CreditBank(session).add(500, note="start", actor="test")
    page = browser_page
    log_in(page, public)
    page.click("text=Blacklist")
    shoot(page, "blacklist-empty")
    page.fill("#bl-number", "06 99 88 77 66")
    page.fill("#bl-reason", "asked by phone")
    page.click("#add-blacklist-submit")
    assert "+33699887766 is blacklisted" in page.inner_text(".flash-success")
    assert page.locator("#blacklist tbody tr").count() == 1
    shoot(page, "blacklist")
    page.click("text=Remove…")
    page.fill("#confirm-reason", "opted in again")
    shoot(page, "blacklist-confirm")
    page.click("#confirm")
    assert "is off the blacklist" in page.inner_text(".flash-success")
    assert page.locator("#no-entries").is_visible()
    with smscope.db.session() as session:
        assert [(r.action, r.reason) for r in session.scalars(
            select(BlacklistLog).order_by(BlacklistLog.id))] == [
            ("add", "asked by phone"), ("remove", "opted in again")]
    # the other pages, for the screenshots and for their keyboard reach
    from smscope.connectors import registry

    with smscope.db.transaction() as session:
        registry.add_connector(session, "simulator", "simulator",
                               {"profile": "realistic", "rate": 200})
        registry.add_connector(session, "operator", "smpp", {
            "host": "smsc.example.com", "port": 2775, "system_id": "ACME",
            "password": "secret", "window": 50}, source="config")
    for path, name in (("/credits", "credits"), ("/connectors", "connectors"),
                       ("/settings", "settings")):
        page.goto(f"{public}{path}")
        assert page.locator("h1").count() == 1
        shoot(page, name)
    page.goto(f"{public}/blacklist")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.className") == "skip"
