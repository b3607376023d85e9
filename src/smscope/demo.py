"""``smscope demo``: what works today, on a demo database, in one command.

The campaign engine and the operator simulator are not built yet, so for now the demo
shows the address book: it generates a realistic contact file (national and
international formats, bad numbers, duplicates), imports it, blacklists a few numbers,
and shows the encoding, segments and cost of a message. It says so when it runs.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from smscope import text as sms_text
from smscope.app import Smscope
from smscope.config import load_config
from smscope.contacts import blacklist as bl
from smscope.contacts import book
from smscope.contacts.importer import import_contacts
from smscope.output import credits_text, print_json

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
DEMO_TEXT = "Bonjour {first_name|there}, -20 % ce week-end à {city|votre magasin} ! STOP au 36180"


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


def write_demo_contacts(path: Path, count: int, seed: int) -> None:
    """A contact file as a CRM would export it: French headers, mixed formats, mistakes."""
    rng = random.Random(seed)
    used: list[str] = []
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(["Prénom", "Nom", "Téléphone", "Ville"])
        for i in range(count):
            roll = rng.random()
            if roll < 0.03:
                number = rng.choice(BAD_NUMBERS)
            elif roll < 0.04 and used:
                number = rng.choice(used)
            else:
                national = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**6):06d}"
                number = _format(national, rng)
                used.append(number)
            writer.writerow([rng.choice(FIRST), rng.choice(LAST), number,
                             rng.choice(CITIES) if i % 5 else ""])


def run_demo(*, recipients: int, seed: int, json_out: bool, console: Console,
             err: Console) -> dict[str, Any]:
    url, fresh = demo_database_url()
    config = load_config().model_copy(update={"database_url": url, "default_region": "FR"})
    smscope = Smscope(config)
    err.print("smscope demo: the campaign engine and operator simulator are not built yet; "
              "this demo shows the address book (import, blacklist, text and cost).",
              soft_wrap=True)
    err.print(f"database: {smscope.db.display_url}" + (" (new)" if fresh else ""), soft_wrap=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "demo-contacts.csv"
        write_demo_contacts(source, recipients, seed)
        result = import_contacts(smscope.db, source, f"demo-{seed}", default_region="FR",
                                 actor="demo")
    with smscope.db.transaction() as session:
        page = book.list_contacts(session, list_name=f"demo-{seed}", limit=3)
        opted_out = [c["number"] for c in page.items[:2]]
        for number in opted_out:
            bl.add(session, number, reason="replied STOP (demo)", source="manual", actor="demo")
    with smscope.db.session() as session:
        lists = book.lists_summary(session)
    measure = sms_text.measure(sms_text.render(DEMO_TEXT, {"first_name": "Camille",
                                                           "city": "Lyon"}))
    prices = smscope.price_table()
    summary = {
        "database": smscope.db.display_url,
        "import": result.to_json(),
        "blacklisted": opted_out,
        "lists": [{k: v for k, v in row.items() if k != "created_at"} for row in lists],
        "message": {"text": DEMO_TEXT, "encoding": measure.encoding,
                    "segments": measure.segments,
                    "cost_per_contact": prices.price_for("FR") * measure.segments},
        "campaigns": "not built yet",
    }
    smscope.close()
    if json_out:
        print_json(summary)
        return summary
    table = Table(title=f"Demo import into list demo-{seed}", show_header=False)
    for key, value in result.to_json().items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    if result.reasons:
        console.print("invalid rows by reason: " + ", ".join(
            f"{code} {count}" for code, count in sorted(result.reasons.items(),
                                                       key=lambda kv: -kv[1])))
    console.print(f"blacklisted: {', '.join(opted_out)}")
    console.print(f"message: {DEMO_TEXT!r}")
    console.print(f"  {measure.encoding}, {measure.segments} segment(s), "
                  f"{credits_text(prices.price_for('FR') * measure.segments)} credit(s) "
                  "per French contact")
    console.print(f"look around: export SMSCOPE_DATABASE_URL={url}; then .venv/bin/smscope "
                  f"lists · contacts list --list demo-{seed} · blacklist list", soft_wrap=True)
    return summary
