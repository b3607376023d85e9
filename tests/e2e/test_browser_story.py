"""The whole user story in a real browser (Chromium), against real processes:
``smscope serve`` on a socket and ``smscope worker`` sending through the built-in
simulator connector (SMPP on a loopback socket), over one SQLite file.

An admin made on the command line logs in; imports a CSV file with a few bad rows
from the import page and reads the row-by-row result; writes a campaign to the
imported list while the counter tells its encoding, segments and cost; sends it and
watches the report's figures change in place (Server-Sent Events) until it completes;
filters the recipients, opens a message's history, downloads the recipients CSV and
the PDF; blacklists a number and takes it off again. A read-only user then sees no
action on the campaigns, and sending a draft with the page's own CSRF token is refused
(403): the draft stays a draft. No page breaks the Content-Security-Policy (the
browser reports that on the console).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from smscope.accounts import users
from smscope.campaigns import service
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import Message
from smscope.pricing import CreditBank
from smscope.reports.recipients import CSV_COLUMNS
from tests.e2e.processes import environment, serve, start, stop

PASSWORD = "correct horse battery staple"
#: how long anything the worker or a background job does may take on a busy machine
WAIT = 30_000
LIST = "Clients été"
#: the operator: final receipts 3 to 6 s after the submit (the report page is open
#: before the first one comes); numbers ending 99 are unknown subscribers
PROFILE = """
description = "delivered after a few seconds; numbers ending 99 are unknown"
submit_ids = "hex"
[latency]
distribution = "uniform"
min = "3s"
max = "6s"
[[outcomes]]
stat = "DELIVRD"
share = 1.0
[[overrides]]
pattern = "*99"
stat = "UNDELIV"
err = "001"
"""
#: the file to import: 10 good numbers, 2 bad ones and a duplicate
CONTACTS = """téléphone;prénom;nom;ville
06 12 34 56 10;Anne;Martin;Lyon
06 12 34 56 11;Bruno;Durand;Lille
pas un numéro;Carla;Petit;Paris
06 12 34 56 12;Denis;Moreau;Nantes
06 12 34 56 13;Élodie;Simon;Nice
01 23 45 67 89;Fabrice;Laurent;Paris
06 12 34 56 14;Gaëlle;Michel;Lyon
06.12.34.56.10;Anne;Martin-Bis;Lyon
06 12 34 56 15;Hugo;Garcia;Rennes
06 98 76 54 99;Inès;David;Brest
06 12 34 56 16;Jules;Bertrand;Lyon
07 56 78 90 99;Karim;Roux;Metz
06 12 34 56 17;Léa;Vincent;Dijon
"""
DELIVERED = {f"+336123456{i}" for i in range(10, 18)}
UNKNOWN = {"+33698765499", "+33756789099"}
TEXT = "Bonjour {first_name}, les soldes d'été commencent samedi chez nous : -30 % sur tout."


def see(locator: Any, text: str | re.Pattern[str], timeout: int = WAIT) -> None:
    from playwright.sync_api import expect

    expect(locator).to_have_text(text, timeout=timeout)


def see_in(locator: Any, text: str | re.Pattern[str], timeout: int = WAIT) -> None:
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout)


class Story:
    """A SQLite file with a read-only user, credits and a simulator connector; then
    :meth:`start`: an admin made by ``smscope users create``, and ``smscope worker`` and
    ``smscope serve`` on the file."""

    def __init__(self, folder: Path, sqlite_template: Path) -> None:
        path = folder / "smscope.db"
        shutil.copyfile(sqlite_template, path)
        self.db = Database(f"sqlite:///{path}")
        self.env = environment(self.db.url, SMSCOPE_TIMEZONE="Europe/Paris")
        profile = folder / "operator.toml"
        profile.write_text(PROFILE, encoding="utf-8")
        with self.db.transaction() as session:
            users.create_user(session, "reader@example.com", role="readonly",
                              password=PASSWORD)
            add_connector(session, "operator", "simulator", {"profile": str(profile)})
            CreditBank(session).add(100)
        self.logs = {name: folder / f"{name}.log" for name in ("users", "worker", "serve")}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.url = ""

    def start(self) -> None:
        # the three start side by side: most of their time is Python importing smscope
        with self.logs["users"].open("wb") as out:
            admin = subprocess.Popen(
                [sys.executable, "-m", "smscope", "users", "create", "admin@example.com",
                 "--role", "admin", "--password-stdin"], env=self.env,
                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
        assert admin.stdin is not None
        admin.stdin.write(PASSWORD.encode() + b"\n")
        admin.stdin.close()
        self.processes.append(start("worker", env=self.env, log=self.logs["worker"]))
        web, self.url = serve(self.env, self.logs["serve"])
        self.processes.append(web)
        assert admin.wait(60) == 0, self.logs["users"].read_text()

    def close(self) -> None:
        codes = [stop(process) for process in reversed(self.processes)]
        self.db.dispose()
        for log in self.logs.values():  # shown by pytest when the test failed
            if log.exists():
                print(f"--- {log.name}\n{log.read_text()}")
        assert codes == [0] * len(codes), codes


@pytest.fixture
def story(tmp_path: Path, sqlite_template: Path) -> Iterator[Story]:
    made = Story(tmp_path, sqlite_template)
    try:
        made.start()
        yield made
    finally:
        made.close()


class Tab:
    """A page of one browser context, its console's errors collected."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.errors: list[str] = []
        page.set_default_timeout(WAIT)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)

    def log_in(self, email: str) -> None:
        self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-submit")
        self.page.wait_for_url(self.url + "/")
        see_in(self.page.locator("header"), email)

    def post_forms(self) -> list[str]:
        """Where the page's POST forms go."""
        return list(self.page.eval_on_selector_all(
            "form[method=post]", "forms => forms.map(f => f.getAttribute('action'))"))


# -- the steps --------------------------------------------------------------------------


def import_contacts(tab: Tab, folder: Path) -> None:
    """Upload the file from the import page; its page follows the import to the end and
    lists every row not imported, with its reason."""
    page = tab.page
    upload = folder / "clients.csv"
    upload.write_text(CONTACTS, encoding="utf-8")
    page.click("nav >> text=Contacts")
    page.click("#import-link")
    page.set_input_files("#import-file", str(upload))
    page.fill("#import-new-list", LIST)
    page.click("#import-submit")
    page.wait_for_url(re.compile(r"/imports/\d+$"))
    see(page.locator("#import-state"), "done")
    assert page.get_attribute("#import-bar", "value") == "100.0"
    counts = {name: page.inner_text(f"[data-count={name}]")
              for name in ("rows", "imported", "updated", "duplicates", "invalid")}
    assert counts == {"rows": "13", "imported": "10", "updated": "0", "duplicates": "1",
                      "invalid": "2"}
    rejects = page.locator("#rejects tbody tr")
    assert rejects.count() == 3
    by_row = {cells[0]: cells[1:] for cells in (
        rejects.nth(i).locator("td").all_inner_texts() for i in range(3))}
    assert set(by_row) == {"4", "7", "9"}, by_row  # the file's lines, the header's is 1
    assert by_row["4"][0] == "invalid" and "'p'" in by_row["4"][1], by_row
    assert "pas un numéro · Carla" in by_row["4"][2]
    assert by_row["7"][0] == "invalid" and "fixed line" in by_row["7"][1], by_row
    assert "01 23 45 67 89 · Fabrice" in by_row["7"][2]
    assert by_row["9"] == ["duplicate", "+33612345610 already appears earlier in this file",
                           ""]
    page.click(f"text={LIST}")
    see(page.locator("#list-contacts"), "10")


def create_campaign(tab: Tab, name: str, recipients: int) -> int:
    """Fill in the campaign form for the imported list, the counter telling its
    encoding, segments and cost on the way; the draft's id."""
    page = tab.page
    tab.goto("/campaigns/new")
    page.fill("#name", name)
    page.fill("#sender", "SHOP")
    page.fill("#text", TEXT)
    see(page.locator("#counter-characters"), str(len(TEXT)))
    page.select_option("#lists", [LIST])
    see(page.locator("#counter-recipients"), str(recipients))
    # well under 160 GSM-7 characters whatever the first name: one SMS each, so 1 credit
    # a recipient at the default price
    assert page.inner_text("#counter-encoding") == "GSM-7"
    assert page.inner_text("#counter-segments") == "1"
    see(page.locator("#counter-cost"), str(recipients))
    see_in(page.locator("#preview-text"), re.compile(r"^Bonjour [^ ,{}]+, les soldes d'été"))
    page.check("input[name=type][value=transactional]")  # any hour, any day
    assert page.input_value("#connector") == "operator"
    page.click("#save")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    see_in(page.locator(".flash-success"), f"Draft campaign {name!r} created")
    see(page.locator("#campaign-state"), "draft")
    return int(page.url.rsplit("/", 1)[1])


def send_and_watch(tab: Tab, campaign_id: int) -> None:
    """Send now; the page as the server wrote it shows nothing delivered yet, then its
    figures change in place while the worker sends, without the page navigating."""
    page = tab.page
    report = f"{tab.url}/campaigns/{campaign_id}"
    with page.expect_response(lambda r: r.url == report
                              and r.request.method == "GET") as loaded:
        page.click("#send")
    served = loaded.value.text()
    see_in(page.locator(".flash-success"), "Sending started to 10 recipients")

    def served_figure(name: str) -> str:
        found = re.search(rf'id="live-{name}">([^<]*)<', served)
        assert found, name
        return found.group(1)

    assert (served_figure("delivered"), served_figure("pending")) == ("0", "10")
    assert re.search(r'id="campaign-state" data-live-state>sending<', served)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url)
            if frame == page.main_frame else None)
    page.evaluate("window.notReloaded = true")
    see(page.locator("#live-delivered"), "8")
    see(page.locator("#live-hard_bounce"), "2")
    see(page.locator("#live-pending"), "0")
    see(page.locator("#live-sent"), "10 sent")
    see(page.locator("#live-delivered_share"), "80.0%")
    see(page.locator("#campaign-state"), "completed")
    see_in(page.locator("#live-note"), "final")  # the stream's end, told in place
    # the actions rendered for a sending campaign no longer fit a completed one
    from playwright.sync_api import expect
    expect(page.locator("#pause")).to_be_hidden()
    expect(page.locator("#test-send")).to_be_hidden()
    see_in(page.locator("#actions-stale"), "now completed")
    assert navigations == [] and page.evaluate("window.notReloaded") is True


def filter_recipients(tab: Tab) -> None:
    """The recipients table by a status, then by a category: only the matching rows
    (the hard bounces stay on show)."""
    page = tab.page
    rows = page.locator("#recipients tbody tr")
    for status, numbers, css in (("received", DELIVERED, "cat cat-delivered"),
                                 ("hard_bounce", UNKNOWN, "cat cat-hard_bounce")):
        page.select_option("#r-status", status)
        page.click("#r-apply")
        page.wait_for_url(re.compile(rf"[?&]status={status}&"))
        assert page.input_value("#r-status") == status
        assert set(rows.locator("td:first-child a").all_inner_texts()) == numbers
        assert set(rows.locator("td:nth-child(3) span").evaluate_all(
            "spans => spans.map(s => s.className)")) == {css}
        see_in(page.locator("#export-recipients"), "(filtered)")


def open_history(tab: Tab) -> None:
    """A hard bounce's page: created, submitted, its receipt and every status."""
    page = tab.page
    link = page.locator("#recipients tbody tr:first-child td:first-child a")
    number = link.inner_text()
    assert number in UNKNOWN
    link.click()
    page.wait_for_url(re.compile(r"/messages/\d+$"))
    see_in(page.locator("h1"), f"Message to {number}")
    facts = page.inner_text("#message-facts")
    assert "hard_bounce" in facts and "Attempts\n1" in facts.replace("\t", "\n"), facts
    kinds = page.locator("#history tbody tr").evaluate_all(
        "rows => rows.map(r => r.className)")
    assert kinds[0] == "event-created", kinds
    assert {"event-submit", "event-receipt", "event-status"} <= set(kinds), kinds
    receipt = page.inner_text("#history tr.event-receipt")
    assert "UNDELIV" in receipt and "001" in receipt, receipt
    changes = page.locator("#history tr.event-status td:nth-child(3)").all_inner_texts()
    final = page.inner_text("#message-facts .cat")
    assert changes[0].startswith("Queued → Sent"), changes
    assert changes[-1].split(" → ")[1].startswith(final), (changes, final)


def download_reports(tab: Tab, campaign_id: int, folder: Path) -> None:
    """The recipients CSV (one row per recipient) and the PDF, as the browser saves
    them."""
    page = tab.page
    tab.goto(f"/campaigns/{campaign_id}")
    with page.expect_download() as recipients:
        page.click("#export-recipients")
    assert recipients.value.suggested_filename == f"campaign-{campaign_id}-recipients.csv"
    saved = folder / "recipients.csv"
    recipients.value.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert sorted(r["number"] for r in rows) == sorted(DELIVERED | UNKNOWN)
    assert Counter(r["category"] for r in rows) == {"delivered": 8, "hard_bounce": 2}
    assert {r["first_name"] for r in rows if r["number"] == "+33612345613"} == {"Élodie"}
    with page.expect_download(timeout=WAIT) as pdf:
        page.click("#export-pdf")
    assert pdf.value.suggested_filename == f"campaign-{campaign_id}-report.pdf"
    data = Path(pdf.value.path()).read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 2000


def blacklist_and_take_off(tab: Tab) -> None:
    """A number on the blacklist page, then off it after the confirmation; the log
    keeps both, newest first."""
    page = tab.page
    page.click("nav >> text=Blacklist")
    page.fill("#bl-number", "06 99 88 77 66")
    page.fill("#bl-reason", "asked by phone")
    page.click("#add-blacklist-submit")
    see_in(page.locator(".flash-success"), "+33699887766 is blacklisted")
    entries = page.locator("#blacklist tbody tr")
    assert entries.count() == 1
    assert entries.first.locator("td").nth(0).inner_text() == "+33699887766"
    assert entries.first.locator("td").nth(3).inner_text() == "asked by phone"
    page.click("text=Remove…")
    page.fill("#confirm-reason", "opted in again")
    page.click("#confirm")
    see_in(page.locator(".flash-success"), "+33699887766 is off the blacklist")
    assert page.locator("#blacklist").count() == 0
    assert page.locator("#no-entries").is_visible()
    log = [row[1:3] + row[5:] for row in (
        page.locator("#blacklist-log tbody tr").nth(i).locator("td").all_inner_texts()
        for i in range(2))]
    assert log == [["+33699887766", "removed", "opted in again"],
                   ["+33699887766", "added", "asked by phone"]]


def reader_cannot_send(tab: Tab, sent_id: int, draft_id: int, db: Database) -> None:
    """A read-only user: no action on a campaign's page, and the send form posted
    with the page's CSRF token anyway is refused; the draft stays a draft."""
    page = tab.page
    for campaign_id in (sent_id, draft_id):
        tab.goto(f"/campaigns/{campaign_id}")
        see(page.locator("h1 small"), re.compile(rf"^#{campaign_id}\b"))
        assert page.locator("#send, #pause, #cancel, #test-send").count() == 0
        assert tab.post_forms() == ["/logout"]
        # it sees the figures all the same
        see(page.locator("#live-delivered"), "8" if campaign_id == sent_id else "0")
    token = page.get_attribute("form[action='/logout'] input[name=csrf_token]", "value")
    assert token
    refused = page.request.post(f"{tab.url}/campaigns/{draft_id}/send",
                                form={"csrf_token": token}, max_redirects=0)
    assert refused.status == 403, refused.status
    assert "read-only" in refused.text()
    page.reload()
    see(page.locator("#campaign-state"), "draft")
    assert page.locator("#no-recipients").is_visible()
    with db.session() as session:
        draft = service.get_campaign(session, draft_id)
        assert (draft.state, draft.started_at) == ("draft", None)
        assert session.scalar(select(func.count()).select_from(Message)
                              .where(Message.campaign_id == draft_id)) == 0


# -- the story --------------------------------------------------------------------------


@pytest.mark.slow
def test_an_admin_imports_sends_follows_and_exports_and_a_reader_cannot_send(
        browser: Any, story: Story, browser_page: Any, tmp_path: Path) -> None:
    admin = Tab(browser_page, story.url)
    admin.log_in("admin@example.com")
    import_contacts(admin, tmp_path)
    campaign_id = create_campaign(admin, "Soldes d'été", recipients=10)
    send_and_watch(admin, campaign_id)
    filter_recipients(admin)
    open_history(admin)
    download_reports(admin, campaign_id, tmp_path)
    blacklist_and_take_off(admin)
    # the unknown numbers left the list when their receipt came (address book hygiene)
    draft_id = create_campaign(admin, "Relance", recipients=8)
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        reader = Tab(context.new_page(), story.url)
        reader.log_in("reader@example.com")
        assert "(read-only)" in reader.page.inner_text("header")
        reader_cannot_send(reader, campaign_id, draft_id, story.db)
        assert reader.errors == []
    finally:
        context.close()
    assert admin.errors == []  # no CSP violation, no failed load
