"""Benchmark of ``smscope contacts import`` on a large, realistic CSV file.

Run from the repository root::

    .venv/bin/python bench/import.py                 # 1,000,000 rows
    .venv/bin/python bench/import.py --rows 100000   # a quicker run

What it does, in one run:

1. writes a CSV file of ``--rows`` contacts (``first_name;last_name;phone;city``) into a
   temporary folder, streamed row by row and deterministic for a given ``--seed``:
   valid mobile numbers of FR (national and international spellings), BE, DE, ES, GB
   and US, about 3 % invalid numbers (letters, too short, too long, fixed lines,
   empty cells) and about 1 % duplicates (an earlier number written another way);
2. measures the **baseline**: a bare loop of ``phonenumbers.parse(raw, "FR")`` and
   ``phonenumbers.is_valid_number`` over the phone cells of that file, read with the
   :mod:`csv` module;
3. measures the **import**: :func:`smscope.contacts.importer.import_contacts` into a
   fresh SQLite database (or ``--db-url``) with ``default_region="FR"``;
4. prints rows/s, seconds and peak RSS of both, the import/baseline ratio and the
   targets (ratio >= 0.5, import peak RSS < 300 MB), and checks the import's totals
   against what the generator wrote.

Baseline and import each run in a fresh child process, so that neither the file
generation nor the other measurement shows in their peak RSS (read from the kernel's
high-water mark at the end of the child). The exit status is 0 whatever the figures
are: it is a measurement, not a test. It is non-zero only if the benchmark could not
run (bad option, import crashed).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

# ----------------------------------------------------------------------------- targets

TARGET_RATIO = 0.5  # import rows/s divided by baseline rows/s, at least
TARGET_RSS_MB = 300  # peak resident memory of the import process, below (10**6 bytes)
LIST_NAME = "bench"
DELIMITER = ";"
HEADER = ["first_name", "last_name", "phone", "city"]
PHONE_COLUMN = 2

# ----------------------------------------------------------------------------- data

FIRST_NAMES = [
    "Marie",
    "Jean",
    "Camille",
    "Lucas",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Manon",
    "Jules",
    "Inès",
    "Gabriel",
    "Élodie",
    "Jérôme",
    "François",
    "Zoë",
    "Mehdi",
    "Fatou",
    "Yasmine",
    "Thomas",
    "Sophie",
    "Nicolas",
    "Émilie",
    "Anaïs",
    "Noël",
    "Karim",
    "Aurélie",
    "Sébastien",
    "Lena",
    "Jonas",
    "Lucía",
    "Javier",
    "Oliver",
    "Amelia",
    "James",
    "Emma",
    "Noah",
    "Ana",
    "Pieter",
    "Fien",
    "Jan",
    "Søren",
    "Björn",
    "Zoé",
    "Maël",
    "Ophélie",
    "Grégoire",
    "",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Müller",
    "Schmidt",
    "Schäfer",
    "García",
    "Fernández",
    "López",
    "Peeters",
    "Janssens",
    "Smith",
    "Jones",
    "O'Brien",
    "Da Silva",
    "De La Fontaine",
    "N'Diaye",
    "Nguyen",
    "Kowalski",
    "Benoît",
    "",
]
CITIES = [
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Nice",
    "Nantes",
    "Strasbourg",
    "Montpellier",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Saint-Étienne",
    "Le Havre",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nîmes",
    "Aix-en-Provence",
    "Clermont-Ferrand",
    "Besançon",
    "Bruxelles",
    "Liège",
    "Berlin",
    "München",
    "Madrid",
    "Sevilla",
    "London",
    "New York, NY",
    "Paris; 11e",
    "",
]

#: regions of valid numbers and their share of the valid rows
REGIONS = {"FR": 0.78, "BE": 0.05, "DE": 0.05, "ES": 0.04, "GB": 0.04, "US": 0.04}
SHARE_INVALID = 0.03
SHARE_DUPLICATE = 0.01
SUFFIX_DIGITS = 6  # random digits after a validated prefix
RESERVOIR = 10_000  # earlier numbers kept for writing duplicates

SMS_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
NBSP = "\u00a0"


def _pairs(digits: str, sep: str) -> str:
    """French grouping: "0612345678" -> "06 12 34 56 78"."""
    return sep.join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _fr_international(nsn: str, prefix: str) -> str:
    return f"{prefix}{nsn[0]} {_pairs(nsn[1:], ' ')}"


#: ways people write a French mobile number (nsn = "612345678"), with weights
FR_FORMATS: list[tuple[float, Callable[[str], str]]] = [
    (0.28, lambda n: _pairs("0" + n, " ")),  # 06 12 34 56 78
    (0.14, lambda n: _pairs("0" + n, ".")),  # 06.12.34.56.78
    (0.15, lambda n: "0" + n),  # 0612345678
    (0.04, lambda n: _pairs("0" + n, "-")),  # 06-12-34-56-78
    (0.02, lambda n: _pairs("0" + n, NBSP)),  # Excel's no-break spaces
    (0.15, lambda n: _fr_international(n, "+33 ")),  # +33 6 12 34 56 78
    (0.10, lambda n: "+33" + n),  # +33612345678
    (0.08, lambda n: _fr_international(n, "0033 ")),  # 0033 6 12 34 56 78
    (0.04, lambda n: f"+33 (0){n[0]} {_pairs(n[1:], ' ')}"),  # +33 (0)6 12 34 56 78
]


def _international(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


#: ways a foreign number is written in a French file (always with its country code)
FOREIGN_FORMATS: list[tuple[float, Callable[[PhoneNumber], str]]] = [
    (0.60, _international),  # +32 470 12 34 56
    (0.30, lambda p: f"+{p.country_code}{p.national_number}"),  # +32470123456
    (0.10, lambda p: "00" + _international(p)[1:]),  # 0032 470 12 34 56
]


# ----------------------------------------------------------------------------- generator


@dataclass
class Expected:
    """What the generator wrote, to check the import's totals against."""

    rows: int = 0
    unique_valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    invalid_kinds: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    drawn: int = 0  # candidate valid numbers drawn …
    rejected_draws: int = 0  # … and refused by phonenumbers (redrawn)
    seconds: float = 0.0
    size_bytes: int = 0


class _Prefixes:
    """Prefixes of a region whose every suffix tried was a valid mobile number.

    Numbers are ``prefix + suffix``; each prefix hands out suffixes through an affine
    permutation of ``range(10**SUFFIX_DIGITS)``, so numbers never repeat (no set of
    every number written is needed) yet look random.
    """

    def __init__(self, rng: random.Random, region: str, kind: int) -> None:
        self.region = region
        self.country_code = phonenumbers.country_code_for_region(region)
        example = phonenumbers.example_number_for_type(region, kind)
        assert example is not None, region
        nsn = phonenumbers.national_significant_number(example)
        head = nsn[: len(nsn) - SUFFIX_DIGITS]
        wanted = SMS_TYPES if kind == PhoneNumberType.MOBILE else {kind}
        # The example's prefix, with its first digit (and the next one) kept and its
        # last two digits varied: 6xx and 7xx for France, 74xx and 84xx for Britain…
        firsts = (head[0], str((int(head[0]) + 1) % 10))
        if len(head) == 1:
            candidates = set(firsts)
        elif len(head) == 2:
            candidates = {f + str(d) for f in firsts for d in range(10)}
        else:
            candidates = {f + head[1:-2] + f"{i:02d}" for f in firsts for i in range(100)}
        self.prefixes: list[str] = []
        for prefix in sorted(candidates):
            sample = (
                f"{prefix}{rng.randrange(10**SUFFIX_DIGITS):0{SUFFIX_DIGITS}d}" for _ in range(64)
            )
            if all(self._type(s) in wanted for s in sample):
                self.prefixes.append(prefix)
        if not self.prefixes:
            raise RuntimeError(f"no usable number prefix for {region}")
        modulus = 10**SUFFIX_DIGITS
        self.steps = [
            rng.choice([a for a in range(modulus // 3, modulus // 3 + 200) if a % 2 and a % 5])
            for _ in self.prefixes
        ]
        self.offsets = [rng.randrange(modulus) for _ in self.prefixes]
        self.used = [0] * len(self.prefixes)

    def _type(self, nsn: str) -> int:
        return phonenumbers.number_type(
            PhoneNumber(country_code=self.country_code, national_number=int(nsn))
        )

    def any_number(self, rng: random.Random) -> str:
        """Any number of these prefixes (repeats possible): for invalid rows."""
        prefix = rng.choice(self.prefixes)
        return f"{prefix}{rng.randrange(10**SUFFIX_DIGITS):0{SUFFIX_DIGITS}d}"

    def unique(self, rng: random.Random) -> str:
        """A number never handed out before by this object."""
        modulus = 10**SUFFIX_DIGITS
        while True:
            live = [i for i, used in enumerate(self.used) if used < modulus]
            if not live:
                raise RuntimeError(f"ran out of {self.region} numbers; lower --rows")
            i = rng.choice(live) if len(live) > 1 else live[0]
            suffix = (self.steps[i] * self.used[i] + self.offsets[i]) % modulus
            self.used[i] += 1
            return f"{self.prefixes[i]}{suffix:0{SUFFIX_DIGITS}d}"


def _weighted(rng: random.Random, choices: list[tuple[float, Any]]) -> Any:
    weights = [w for w, _ in choices]
    return rng.choices([c for _, c in choices], weights)[0]


class Generator:
    """Streams rows ``[first_name, last_name, phone, city]``; counts what it wrote."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.expected = Expected()
        self.mobiles = {r: _Prefixes(self.rng, r, PhoneNumberType.MOBILE) for r in REGIONS}
        self.fixed = {
            r: _Prefixes(self.rng, r, PhoneNumberType.FIXED_LINE) for r in ("FR", "DE", "GB", "BE")
        }
        self.region_names = list(REGIONS)
        self.region_weights = list(REGIONS.values())
        self.reservoir: list[tuple[str, str, int]] = []  # (region, nsn, format index)
        self.seen_valid = 0

    # -- numbers written the way people write them

    def _format(self, region: str, nsn: str, index: int) -> str:
        if region == "FR":
            return FR_FORMATS[index][1](nsn)
        number = PhoneNumber(
            country_code=self.mobiles[region].country_code, national_number=int(nsn)
        )
        return FOREIGN_FORMATS[index][1](number)

    def _format_index(self, region: str) -> int:
        formats = FR_FORMATS if region == "FR" else FOREIGN_FORMATS
        return self.rng.choices(range(len(formats)), [w for w, _ in formats])[0]

    def _valid(self) -> str:
        rng = self.rng
        region = rng.choices(self.region_names, self.region_weights)[0]
        source = self.mobiles[region]
        while True:
            nsn = source.unique(rng)
            self.expected.drawn += 1
            if source._type(nsn) in SMS_TYPES:
                break
            self.expected.rejected_draws += 1
        index = self._format_index(region)
        # reservoir sampling: a uniform sample of every earlier valid number
        self.seen_valid += 1
        if len(self.reservoir) < RESERVOIR:
            self.reservoir.append((region, nsn, index))
        else:
            slot = rng.randrange(self.seen_valid)
            if slot < RESERVOIR:
                self.reservoir[slot] = (region, nsn, index)
        self.expected.unique_valid += 1
        self.expected.by_region[region] = self.expected.by_region.get(region, 0) + 1
        return self._format(region, nsn, index)

    def _duplicate(self) -> str:
        region, nsn, index = self.rng.choice(self.reservoir)
        count = len(FR_FORMATS if region == "FR" else FOREIGN_FORMATS)
        other = (index + self.rng.randrange(1, count)) % count  # another spelling
        self.expected.duplicates += 1
        return self._format(region, nsn, other)

    def _invalid(self) -> str:
        rng = self.rng
        kind = _weighted(
            rng,
            [
                (0.30, "letters"),
                (0.20, "too_short"),
                (0.10, "too_long"),
                (0.32, "fixed_line"),
                (0.08, "empty"),
            ],
        )
        if kind == "letters":
            text = _pairs("0" + self.mobiles["FR"].any_number(rng), " ")
            choice = rng.random()
            if choice < 0.6:  # a typo: one digit became a letter
                at = rng.choice([i for i, c in enumerate(text) if c.isdigit()])
                text = text[:at] + rng.choice("OoIlSBxX") + text[at + 1 :]
            elif choice < 0.8:
                text = rng.choice(["N/A", "inconnu", "pas de numéro", "none", "?"])
            else:
                text = text + " ext. 12"
        elif kind == "too_short":
            digits = "0" + self.mobiles["FR"].any_number(rng)
            text = _pairs(digits[: rng.choice([4, 5, 6, 7])], " ")
            if rng.random() < 0.3:
                text = "+33 " + digits[1:6]
        elif kind == "too_long":
            extra = f"{rng.randrange(100):02d}"
            text = _pairs("0" + self.mobiles["FR"].any_number(rng) + extra, " ")
        elif kind == "fixed_line":
            region = _weighted(rng, [(0.7, "FR"), (0.1, "DE"), (0.1, "GB"), (0.1, "BE")])
            nsn = self.fixed[region].any_number(rng)
            if region == "FR":
                text = _pairs("0" + nsn, rng.choice([" ", ".", ""]))
            else:
                text = _international(
                    PhoneNumber(
                        country_code=self.fixed[region].country_code, national_number=int(nsn)
                    )
                )
        else:
            text = ""
        self.expected.invalid += 1
        self.expected.invalid_kinds[kind] = self.expected.invalid_kinds.get(kind, 0) + 1
        return text

    def rows(self, count: int) -> Iterator[list[str]]:
        rng = self.rng
        for _ in range(count):
            draw = rng.random()
            if draw < SHARE_INVALID:
                phone = self._invalid()
            elif draw < SHARE_INVALID + SHARE_DUPLICATE and self.reservoir:
                phone = self._duplicate()
            else:
                phone = self._valid()
            self.expected.rows += 1
            yield [rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), phone, rng.choice(CITIES)]


def write_csv(path: Path, rows: int, seed: int) -> Expected:
    """Stream ``rows`` contacts into ``path`` (UTF-8, ``;``-separated)."""
    start = time.perf_counter()
    generator = Generator(seed)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, delimiter=DELIMITER, lineterminator="\r\n")
        writer.writerow(HEADER)
        batch: list[list[str]] = []
        for row in generator.rows(rows):
            batch.append(row)
            if len(batch) >= 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    expected = generator.expected
    expected.seconds = time.perf_counter() - start
    expected.size_bytes = path.stat().st_size
    return expected


# ----------------------------------------------------------------------------- children


def _peak_rss_bytes() -> int:
    """This process's peak resident set size so far."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB else


def _child_baseline(csv_path: str) -> dict[str, Any]:
    rss_before = _peak_rss_bytes()
    parse, is_valid = phonenumbers.parse, phonenumbers.is_valid_number
    error = phonenumbers.NumberParseException
    rows = valid = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with open(csv_path, encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=DELIMITER)
        next(reader)
        for cells in reader:
            rows += 1
            try:
                if is_valid(parse(cells[PHONE_COLUMN], "FR")):
                    valid += 1
            except error:
                pass
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "rows": rows,
        "valid": valid,
        "seconds": seconds,
        "cpu": cpu,
        "rss_start": rss_before,
        "rss_peak": _peak_rss_bytes(),
    }


def _child_import(csv_path: str, db_url: str, profile: str | None) -> dict[str, Any]:
    from sqlalchemy import func, select

    from smscope.contacts.importer import import_contacts
    from smscope.db import Database
    from smscope.db.tables import Contact, ContactList, ListMember

    db = Database(db_url)
    db.ensure_schema()
    rss_before = _peak_rss_bytes()
    shown = [0]

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > shown[0]:
            shown[0] = tenth
            print(
                f"  import: {tenth * 10:3d} %  ({time.perf_counter() - start:6.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    def run() -> Any:
        return import_contacts(
            db, csv_path, LIST_NAME, default_region="FR", progress=progress, actor="bench"
        )

    import resource

    kids_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, cpu_start = time.perf_counter(), time.process_time()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run)
        profiler.dump_stats(profile)
    else:
        result = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # A large import parses in a second process: count its CPU time, and add its peak
    # RSS to ours (both peaks at once is the worst case the machine must hold).
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (kids.ru_utime + kids.ru_stime) - (kids_before.ru_utime + kids_before.ru_stime)
    own_peak, helper_peak = _peak_rss_bytes(), kids.ru_maxrss * 1024
    rss_peak = own_peak + helper_peak
    print(f"  peak RSS: import process {_mb(own_peak)}, its parsing process {_mb(helper_peak)}",
          file=sys.stderr)
    with db.session() as session:
        list_id = session.scalar(select(ContactList.id).where(ContactList.name == LIST_NAME))
        members = session.scalar(
            select(func.count()).select_from(ListMember).where(ListMember.list_id == list_id)
        )
        contacts = session.scalar(select(func.count()).select_from(Contact))
    db.dispose()
    return {
        "rows": result.rows,
        "imported": result.imported,
        "updated": result.updated,
        "duplicates": result.duplicates,
        "invalid": result.invalid,
        "reasons": result.reasons,
        "seconds": seconds,
        "cpu": cpu,
        "rss_start": rss_before,
        "rss_peak": rss_peak,
        "members": members,
        "contacts": contacts,
    }


def run_child(*args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns what it reported."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the {args[0]} measurement failed (exit status {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report


def _mb(value: int) -> str:
    return f"{value / 1e6:,.0f} MB"


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


def _print_tables(
    args: argparse.Namespace,
    expected: Expected,
    base: dict[str, Any],
    imp: dict[str, Any],
    db_url: str,
) -> None:
    ratio = _rate(imp["rows"], imp["seconds"]) / _rate(base["rows"], base["seconds"])
    cpu_ratio = _rate(imp["rows"], imp["cpu"]) / _rate(base["rows"], base["cpu"])
    accounted = imp["imported"] + imp["updated"] + imp["duplicates"] + imp["invalid"]
    rows = expected.rows
    new_or_updated = imp["imported"] + imp["updated"]
    checks = [
        (
            "imported + updated + duplicates + invalid = rows",
            accounted == rows and imp["rows"] == rows,
            f"{accounted:,} / {rows:,}",
        ),
        (
            "imported + updated = unique valid numbers written",
            new_or_updated == expected.unique_valid,
            f"{new_or_updated:,} / {expected.unique_valid:,}",
        ),
        (
            "duplicates = duplicates written (~1 %)",
            imp["duplicates"] == expected.duplicates,
            f"{imp['duplicates']:,} / {expected.duplicates:,} "
            f"({imp['duplicates'] / max(rows, 1):.2%})",
        ),
        (
            "invalid = invalid rows written (~3 %)",
            imp["invalid"] == expected.invalid,
            f"{imp['invalid']:,} / {expected.invalid:,} ({imp['invalid'] / max(rows, 1):.2%})",
        ),
        (
            "list members = imported + updated",
            imp["members"] == new_or_updated,
            f"{imp['members']:,}",
        ),
    ]
    targets = [
        (
            f"import/baseline rows/s >= {TARGET_RATIO}",
            ratio >= TARGET_RATIO,
            f"{ratio:.2f} (CPU time: {cpu_ratio:.2f})",
        ),
        (
            f"import peak RSS < {TARGET_RSS_MB} MB",
            imp["rss_peak"] < TARGET_RSS_MB * 1e6,
            _mb(imp["rss_peak"]),
        ),
    ]
    name = "import_contacts, SQLite" if db_url.startswith("sqlite") else "import_contacts"
    header = ("measure", "rows", "seconds", "rows/s", "CPU s", "peak RSS", "RSS at start")
    lines = [
        [
            label,
            f"{m['rows']:,}",
            f"{m['seconds']:.1f}",
            f"{_rate(m['rows'], m['seconds']):,.0f}",
            f"{m['cpu']:.1f}",
            _mb(m["rss_peak"]),
            _mb(m["rss_start"]),
        ]
        for label, m in (("baseline: parse + is_valid", base), (name, imp))
    ]
    lines.append(["ratio import / baseline", "", "", f"{ratio:.2f}", f"{cpu_ratio:.2f}", "", ""])

    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text without Rich
        print(f"\nContact import benchmark: {rows:,} rows, seed {args.seed}")
        for line in [list(header), *lines]:
            print(f"{line[0]:28}" + "".join(f"{cell:>13}" for cell in line[1:]))
        for title, group in (("Targets", targets), ("Totals", checks)):
            print(f"\n{title}:")
            for label, ok, value in group:
                print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")
        return

    console = Console()
    if not console.is_terminal:
        console.width = 100
    table = Table(title=f"Contact import benchmark: {rows:,} rows, seed {args.seed}")
    for column in header:
        table.add_column(column, justify="left" if column == "measure" else "right")
    for line in lines:
        table.add_row(*line)
    console.print(table)
    for title, group in (("Targets", targets), ("Totals", checks)):
        result = Table(title=title)
        result.add_column("check")
        result.add_column("value", justify="right")
        result.add_column("result")
        for label, ok, value in group:
            result.add_row(label, value, "[green]PASS[/]" if ok else "[bold red]FAIL[/]")
        console.print(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows (1,000,000)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed (2024)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the CSV file and the database, and print where they are",
    )
    parser.add_argument("--dir", help="folder for the temporary files (system default)")
    parser.add_argument("--db-url", help="database to import into (a fresh SQLite file)")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the import under cProfile and write its stats to FILE "
        "(slows the import down; figures are then not comparable)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "baseline":
            report = _child_baseline(rest[0])
        else:
            report = _child_import(rest[0], rest[1], rest[2] or None)
        print(json.dumps(report))
        return 0

    if args.rows < 1:
        parser.error("--rows must be at least 1")
    folder = Path(tempfile.mkdtemp(prefix="smscope-bench-", dir=args.dir))
    try:
        csv_path = folder / "contacts.csv"
        db_url = args.db_url or f"sqlite:///{folder / 'bench.db'}"
        print(f"writing {args.rows:,} rows (seed {args.seed}) …", file=sys.stderr, flush=True)
        expected = write_csv(csv_path, args.rows, args.seed)
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(expected.invalid_kinds.items()))
        regions = ", ".join(f"{k} {v:,}" for k, v in expected.by_region.items())
        print(
            f"  {expected.size_bytes / 1e6:,.1f} MB in {expected.seconds:.1f} s: "
            f"{expected.unique_valid:,} unique valid ({regions}), "
            f"{expected.duplicates:,} duplicates, {expected.invalid:,} invalid ({kinds}); "
            f"{expected.drawn - expected.rejected_draws:,}/{expected.drawn:,} "
            f"candidate mobile numbers valid",
            file=sys.stderr,
            flush=True,
        )

        print("baseline: phonenumbers.parse + is_valid_number …", file=sys.stderr, flush=True)
        base = run_child("baseline", str(csv_path))
        print(
            f"  {base['rows']:,} rows in {base['seconds']:.1f} s "
            f"({base['valid']:,} valid for phonenumbers)",
            file=sys.stderr,
            flush=True,
        )

        print(f"import into {db_url.split('@')[-1]} …", file=sys.stderr, flush=True)
        imp = run_child("import", str(csv_path), db_url, args.profile or "")
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(imp["reasons"].items()))
        print(
            f"  rows {imp['rows']:,}: imported {imp['imported']:,}, updated "
            f"{imp['updated']:,}, duplicates {imp['duplicates']:,}, invalid "
            f"{imp['invalid']:,} ({reasons})",
            file=sys.stderr,
            flush=True,
        )
        if args.profile:
            print(f"  profile written to {args.profile}", file=sys.stderr)

        _print_tables(args, expected, base, imp, db_url)
        if args.keep:
            print(f"\nkept: {csv_path} and {db_url}")
            summary = folder / "expected.json"
            summary.write_text(json.dumps(asdict(expected), indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
