"""A NUL character (U+0000) in anything a page is sent: PostgreSQL refuses one in any
text value, so it was a 500 there, and SQLite stored it. Every form field of every page
now refuses it with a clear error — next to the field when the form shows errors
there, in the form's error line otherwise (a flash after an action, the 400 page for a
field nobody types: a choice, a hidden field) — the same way on both backends, and
nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from smscope.connectors.registry import add_connector
from smscope.contacts import book
from smscope.db.tables import Base, Campaign, Contact, ContactList, User
from tests.conftest import BACKENDS, make_database
from tests.web.book_helpers import wait_for_import
from tests.web.conftest import Site, log_in, signed_in
from tests.web.conftest import _site as make_site

NUL = "\x00"
MESSAGE = "NUL character"
#: tables a request may change without storing anything it was sent
SESSION_TABLES = {"web_sessions", "login_attempts"}

CAMPAIGN = {"name": "Soldes", "sender": "SHOP", "text": "Bonjour {first_name}",
            "lists": "customers", "numbers": "+33612000001", "type": "marketing",
            "connector": "sim", "schedule": "2031-01-05T09:30", "validity": "48h",
            "track_links": "1"}
CONNECTOR = {"name": "op2", "kind": "smpp", "host": "smsc.example.com", "port": "2775",
             "system_id": "acme", "password": "secret", "profile": "", "seed": "",
             "rate": "10", "window": "20", "receivers": "1", "split": "udh8",
             "id_format": "hex", "mapping": "UNDELIV:001=permanent_error_absence"}
SIMULATOR = {**CONNECTOR, "kind": "simulator", "profile": "instant", "seed": "7"}
SMTP = {"smtp.host": "mail.example.com", "smtp.port": "587", "smtp.user": "me",
        "smtp.password": "pw", "smtp.tls": "starttls", "smtp.from": "me@example.com"}
IMPORT = {"list": "customers", "default_region": "FR", "delimiter": ",",
          "phone_column": "phone", "mapping": "prenom=first_name"}


@dataclass(frozen=True)
class Case:
    """A form (``data``, otherwise right) posted with a NUL in ``name``; ``shown`` is
    the id of the element that must say so, ``"flash"`` for an action answered by a
    redirect, ``"page"`` for the 400 page."""

    path: str
    name: str
    shown: str
    data: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    user: str = "admin@example.com"

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.name}"


def with_nul(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + NUL + value[middle:]


def fields(path: str, data: dict[str, str], shown: dict[str, str],
           **others: str) -> list[Case]:
    """A case for each field of ``data``: shown next to it (its id in ``shown``) or
    by the page's other way (``others``)."""
    return [Case(path, name, shown.get(name) or others[name], data) for name in data]


CASES = [
    # campaigns: the form, its actions
    *fields("/campaigns/new", CAMPAIGN,
            {n: f"{n}-error" for n in CAMPAIGN if n != "track_links"},
            track_links="page"),
    *fields("/campaigns/{campaign}/edit", CAMPAIGN,
            {n: f"{n}-error" for n in CAMPAIGN if n != "track_links"},
            track_links="page"),
    Case("/campaigns/new", "offset", "page", {**CAMPAIGN, "offset": "1", "preview": "next"}),
    Case("/campaigns/new", "preview", "page", {**CAMPAIGN, "preview": "next"}),
    Case("/campaigns/{campaign}/test", "numbers", "flash", {"numbers": "+33612000009"}),
    Case("/campaigns/{campaign}/share", "addresses", "flash",
         {"addresses": "boss@example.com"}),
    Case("/campaigns/{campaign}/cancel", "confirm", "page", {"confirm": "yes"}),
    # the address book
    *fields("/contacts/{contact}",
            {"first_name": "Anne", "last_name": "Martin", "field:city": "Paris",
             "new_field_name": "zip", "new_field_value": "75001"},
            {"first_name": "first-name-error", "last_name": "last-name-error",
             "field:city": "field-1-error", "new_field_name": "new-field-name-error",
             "new_field_value": "new-field-value-error"}),
    Case("/lists", "name", "list-name-error", {"name": "vip"}),
    Case("/lists/{list}/rename", "name", "rename-name-error", {"name": "clients"}),
    Case("/lists/{list}/members", "number", "member-number-error",
         {"number": "+33612000002"}),
    *fields("/blacklist", {"number": "+33612000003", "reason": "asked"},
            {"number": "bl-number-error", "reason": "bl-reason-error"}),
    *fields("/blacklist/remove", {"number": "+33612000004", "reason": "by mistake"}, {},
            number="flash", reason="flash"),
    *fields("/credits", {"amount": "100", "note": "top-up"},
            {"amount": "credit-amount-error", "note": "credit-note-error"}),
    # imports (a file sent with the options; its name is a field too)
    *fields("/imports", IMPORT, {n: f"import-{n.replace('_', '-')}-error" for n in IMPORT}
            | {"default_region": "import-region-error"}),
    Case("/imports", "new_list", "import-new-list-error", {**IMPORT, "new_list": "fresh"}),
    Case("/imports", "filename", "import-file-error", IMPORT),
    # connectors
    *fields("/connectors", CONNECTOR,
            {n: f"c-{n.replace('_', '-')}-error" for n in CONNECTOR if n != "kind"},
            kind="page"),
    *[Case("/connectors", n, f"c-{n}-error", SIMULATOR) for n in ("profile", "seed")],
    *fields("/connectors/sim/limits", {"rate": "5", "window": "10"}, {},
            rate="flash", window="flash"),
    Case("/connectors/sim/enabled", "enabled", "page", {"enabled": "0"}),
    # settings
    *fields("/settings/section/smtp", SMTP,
            {n: f"smtp-{n.removeprefix('smtp.')}-error" for n in SMTP}),
    Case("/settings/section/smtp", "smtp.password_clear", "page",
         {**SMTP, "smtp.password_clear": "1"}),
    *[Case(f"/settings/section/{section}", f"{section}.{key}", f"{section}-{key}-error",
           {f"{section}.{key}": value})
      for section, key, value in (
          ("suspension", "soft_bounce", "0.2"), ("suspension", "hard_bounce", "0.1"),
          ("suspension", "unsubscribe", "0.05"), ("suspension", "min_sample", "300"),
          ("stop", "keywords", "STOP, ARRET"), ("validity", "default", "48h"),
          ("retry", "backoff", "1h, 2h"), ("duplicates", "window", "12h"))],
    *fields("/settings/windows",
            {"country": "FR", "start": "09:00", "end": "19:00", "day_mon": "1"},
            {"country": "w-country-error", "start": "w-start-error",
             "end": "w-end-error"}, day_mon="page"),
    *fields("/settings/prices", {"country": "FR", "price": "0.05"},
            {"country": "p-country-error", "price": "p-price-error"}),
    Case("/settings/smtp/test", "to", "flash", {"to": "me@example.com"}),
    # accounts, tokens, webhooks
    *fields("/users", {"email": "new@example.com", "role": "member",
                       "password": "a long enough password"}, {},
            email="user-error", role="user-error", password="user-error"),
    Case("/users/{user}/role", "role", "flash", {"role": "readonly"}),
    Case("/users/{user}/active", "active", "page", {"active": "0"}),
    Case("/tokens", "name", "flash", {"name": "laptop"},
         user="member@example.com"),
    *fields("/webhooks", {"url": "https://hooks.example.com/sms", "campaign_id": "1",
                          "secret": "s" * 32}, {},
            url="webhook-error", campaign_id="webhook-error", secret="webhook-error"),
    # searches and filters (GET)
    *[Case("/contacts", n, "flash", {n: v}, "GET")
      for n, v in (("search", "Anne"), ("list", "customers"))],
    Case("/blacklist", "search", "bl-search-error", {"search": "asked"}, "GET"),
    Case("/webhooks/deliveries", "state", "deliveries-error", {"state": "failed"}, "GET"),
    Case("/campaigns/{campaign}", "search", "recipients-error", {"search": "Anne"}, "GET"),
    Case("/campaigns/{campaign}", "status", "recipients-error", {"status": "delivered"},
         "GET"),
    Case("/campaigns/{campaign}/recipients.csv", "search", "flash", {"search": "Anne"},
         "GET"),
    Case("/messages", "text", "text-error", {"text": "Bonjour"}, "GET"),
    Case("/stats", "by", "by-error", {"by": "week"}, "GET"),
]


def ids_of(site: Site) -> dict[str, int]:
    with site.smscope.db.session() as session:
        return {"campaign": session.scalars(select(Campaign.id)).one(),
                "list": session.scalars(select(ContactList.id)).one(),
                "contact": session.scalars(select(Contact.id)).one(),
                "user": session.scalars(select(User.id)
                                        .where(User.email == "reader@example.com")).one()}


def seed(site: Site) -> None:
    """A list with a contact, a simulator connector, a draft campaign to them."""
    with site.smscope.db.transaction() as session:
        made = book.create_list(session, "customers")
        contact, _ = book.add_to_list(session, made.id, "+33612000000", "FR")
        contact.first_name, contact.fields = "Anne", {"city": "Paris"}
        add_connector(session, "sim", "simulator", {"profile": "instant"})
    client, csrf = signed_in(site, "member@example.com")
    made = client.post("/campaigns/new", data={**CAMPAIGN, "csrf_token": csrf},
                       follow_redirects=False)
    assert made.status_code == 303, made.text


def stored(site: Site) -> dict[str, list[str]]:
    """Every row of every table but the sessions' (a request may log in or out)."""
    with site.smscope.db.session() as session:
        return {table.name: sorted(repr(tuple(row)) for row in session.execute(
                    select(table)))
                for table in Base.metadata.sorted_tables if table.name not in SESSION_TABLES}


def element_text(html: str, element_id: str) -> str | None:
    found = re.search(rf'<[a-z]+ [^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</',
                      html, re.S)
    return unescape(found.group(1)) if found else None


def flashes(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>',
                                            html, re.S)]


class Seeded:
    """One seeded site per backend for every case (each checks that it changed
    nothing), with a signed-in client of each user."""

    def __init__(self, site: Site) -> None:
        self.site = site
        seed(site)
        self.ids = ids_of(site)
        self._clients: dict[str, tuple[Any, str]] = {}

    def client(self, user: str) -> tuple[Any, str]:
        if user not in self._clients:
            self._clients[user] = signed_in(self.site, user)
        return self._clients[user]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[Seeded]:
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    database = make_database(request.param, pg, sqlite_template,
                             tmp_path_factory.mktemp("nul"))
    url = database.url
    database.dispose()
    for site in make_site(url):
        yield Seeded(site)


def send(seeded: Seeded, case: Case) -> Any:
    client, csrf = seeded.client(case.user)
    path = case.path.format(**seeded.ids)
    data = {k: (with_nul(v) if k == case.name else v) for k, v in case.data.items()}
    if case.name not in data:
        data[case.name] = with_nul(case.name)
    if case.method == "GET":
        return client.get(path, params=data)
    data["csrf_token"] = csrf
    if path == "/imports":
        name = with_nul("contacts.csv") if case.name == "filename" else "contacts.csv"
        data.pop("filename", None)
        return client.post(path, content=multipart(data, name), headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    return client.post(path, data=data)


BOUNDARY = "nul-boundary-7f3a"


def multipart(data: dict[str, str], filename: str) -> bytes:
    """The form with a file, written by hand: HTTP clients escape a NUL in a file's
    name, but a request made otherwise may hold one."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in data.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
                 "phone,prenom\r\n0612000005,Zoe\r\n\r\n")
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_nul_in_any_field_is_refused_clearly_and_nothing_is_stored(seeded, case) -> None:
    seeded.client(case.user)  # logging in changes the user's row
    before = stored(seeded.site)
    answer = send(seeded, case)
    assert answer.status_code < 500, answer.text
    if case.shown == "page":
        assert answer.status_code == 400, answer.text
        message = element_text(answer.text, "error-message")
    elif case.shown == "flash":
        assert answer.status_code in (200, 400, 422), answer.text
        message = " ".join(flashes(answer.text))
    else:
        assert answer.status_code in (400, 422), answer.text
        message = element_text(answer.text, case.shown)
    assert message and MESSAGE in message, answer.text
    assert stored(seeded.site) == before


def test_a_nul_in_the_login_form_is_refused_and_logs_nobody_in(any_site) -> None:
    for name in ("email", "password"):
        client = any_site.client()
        page = client.get("/login")
        data = {"email": "admin@example.com", "password": "correct horse battery staple",
                "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                        page.text).group(1), "next": "/"}
        data[name] = with_nul(data[name])
        answer = client.post("/login", data=data, follow_redirects=False)
        assert answer.status_code == 422, answer.text
        assert MESSAGE in (element_text(answer.text, "login-error") or ""), answer.text
        assert "smscope_session" not in answer.cookies
    client = any_site.client()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"email": "admin@example.com",
                                         "password": "correct horse battery staple",
                                         "csrf_token": csrf, "next": "/\x00"},
                         follow_redirects=False)
    assert answer.status_code == 400 and MESSAGE in answer.text
    assert log_in(any_site.client(), "admin@example.com").status_code == 303


@pytest.mark.parametrize("path", ["/connectors/si%00m/enabled", "/connectors/si%00m/limits",
                                  "/settings/windows/F%00R/remove",
                                  "/settings/prices/F%00R/remove",
                                  "/settings/section/sm%00tp"])
def test_a_nul_in_an_address_is_the_404_page(seeded, path) -> None:
    client, csrf = seeded.client("admin@example.com")
    before = stored(seeded.site)
    answer = client.post(path, data={"csrf_token": csrf, "rate": "1"})
    assert answer.status_code == 404, answer.text
    assert stored(seeded.site) == before


#: a contact file with NUL bytes in its header, a number, a name, a custom field, a
#: blank-looking line and a row that is wrong for another reason (and rows without,
#: enough for the file not to look binary)
NUL_CSV = (b"pho\x00ne,prenom,vil\x00le\n"
           b"06 12 00\x00 01 01,Zo\x00\xc3\xa9,Pa\x00ris\n"
           b"\x00\x00\n"
           b"not a\x00 number,Bad,Lyon\n"
           b"0612000102,Yves,\x00\n"
           + b"".join(b"06120002%02d,Name%d,Nantes\n" % (i, i) for i in range(5)))


def test_nul_bytes_in_an_uploaded_contact_file_are_dropped_and_every_row_counts(
        any_site) -> None:
    """A NUL in a CSV cell was the same on both backends already: the reader drops
    NUL bytes (other programs leave them), so no row is lost to one, and a row wrong
    for another reason is rejected with its reason and its cells without the NUL."""
    client, csrf = signed_in(any_site, "member@example.com")
    answer = client.post("/imports", data={"csrf_token": csrf, "new_list": "nul",
                                           "default_region": "FR"},
                         files={"file": ("nul.csv", NUL_CSV, "text/csv")},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    import_id = int(answer.headers["location"].rsplit("/", 1)[1])
    record = wait_for_import(any_site, import_id)
    assert (record.state, record.rows, record.imported, record.invalid) == ("done", 8, 7, 1)
    with any_site.smscope.db.session() as session:
        found = {c.number: (c.first_name, c.fields) for c in session.scalars(
            select(Contact).where(Contact.number.in_(["+33612000101", "+33612000102"])))}
    assert found == {"+33612000101": ("Zoé", {"ville": "Paris"}),
                     "+33612000102": ("Yves", {})}
    rejects = client.get(f"/imports/{import_id}/rejects.csv").content.decode("utf-8-sig")
    assert rejects.splitlines()[0] == "phone,prenom,ville,reason"
    assert rejects.splitlines()[1].startswith("not a number,Bad,Lyon,")
    assert NUL not in rejects and NUL not in client.get(f"/imports/{import_id}").text
