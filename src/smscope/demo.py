"""``smscope demo``: a campaign sent end to end through the operator simulator.

On a demo database it generates a realistic contact file (national and international
formats, bad numbers, duplicates), imports it into a new list, blacklists two numbers,
and sends a campaign to that list (plus the file's bad numbers, which end
``invalid_number``) through the built-in simulator with the ``realistic`` profile, on a
demo time scale: receipts within seconds, retries after 5, 15 and 30 seconds, a
validity of two minutes, so every message is final within about three minutes. Then it
prints the report. The report has exactly ``--recipients`` recipients.

The text has a link, sent as a tracked link, and the web app serves the redirect while
the campaign is sent, so the simulator's clicks land and the report counts them. The
app listens on loopback: on the port of ``public_url`` (8000 by default) when it is
free, otherwise (and always with ``--no-ui``, so that runs side by side never collide)
on a free port; the run's public URL is that address, whatever the configuration says.
Without ``--no-ui`` the app goes on serving after the report until Ctrl-C, and the
demo prints the address to open and the login of the demo's admin (made on a new
database with a new password, printed once).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import random
import re
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console

from smscope.accounts import users
from smscope.app import Smscope
from smscope.campaigns import service
from smscope.campaigns.fanout import parse_numbers
from smscope.cli_campaigns import print_report, wait_for_campaign
from smscope.config import RetryConfig, ValidityConfig, load_config
from smscope.connectors.registry import add_connector
from smscope.contacts import blacklist as bl
from smscope.contacts import book
from smscope.contacts.importer import import_contacts
from smscope.db.types import utcnow
from smscope.errors import NotFoundError, UsageError
from smscope.output import print_json
from smscope.pricing import CreditBank
from smscope.reports.campaign import campaign_report
from smscope.web import server
from smscope.web.app import create_app

FIRST = ["Camille", "Léa", "Hugo", "Lucas", "Chloé", "Manon", "Jules", "Inès", "Louis", "Zoé",
         "Gabriel", "Jade", "Arthur", "Emma", "Noah", "Alice", "Raphaël", "Lina", "Adam", "Rose"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "García", "Müller"]
CITIES = ["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Nice"]
BAD_NUMBERS = ["01 42 68 53 00", "06 12 34", "+33 6 12 34 56 78 90", "n/a", "0800 123 456",
               "+", "00", "06 12 34 56 7a"]
#: French mobile ranges (06 and 07 blocks that libphonenumber knows as mobile)
MOBILE_PREFIXES = [f"06{b:02d}" for b in range(10, 90) if b != 39] + [
    f"07{b:02d}" for b in range(30, 90)]
DEMO_TEXT = ("Bonjour {first_name|there}, -20 % ce week-end à {city|votre magasin} : "
             "shop.example.com/soldes STOP au 36180")
DEMO_CONNECTOR = "demo-simulator"
#: the web UI's login for the demo
DEMO_ADMIN = "demo@example.com"
#: the longest the demo waits for every message to be final
DEMO_TIMEOUT = 300.0
LOOPBACK = ("127.0.0.1", "localhost")


def demo_database_url() -> tuple[str, bool]:
    """``SMSCOPE_DATABASE_URL`` when set, else a new ``smscope-demo*.db`` (never wiped)."""
    url = os.environ.get("SMSCOPE_DATABASE_URL")
    if url:
        return url, False
    path = Path("smscope-demo.db")
    n = 2
    while path.exists():
        path = Path(f"smscope-demo-{n}.db")
        n += 1
    return f"sqlite:///{path}", True


def _format(national: str, rng: random.Random) -> str:
    digits = national[1:]
    style = rng.random()
    if style < 0.35:
        return " ".join([national[:2], *(national[i:i + 2] for i in range(2, 10, 2))])
    if style < 0.55:
        return ".".join([national[:2], *(national[i:i + 2] for i in range(2, 10, 2))])
    if style < 0.8:
        return f"+33 {digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}"
    if style < 0.9:
        return "0033" + digits
    return national


def write_demo_contacts(path: Path, count: int, seed: int) -> tuple[int, list[str]]:
    """A contact file as a CRM would export it: French headers, mixed formats, mistakes.

    ``count`` distinct numbers (about 3 % of them invalid), plus about 1 % of rows that
    repeat an earlier number in another format. Returns the rows written and the
    invalid numbers (each different, so each is a recipient of its own).
    """
    rng = random.Random(seed)
    used: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(["Prénom", "Nom", "Téléphone", "Ville"])
        for i in range(count):
            if rng.random() < 0.03:
                number = BAD_NUMBERS[len(bad) % len(BAD_NUMBERS)] + (
                    f" ({len(bad)})" if len(bad) >= len(BAD_NUMBERS) else "")
                bad.append(number)
            else:
                national = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**6):06d}"
                while national in seen:
                    national = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**6):06d}"
                seen.add(national)
                number = _format(national, rng)
                used.append(national)
            writer.writerow([rng.choice(FIRST), rng.choice(LAST), number,
                             rng.choice(CITIES) if i % 5 else ""])
            rows += 1
            if used and rng.random() < 0.01:
                again = _format(rng.choice(used), rng)
                writer.writerow([rng.choice(FIRST), rng.choice(LAST), again, ""])
                rows += 1
    return rows, bad


#: the demo's time scale: seconds where a real network takes hours
DEMO_RETRY = [timedelta(seconds=5), timedelta(seconds=15), timedelta(seconds=30)]
DEMO_VALIDITY = timedelta(seconds=120)


def _connector_name(profile: str) -> str:
    """The demo's connector for ``profile`` (a built-in name or a file): one per
    profile, named after it."""
    if profile == "realistic":
        return DEMO_CONNECTOR
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(profile).stem).strip("-.") or "custom"
    return f"{DEMO_CONNECTOR}-{name}"[:64]


def _web_socket(public_url: str, no_ui: bool) -> socket.socket:
    """Where the demo serves the web app: ``public_url``'s port on loopback if it is
    free (and the UI is wanted), else any free loopback port."""
    parts = urlsplit(public_url)
    if not no_ui and parts.scheme == "http" and parts.hostname in LOOPBACK:
        with contextlib.suppress(UsageError, ValueError):
            return server.bind("127.0.0.1", parts.port or 80)
    return server.bind("127.0.0.1", 0)


def run_demo(*, recipients: int, seed: int, json_out: bool, no_ui: bool, console: Console,
             err: Console, profile: str = "realistic") -> dict[str, Any]:
    """Import, send through the simulator while serving the web app, print the report
    (and serve on until interrupted, unless ``no_ui``); returns the report."""
    if recipients < 1:
        raise UsageError("--recipients must be at least 1")
    url, fresh = demo_database_url()
    base = load_config()
    sock = _web_socket(base.public_url, no_ui)
    config = base.model_copy(update={
        "database_url": url, "default_region": "FR",
        "retry": RetryConfig(backoff=DEMO_RETRY),
        "validity": ValidityConfig(default=DEMO_VALIDITY),
        "public_url": f"http://127.0.0.1:{sock.getsockname()[1]}",
    })
    smscope = Smscope(config)
    err.print(f"database: {smscope.db.display_url}" + (" (new)" if fresh else ""),
              soft_wrap=True)
    password = demo_admin(smscope)
    web = server.BackgroundServer(create_app(smscope), sock).start()
    try:
        report = _send(smscope, recipients=recipients, seed=seed, json_out=json_out,
                       no_ui=no_ui, console=console, err=err, profile=profile)
        if not no_ui:
            err.print(f"web app: open {web.url}/ and log in as {DEMO_ADMIN} with "
                      f"{f'the password {password}' if password else 'its password'}; "
                      "Ctrl-C stops it", soft_wrap=True)
            _serve_until_interrupted()
    finally:
        web.stop()
        smscope.close()
    return report


def demo_admin(smscope: Smscope) -> str | None:
    """Make the demo's admin, with a new password (returned, to be printed once); None
    when a database given by SMSCOPE_DATABASE_URL already has it (its password is not
    changed behind anyone's back)."""
    with smscope.db.transaction() as session:
        try:
            users.get_user(session, DEMO_ADMIN)
            return None
        except NotFoundError:
            password = users.generate_password()
            users.create_user(session, DEMO_ADMIN, role="admin", password=password)
            return password


def _serve_until_interrupted() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _send(smscope: Smscope, *, recipients: int, seed: int, json_out: bool, no_ui: bool,
          console: Console, err: Console, profile: str) -> dict[str, Any]:
    config = smscope.config
    url = config.database_url
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    list_name = f"demo {stamp}"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "demo-contacts.csv"
        rejects = Path(folder) / "rejects.csv"
        write_demo_contacts(source, recipients, seed)
        result = import_contacts(smscope.db, source, list_name, default_region="FR",
                                 rejects=rejects, actor="demo")
        # the rows the import refused are sent to as well: they end invalid_number
        with rejects.open(encoding="utf-8-sig", newline="") as stream:
            bad = [row["Téléphone"] for row in csv.DictReader(stream)]
    with smscope.db.transaction() as session:
        page = book.list_contacts(session, list_name=list_name, limit=2)
        opted_out = [c["number"] for c in page.items[:2]]
        for number in opted_out:
            bl.add(session, number, reason="replied STOP (demo)", source="manual", actor="demo")
        CreditBank(session).add(recipients * 2, note="demo credits", actor="demo")
        connector = _connector_name(profile)
        add_connector(session, connector, "simulator", {"profile": profile, "seed": seed},
                      replace=True)
        campaign = service.create_campaign(
            session, name=f"Demo campaign {stamp}", sender="SMSCOPE", text=DEMO_TEXT,
            config=config, now=utcnow(), lists=[list_name],
            numbers=parse_numbers(bad, "FR"), type_="transactional", connector=connector)
        campaign_id = campaign.id
    err.print(f"imported {result.imported:,} contacts into list {list_name!r} "
              f"({result.invalid:,} invalid rows, {result.duplicates:,} duplicates); "
              f"blacklisted {', '.join(opted_out)}; sending campaign {campaign_id} to "
              f"{recipients:,} recipients through the operator simulator…", soft_wrap=True)
    with smscope.db.transaction() as session:
        service.send(session, campaign_id, config=config, prices=smscope.price_table(),
                     now=utcnow())
    finished = asyncio.run(wait_for_campaign(smscope, campaign_id, DEMO_TIMEOUT))
    with smscope.db.session() as session:
        report = campaign_report(session, campaign_id)
    if json_out:
        print_json(report)
    else:
        print_report(report, console)
    if not finished:
        err.print(f"the campaign is not finished after {DEMO_TIMEOUT:g}s; "
                  "'smscope worker' goes on with it", soft_wrap=True)
    where = (f"SMSCOPE_DATABASE_URL={url} .venv/bin/smscope campaign report {campaign_id}"
             f" (or: campaign status {campaign_id})")
    err.print(f"report again with: {where}; as a PDF with its charts: add --pdf "
              f"report.pdf; every recipient: campaign export {campaign_id} --csv FILE",
              soft_wrap=True)
    return report
