"""The README's screenshots of the web UI, made again from nothing.

    .venv/bin/python scripts/screenshots.py                   # into docs/screenshots/
    .venv/bin/python scripts/screenshots.py --every-page DIR  # every page, both widths
    .venv/bin/python scripts/screenshots.py --workdir DIR     # keep the database there

It builds a demo database in a temporary folder the way ``smscope demo --no-ui`` does
(a contact file imported into a list, two numbers blacklisted, a campaign of 1,500
recipients sent through the operator simulator with its realistic profile: about two
minutes). So that the statistics have more than one day to show, four earlier campaigns
to lists of those contacts are sent as the test suite's engine sends them — fan-out,
submits, receipts and replies through the real pipeline — with the clock set back one
to four weeks. Then it adds an admin, a draft and a scheduled campaign with the command
line, starts ``smscope serve`` on a free port, logs in with Playwright in Debian's
Chromium and takes the pictures: the dashboard, the campaign form with its counter, the
campaign report with its charts, monitoring, statistics, the contacts, an import's
result (a small file uploaded through the import page) and the dashboard on a phone.

The PNGs are reduced to a palette of 256 colours (the UI has few colours), which keeps
each file small. ``--every-page`` shoots every page at 1280 and 390 px instead, whole,
and says which ones scroll sideways on a phone: it is how a change to the layout is
checked page by page. ``--workdir`` keeps the database, and uses it again next time
(without the two minutes of sending; the import is then made again).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@example.com"
PASSWORD = "screenshots only, never a real one"
ZONE = "Europe/Paris"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: the file uploaded through the import page: a CRM's export with a few mistakes
IMPORT_ROWS = [
    ("Prénom", "Nom", "Mobile", "Ville", "Fidélité"),
    ("Camille", "Martin", "06 12 45 78 90", "Lyon", "or"),
    ("Hugo", "Bernard", "+33 7 81 22 43 65", "Lyon", "argent"),
    ("Léa", "Dubois", "06.45.19.88.02", "Villeurbanne", "or"),
    ("Inès", "Thomas", "0033 6 71 30 52 14", "Lyon", ""),
    ("Lucas", "Robert", "07 52 64 18 39", "Caluire", "bronze"),
    ("Manon", "Richard", "04 78 42 10 10", "Lyon", "or"),
    ("Jules", "Petit", "06 12 45 78 90", "Lyon", "argent"),
    ("Zoé", "Durand", "06 88 31", "Bron", ""),
    ("Arthur", "Leroy", "+44 7700 900123", "Lyon", "bronze"),
    ("Emma", "Moreau", "06 23 57 91 46", "Vénissieux", "or"),
    ("Noah", "Simon", "n/a", "Lyon", ""),
    ("Alice", "Laurent", "07 64 82 15 03", "Lyon", "argent"),
]
NEW_TEXT = ("Bonjour {first_name|}, nos soldes d'été commencent samedi : -30 % sur tout "
            "le rayon maison, en magasin et sur shop.example.com/ete. STOP au 36180")


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> str:
    """``smscope ARGS`` in a subprocess; its standard output."""
    done = subprocess.run([sys.executable, "-m", "smscope", *args], env=env, cwd=cwd,
                          input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"smscope {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def environment(folder: Path) -> dict[str, str]:
    """What points smscope at the database in ``folder``, whatever the shell says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCOPE_")}
    env.update(SMSCOPE_DATABASE_URL=f"sqlite:///{folder / 'demo.db'}",
               SMSCOPE_TIMEZONE=ZONE, SMSCOPE_DEFAULT_REGION="FR",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                         env.get("PYTHONPATH")])))
    return env


def demo_list_of(env: dict[str, str], folder: Path) -> str:
    """The list the demo imported (the first one made)."""
    lists = json.loads(run(["lists", "--json"], env, folder))["items"]
    return str(min(lists, key=lambda item: item["id"])["name"])


def build_database(env: dict[str, str], folder: Path) -> None:
    """The demo's database, with its history, an admin and two more campaigns."""
    print("sending the demo campaign through the simulator (about two minutes)…",
          file=sys.stderr)
    run(["demo", "--no-ui", "--recipients", "1500", "--seed", "3"], env, folder)
    run(["users", "create", ADMIN, "--admin", "--password-stdin"], env, folder,
        stdin=PASSWORD + "\n")
    demo_list = demo_list_of(env, folder)
    add_history(env["SMSCOPE_DATABASE_URL"])
    connector = "demo-simulator"
    run(["campaign", "create", "--name", "Soldes d'été — maison", "--sender", "BOUTIQUE",
         "--text", NEW_TEXT, "--list", demo_list, "--connector", connector], env, folder)
    monday = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=7)
    monday -= timedelta(days=monday.weekday())
    scheduled = json.loads(run([
        "campaign", "create", "--name", "Rappel rendez-vous", "--sender", "BOUTIQUE",
        "--type", "transactional", "--connector", connector, "--list", demo_list,
        "--text", "Bonjour {first_name|}, votre rendez-vous en magasin est confirmé "
                  "lundi à 10 h. À bientôt !",
        "--schedule", f"{monday.isoformat()}T10:00", "--json"], env, folder))["id"]
    run(["campaign", "send", str(scheduled)], env, folder)


#: the lists of the earlier campaigns, each with its share of the demo's contacts
LISTS = {"Newsletter": 0.6, "VIP": 0.1, "Clients Paris": 0.2}
#: the earlier campaigns: weeks ago, name, list, text
HISTORY = [
    (4, "Nouvelle collection automne", "Newsletter",
     "Bonjour {first_name|}, la collection d'automne est arrivée en magasin ! "
     "-10 % jusqu'à dimanche avec ce SMS. STOP au 36180"),
    (3, "Vente privée VIP", "VIP",
     "{first_name|Bonjour}, vous êtes invité(e) à notre vente privée jeudi dès 18 h : "
     "-25 % sur tout le magasin. STOP au 36180"),
    (2, "Black Friday J-10", "Newsletter",
     "Black Friday approche : vos offres en avant-première dès lundi. STOP au 36180"),
    (1, "Soirée clients Paris", "Clients Paris",
     "Bonjour {first_name|}, soirée clients mardi 19 h au magasin Paris Bastille, "
     "sur présentation de ce SMS. STOP au 36180"),
]
#: receipts: (share of the messages, delay after the submit, stat, err)
OUTCOMES = [(0.80, 8, "DELIVRD", "000"), (0.10, 40, "DELIVRD", "000"),
            (0.04, 300, "DELIVRD", "000"), (0.03, 20, "UNDELIV", "001"),
            (0.01, 20, "REJECTD", "000"), (0.02, 3600, "EXPIRED", "000")]


def add_history(database_url: str) -> None:
    """The earlier campaigns of :data:`HISTORY`, each sent a week apart (on a weekday
    morning, when France's sending window is open) to a list made of the demo's
    contacts: accepted by the operator, then receipts and a few replies at realistic
    delays."""
    import random

    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    from sqlalchemy import select
    from tests.campaigns.helpers import Engine, make_config, mo, receipt

    from smscope.app import Smscope
    from smscope.campaigns import service
    from smscope.db.tables import Contact
    from smscope.db.types import utcnow
    from smscope.rules.windows import SendingWindows

    config = make_config(database_url=database_url, timezone=ZONE)
    smscope = Smscope(config)
    rng = random.Random(11)
    try:
        engine = Engine(smscope.db, config=config).setup(credits=5000)
        with smscope.db.session() as session:
            people = list(session.execute(
                select(Contact.number, Contact.first_name, Contact.last_name)
                .where(Contact.state == "active").order_by(Contact.id)).all())
        for list_name, share in LISTS.items():
            engine.contacts(list_name, [{"number": n, "first_name": f, "last_name": la}
                                        for n, f, la in rng.sample(people, int(len(people)
                                                                               * share))])
        windows = SendingWindows.from_config(config)
        today = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
        for weeks, name, list_name, text in HISTORY:
            at = windows.next_opening("FR", today - timedelta(weeks=weeks, days=1))
            campaign_id = engine.campaign(name=name, text=text, lists=[list_name],
                                          type_="marketing", now=at, sender="BOUTIQUE")
            ids = engine.send_all(now=at, limit=len(people))
            sent = list(ids.items())
            rng.shuffle(sent)
            start = 0
            for share_of, delay, stat, err in OUTCOMES:
                # the last outcome takes what rounding left over
                end = start + round(len(sent) * share_of) if stat != "EXPIRED" else len(sent)
                engine.receipts([receipt(rid, stat, err, to=to, sender="BOUTIQUE")
                                 for to, rid in sent[start:end]], at + timedelta(seconds=delay))
                start = end
            answers = rng.sample(sorted(ids), max(2, len(ids) // 150))
            engine.replies([mo(rng.choice(["Merci !", "STOP", "Super, à jeudi",
                                           "C'est ouvert dimanche ?"]), frm=to,
                               to="BOUTIQUE") for to in answers],
                           at + timedelta(minutes=30))
            with smscope.db.transaction() as session:  # as a worker does
                service.complete_finished(session, now=at + timedelta(hours=1))
            print(f"campaign {campaign_id} {name!r}: {len(ids)} recipients, "
                  f"{at:%Y-%m-%d}", file=sys.stderr)
    finally:
        smscope.close()


@contextlib.contextmanager
def serving(env: dict[str, str], folder: Path) -> Iterator[str]:
    """``smscope serve`` on a free loopback port while the block runs; its address."""
    process = subprocess.Popen([sys.executable, "-m", "smscope", "serve", "--port", "0"],
                               env=env, cwd=folder, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"on (http://[\d.]+:\d+)", line)
        if not found:
            sys.exit(f"smscope serve did not start: {line}{process.stderr.read()}")
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def chromium() -> str:
    path = (os.environ.get("SMSCOPE_TEST_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))
    if not path:
        sys.exit("no Chromium: apt-get install chromium (or set SMSCOPE_TEST_CHROMIUM)")
    return path


def small_png(path: Path) -> None:
    """The screenshot with a palette of 256 colours: a third of the bytes or less, and
    nothing a reader would see."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    reduced.save(path, optimize=True)


class Browser:
    """A logged-in Chromium page on the served app."""

    def __init__(self, playwright: Any, url: str) -> None:
        args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        self.chromium = playwright.chromium.launch(executable_path=chromium(), args=args)
        self.context = self.chromium.new_context(locale="fr-FR", timezone_id=ZONE,
                                                 viewport=LAPTOP)
        self.page = self.context.new_page()
        self.url = url
        self.goto("/login")
        self.page.fill("#email", ADMIN)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-submit")
        self.page.wait_for_url(url + "/")

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)
        self.page.wait_for_load_state("networkidle")

    def shoot(self, path: Path, *, full: bool = True, clip_to: str | None = None) -> None:
        """The page (whole, or down to the bottom of ``clip_to``) as a small PNG."""
        if clip_to:
            box = self.page.locator(clip_to).bounding_box()
            assert box is not None, clip_to
            height = int(box["y"] + box["height"] + 16)
            self.page.screenshot(path=str(path), full_page=True, clip={
                "x": 0, "y": 0, "width": self.page.viewport_size["width"], "height": height})
        else:
            self.page.screenshot(path=str(path), full_page=full)
        small_png(path)
        print(f"{path.name}: {path.stat().st_size // 1024} KB", file=sys.stderr)

    def close(self) -> None:
        self.context.close()
        self.chromium.close()


def upload(browser: Browser, folder: Path) -> str:
    """Import the small contact file through the import page; the result's address."""
    source = folder / "clients-lyon.csv"
    source.write_text("\n".join(";".join(row) for row in IMPORT_ROWS) + "\n",
                      encoding="utf-8")
    browser.goto("/imports/new")
    browser.page.set_input_files("#import-file", str(source))
    browser.page.fill("#import-new-list", "Clients Lyon")
    browser.page.click("#import-submit")
    browser.page.wait_for_url(re.compile(r".*/imports/\d+$"))
    browser.page.wait_for_selector("#no-rejects, #rejects")
    return browser.page.url.removeprefix(browser.url)


def readme_shots(browser: Browser, out: Path, folder: Path, demo_list: str) -> None:
    """The README's pictures: laptop width, each page down to what it is shown for."""
    from playwright.sync_api import expect

    page = browser.page
    import_page = upload(browser, folder)
    browser.goto("/campaigns")
    report = page.get_attribute("#campaigns a:has-text('Demo campaign')", "href")
    assert report is not None
    browser.goto("/")
    browser.shoot(out / "dashboard.png")

    browser.goto("/campaigns/new")
    page.fill("#name", "Week-end portes ouvertes")
    page.fill("#sender", "BOUTIQUE")
    page.select_option("#lists", demo_list)
    page.fill("#text", "Bonjour {first_name|}, portes ouvertes ce week-end à "
                       "{city|votre magasin} : café offert et -15 % sur présentation de "
                       "ce SMS. Plan : shop.example.com/plan STOP au 36180")
    page.check("input[name=type][value=marketing]")
    page.select_option("#connector", "demo-simulator")
    expect(page.locator("#counter-recipients")).not_to_have_text("0")
    page.wait_for_load_state("networkidle")
    page.locator("#text").blur()
    browser.shoot(out / "campaign-form.png", clip_to="#campaign-form")

    browser.goto(report)
    browser.shoot(out / "campaign-report.png", clip_to=".report-rates")
    browser.goto("/messages?category=hard_bounce")
    browser.shoot(out / "monitoring.png", clip_to="#messages tbody tr:nth-child(3)")
    browser.goto("/stats")
    browser.shoot(out / "statistics.png", clip_to=".chart-box")
    browser.goto("/contacts")
    browser.shoot(out / "contacts.png", full=False)
    browser.goto(import_page)
    browser.shoot(out / "import-result.png")

    page.set_viewport_size(PHONE)
    browser.goto("/")
    browser.shoot(out / "dashboard-phone.png", full=False)
    page.set_viewport_size(LAPTOP)


EVERY_PAGE = ["/", "/campaigns", "/campaigns/new", "/campaigns/1", "/campaigns/2",
              "/campaigns/1/cancel", "/messages", "/messages?category=hard_bounce",
              "/stats", "/stats?by=week", "/contacts", "/contacts/1", "/lists",
              "/lists/1", "/imports/new", "/blacklist", "/credits", "/connectors",
              "/settings", "/webhooks", "/webhooks/deliveries", "/users", "/tokens",
              "/nowhere"]


def every_page(browser: Browser, out: Path, folder: Path) -> None:
    """Every page, whole, at a laptop's and a phone's width; names the pages that
    scroll sideways on a phone."""
    pages = [*EVERY_PAGE, upload(browser, folder), f"/messages/{first_message(browser)}"]
    wide = []
    for path in pages:
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "dashboard"
        for size, label in ((LAPTOP, "laptop"), (PHONE, "phone")):
            browser.page.set_viewport_size(size)
            browser.goto(path)
            browser.page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
            width = browser.page.evaluate("document.documentElement.scrollWidth")
            if width > size["width"]:
                wide.append(f"{path} at {size['width']} px: {width} px wide")
    browser.page.set_viewport_size(LAPTOP)
    # and the one page seen before logging in
    for size, label in ((LAPTOP, "laptop"), (PHONE, "phone")):
        stranger = browser.chromium.new_context(locale="fr-FR", viewport=size)
        page = stranger.new_page()
        page.goto(browser.url + "/login")
        page.screenshot(path=str(out / f"login-{label}.png"), full_page=True)
        stranger.close()
    print("\n".join(wide) or "no page scrolls sideways", file=sys.stderr)


def first_message(browser: Browser) -> str:
    browser.goto("/messages")
    href = browser.page.get_attribute("#messages tbody tr td:first-child a", "href")
    assert href is not None
    return href.rsplit("/", 1)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots",
                        help="where the README's screenshots go")
    parser.add_argument("--every-page", type=Path, metavar="DIR",
                        help="shoot every page at both widths into DIR instead")
    parser.add_argument("--workdir", type=Path, metavar="DIR",
                        help="keep the demo database in DIR, and use the one already "
                             "there (no two minutes of sending when shooting again)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = args.every_page or args.out
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if args.workdir:
            folder = args.workdir.resolve()
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="smscope-screenshots-")))
        env = environment(folder)
        if not (folder / "demo.db").exists():
            build_database(env, folder)
        demo_list = demo_list_of(env, folder)
        with serving(env, folder) as url, sync_playwright() as playwright:
            browser = Browser(playwright, url)
            try:
                if args.every_page:
                    every_page(browser, out, folder)
                else:
                    readme_shots(browser, out, folder, demo_list)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
