"""Benchmark of the reports on a large database: each figure next to its baseline on a
small one.

Run from the repository root::

    .venv/bin/python bench/reports.py                         # 10,000,000 messages
    .venv/bin/python bench/reports.py --messages 1000000      # quicker
    .venv/bin/python bench/reports.py --only search:campaign  # some measurements only

Two SQLite databases are made by the same generator, one with ``--messages`` messages
and one with ``--baseline`` (10,000): the same 180 campaigns over 60 days (sizes scaled
to the total), the same senders, connectors and share of each status, test sends, and
one-off messages (codes) spread over the whole period; ids grow with creation time, as
they do when smscope writes them. Rows are written with the DB-API's ``executemany`` in
large transactions, with the indexes of ``messages`` dropped during the load and made
again after it (then ``db upgrade`` adds any newer migration's). No ``ANALYZE``: smscope
never runs it, so the planner works without statistics, as in production. A built
database is kept in the temporary folder, named after its size and the generator's
version, and reused by the next run (``--rebuild`` makes it again).

**Measurements** are a list of named entries (:data:`MEASUREMENTS`): each gets a
database and what the generator put in it, and returns the call to time, or None when it
does not apply there. Each is timed ``--repeat`` times (median, after one untimed
warm-up call) on both databases — or on the large one only, against another entry's
figure on the small one (``baseline_of``) — and printed with the rows of its result
and the ratio large / small; target: at most :data:`TARGET_RATIO`. Other reports (the
campaign report, statistics) add their own entries to the list.

*Search* (``smscope messages search``): for each set of filters, page 1 and page 1,000
(limit 100) on the large database, both compared with page 1 on the small one (which
has no page 1,000). Page 1,000's cursor is reached honestly: by following 999
next_cursors from page 1.

Progress goes to stderr, the table to stdout. The exit status is 0 whatever the
figures (a measurement, not a test); non-zero only if a part could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from smscope.campaigns.counters import LATENCY_BOUNDS
from smscope.db import Database
from smscope.reports.campaign import campaign_report
from smscope.reports.search import MessageFilters, search_messages
from smscope.reports.stats import ensure_days
from smscope.reports.stats import statistics as period_statistics

#: bump when the generator changes: cached databases of another version are rebuilt
GENERATOR_VERSION = 1
TARGET_RATIO = 3.0
ZONE = ZoneInfo("Europe/Paris")
#: the last moment of the generated period, and its length
END = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
DAYS = 60
CAMPAIGNS = 180
#: tests sent before each campaign (a fixed number: tests do not grow with audiences)
TESTS_PER_CAMPAIGN = 2
#: share of the messages that are one-off messages (login codes), not campaigns
SINGLE_SHARE = 0.10
PAGE_LIMIT = 100
DEEP_PAGE = 1000
BATCH = 100_000

# senders of campaigns (weights); LEGACY only sends in the first five days
SENDERS = {"SHOP": 40, "PROMO": 25, "NEWS": 20, "EVENTS": 15}
LEGACY_SENDER, SINGLE_SENDER = "LEGACY", "ALERTS"
# connectors; "backup" only carries the campaigns of three days (an outage)
CONNECTORS = ("operator-a", "operator-b", "backup")
BACKUP_DAYS = (20, 23)
FIRST_NAMES = ("Anne", "Bruno", "Chloé", "David", "Émilie", "François", "Gaëlle", "Hugo",
               "Inès", "Jules", "Karim", "Léa", "Marc", "Nadia", "Olivier", "Pauline",
               "Quentin", "Rose", "Sami", "Thomas", "Ursule", "Victor", "Wendy", "Yanis",
               "Zoé")
OFFERS = ("-20 % sur tout le magasin ce week-end", "livraison offerte jusqu'à dimanche",
          "vos points fidélité expirent bientôt", "nouvelle collection en boutique",
          "invitation à notre vente privée", "votre avis nous intéresse")

#: final statuses of a campaign message and their weights (per 10,000)
FINAL_STATUSES = {
    "received": 8200, "delivered_to_operator": 100, "expired": 200,
    "temporary_error_absence": 200, "temporary_error_phone": 100,
    "temporary_error_operator": 30, "temporary_error_portability": 20,
    "permanent_error_absence": 200, "permanent_error_phone": 100,
    "permanent_error_portability": 20, "routing_error": 30, "rejected": 100,
    "reception_error": 30, "other_error": 20, "internal_error": 5, "undefined": 15,
    "blacklisted": 100, "invalid_number": 100, "duplicate": 50, "insufficient_credit": 30,
}
#: statuses of messages still under way (the last two days)
PENDING_STATUSES = {"queued": 2, "scheduled": 1, "sent": 3, "delivered_to_operator": 3,
                    "retry_scheduled": 1}
NOT_SENT = {"blacklisted", "invalid_number", "duplicate", "insufficient_credit", "queued",
            "scheduled"}
CATEGORY = {
    "queued": "pending", "scheduled": "pending", "sent": "pending",
    "delivered_to_operator": "pending", "retry_scheduled": "pending",
    "received": "delivered", "expired": "soft_bounce",
    "temporary_error_absence": "soft_bounce", "temporary_error_phone": "soft_bounce",
    "temporary_error_operator": "soft_bounce", "temporary_error_portability": "soft_bounce",
    "permanent_error_absence": "hard_bounce", "permanent_error_phone": "hard_bounce",
    "permanent_error_portability": "hard_bounce", "routing_error": "hard_bounce",
    "rejected": "error", "reception_error": "error", "other_error": "error",
    "internal_error": "error", "undefined": "error", "blacklisted": "unsubscribed",
    "invalid_number": "not_sent", "duplicate": "not_sent", "insufficient_credit": "not_sent",
}

MESSAGE_COLUMNS = ("id", "campaign_id", "kind", "number", "region", "sender", "text",
                   "text_hash", "encoding", "segments", "credits", "connector_id", "status",
                   "category", "status_is_guess", "status_updated_at", "created_at",
                   "attempts", "first_submitted_at", "sent_at", "in_doubt")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data


@dataclass
class Plan:
    """What the generator puts in a database; saved beside it as JSON."""

    messages: int
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # a few numbers that got messages


def _stamp(moment: datetime) -> str:
    # how SQLAlchemy stores a UTC moment in SQLite (see smscope.db.types.UTCDateTime)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def plan_campaigns(total: int, rng: random.Random) -> list[dict[str, Any]]:
    """The 180 campaigns (the same for every size: only their audiences scale)."""
    start = END - timedelta(days=DAYS)
    weights = [rng.lognormvariate(0, 1) for _ in range(CAMPAIGNS)]
    audience = total * (1 - SINGLE_SHARE) - CAMPAIGNS * TESTS_PER_CAMPAIGN
    scale = max(audience, CAMPAIGNS) / sum(weights)
    senders, sender_weights = list(SENDERS), list(SENDERS.values())
    moments = sorted(start + timedelta(seconds=rng.uniform(0, DAYS * 86400 - 7200))
                     for _ in range(CAMPAIGNS))
    campaigns = []
    for i, (moment, weight) in enumerate(zip(moments, weights, strict=True), start=1):
        day = (moment - start).days
        sender = (LEGACY_SENDER if day < 5
                  else rng.choices(senders, sender_weights)[0])
        connector = (3 if BACKUP_DAYS[0] <= day < BACKUP_DAYS[1]
                     else 1 if rng.random() < 0.6 else 2)
        offer = OFFERS[i % len(OFFERS)]
        campaigns.append({
            "id": i, "name": f"campaign {i}", "sender": sender, "connector_id": connector,
            "created_at": moment.isoformat(), "size": max(1, round(weight * scale)),
            "template": f"Bonjour {{name}}, {offer} ! {sender} campagne {i}. STOP au 36180",
        })
    return campaigns


class Generator:
    """Message rows, in creation order (ids grow with time)."""

    def __init__(self, total: int, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.plan = Plan(total, plan_campaigns(total, self.rng))
        self.pool = [f"+336{n:08d}" for n in
                     self.rng.sample(range(10**8), max(total // 4, 100))]
        self.hashes: dict[str, str] = {}
        self.last_number = ""
        self.final = _picker(FINAL_STATUSES, self.rng)
        self.pending = _picker(PENDING_STATUSES, self.rng)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        total = self.plan.messages
        events: list[tuple[datetime, int]] = [
            (datetime.fromisoformat(c["created_at"]), c["id"]) for c in self.plan.campaigns]
        start = END - timedelta(days=DAYS)
        singles = int(total * SINGLE_SHARE)
        events += [(start + timedelta(seconds=self.rng.uniform(0, DAYS * 86400)), 0)
                   for _ in range(singles)]
        events.sort()
        campaigns = {c["id"]: c for c in self.plan.campaigns}
        next_id = 1
        for moment, campaign_id in events:
            if campaign_id == 0:
                yield self._single(next_id, moment)
                next_id += 1
                continue
            campaign = campaigns[campaign_id]
            for t in range(TESTS_PER_CAMPAIGN):
                yield self._message(next_id, campaign, moment - timedelta(minutes=30 - t),
                                    kind="test")
                next_id += 1
            for _ in range(campaign["size"]):
                yield self._message(next_id, campaign, moment)
                next_id += 1
            if len(self.plan.numbers) < 20:
                self.plan.numbers.append(self.last_number)

    def _status(self, moment: datetime) -> str:
        recent = END - moment < timedelta(days=2)
        return self.pending() if recent and self.rng.random() < 0.15 else self.final()

    def _message(self, message_id: int, campaign: dict[str, Any], moment: datetime,
                 kind: str = "campaign") -> tuple[Any, ...]:
        rng = self.rng
        name = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
        text = campaign["template"].replace("{name}", name)
        number = self.pool[int(rng.random() * len(self.pool))]
        return self._row(message_id, campaign["id"], kind, number, campaign["sender"], text,
                         campaign["connector_id"], self._status(moment), moment)

    def _single(self, message_id: int, moment: datetime) -> tuple[Any, ...]:
        rng = self.rng
        text = (f"Votre code de connexion est {int(rng.random() * 1e6):06d}. "
                "Il expire dans 10 minutes.")
        number = self.pool[int(rng.random() * len(self.pool))]
        return self._row(message_id, None, "single", number, SINGLE_SENDER, text, 1,
                         self._status(moment), moment)

    def _row(self, message_id: int, campaign_id: int | None, kind: str, number: str,
             sender: str, text: str, connector_id: int, status: str,
             moment: datetime) -> tuple[Any, ...]:
        self.last_number = number
        digest = self.hashes.get(text)
        if digest is None:
            digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
            if len(self.hashes) < 100_000:
                self.hashes[text] = digest
        created = _stamp(moment)
        sent = status not in NOT_SENT
        segments = 1 if len(text) <= 160 else 2
        sent_at = (_stamp(moment + timedelta(seconds=1 + self.rng.random() * 600))
                   if sent else None)
        updated = (_stamp(moment + timedelta(seconds=60 + self.rng.random() * 7200))
                   if sent and status != "sent" else sent_at or created)
        return (message_id, campaign_id, kind, number, "FR", sender, text, digest, "GSM-7",
                segments, segments * 10_000 if sent else 0, connector_id, status,
                CATEGORY[status], 0, updated, created, 1 if sent else 0, sent_at, sent_at, 0)


def _picker(weights: dict[str, int], rng: random.Random) -> Callable[[], str]:
    names = list(weights)
    cumulative = list(accumulate(weights.values()))
    total = cumulative[-1]
    return lambda: names[bisect(cumulative, rng.random() * total)]


def build(path: Path, total: int) -> Plan:
    """A new SQLite database at ``path`` holding ``total`` generated messages."""
    for leftover in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        leftover.unlink(missing_ok=True)
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    generator = Generator(total)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = 'messages' AND sql IS NOT NULL").fetchall()
    started = time.perf_counter()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.executemany("INSERT INTO connectors (id, name, type, settings, mapping, source, "
                     "enabled, created_at, updated_at) VALUES (?, ?, 'smpp', '{}', '{}', "
                     "'db', 1, ?, ?)",
                     [(i, name, _stamp(END), _stamp(END))
                      for i, name in enumerate(CONNECTORS, start=1)])
    conn.executemany(
        "INSERT INTO campaigns (id, name, sender, text, type, state, connector_id, options, "
        "encoding, segments, recipients, created_at, updated_at, started_at, completed_at) "
        "VALUES (?, ?, ?, ?, 'marketing', 'completed', ?, '{}', 'GSM-7', 1, ?, ?, ?, ?, ?)",
        [(c["id"], c["name"], c["sender"], c["template"], c["connector_id"], c["size"],
          *([_stamp(datetime.fromisoformat(c["created_at"]))] * 4))
         for c in generator.plan.campaigns])
    insert = (f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})")
    batch: list[tuple[Any, ...]] = []
    written = 0
    for row in generator.rows():
        batch.append(row)
        if len(batch) == BATCH:
            conn.executemany(insert, batch)
            written += len(batch)
            batch.clear()
            if written % 1_000_000 == 0:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                say(f"    {written:,} messages ({time.perf_counter() - started:.0f} s)")
    conn.executemany(insert, batch)
    written += len(batch)
    conn.execute("COMMIT")
    say(f"    {written:,} messages written; indexing")
    for name, sql in indexes:
        begun = time.perf_counter()
        conn.execute(sql)
        say(f"    {name}: {time.perf_counter() - begun:.1f} s")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    generator.plan.messages = written
    say(f"    built in {time.perf_counter() - started:.0f} s")
    return generator.plan


def open_dataset(folder: Path, total: int, rebuild: bool) -> tuple[Database, Plan]:
    """The cached database of ``total`` messages (built when missing), upgraded to the
    current schema, and its plan."""
    path = folder / f"smscope-bench-reports-{total}-v{GENERATOR_VERSION}.db"
    meta = path.with_suffix(".json")
    if rebuild or not path.exists() or not meta.exists():
        say(f"building {path.name} ({total:,} messages)")
        meta.unlink(missing_ok=True)
        plan = build(path, total)
        meta.write_text(json.dumps(plan.__dict__))
    else:
        say(f"reusing {path.name}")
        plan = Plan(**json.loads(meta.read_text()))
    database = Database(f"sqlite:///{path}")
    before, after = database.upgrade()
    if before != after:
        say(f"    schema upgraded from {before} to {after}")
    fill_counters(path)
    return database, plan


#: the quarter hour of a stored moment, spelt as smscope stores it (UTCDateTime)
_BUCKET_SQL = ("substr(created_at, 1, 14) || printf('%02d', "
               "CAST(substr(created_at, 15, 2) AS INTEGER) / 15 * 15) || ':00.000000'")


def fill_counters(path: Path) -> None:
    """The counters smscope keeps with every status change (``counters``: per campaign;
    ``stat_counters``: per quarter hour, country, sender and connector), made from the
    generated messages in a few statements, once: the generator writes messages only."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if conn.execute("SELECT 1 FROM stat_counters LIMIT 1").fetchone():
            return
        say(f"    counting {path.name}'s messages into the counters")
        begun = time.perf_counter()
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.execute(
            "CREATE TEMP TABLE tally AS SELECT " + _BUCKET_SQL + " AS bucket, "
            "coalesce(campaign_id, 0) AS campaign_id, coalesce(region, '') AS region, "
            "sender, coalesce(connector_id, 0) AS connector_id, status, "
            "count(*) AS n, count(sent_at) AS accepted, sum(credits) AS cost "
            "FROM messages WHERE kind != 'test' "
            "GROUP BY 1, 2, 3, 4, 5, 6")
        keys = "bucket, campaign_id, region, sender, connector_id"
        for name, value in (("status", "n"), ("'accepted'", "accepted"),
                            ("'cost_units'", "cost")):
            conn.execute(
                f"INSERT INTO stat_counters ({keys}, name, value) "
                f"SELECT {keys}, {name}, sum({value}) FROM tally "
                f"GROUP BY {keys}, {name} HAVING sum({value}) != 0")
        conn.execute(
            "INSERT INTO counters (campaign_id, list_id, name, shard, value) "
            "SELECT campaign_id, 0, name, 0, sum(value) FROM stat_counters "
            "WHERE campaign_id != 0 GROUP BY campaign_id, name")
        seconds = ("(julianday(status_updated_at) - julianday(first_submitted_at)) * 86400")
        bound = " ".join(f"WHEN {seconds} <= {b} THEN 'latency:{b}'" for b in LATENCY_BOUNDS)
        conn.execute(
            "INSERT INTO counters (campaign_id, list_id, name, shard, value) "
            f"SELECT campaign_id, 0, CASE {bound} ELSE 'latency:more' END, 0, count(*) "
            "FROM messages WHERE status = 'received' AND kind != 'test' "
            "AND campaign_id IS NOT NULL AND first_submitted_at IS NOT NULL GROUP BY 1, 3")
        conn.execute("COMMIT")
        say(f"    counted in {time.perf_counter() - begun:.0f} s")
    finally:
        conn.close()


# ----------------------------------------------------------------------------- measurements


@dataclass
class Dataset:
    database: Database
    plan: Plan

    def campaign(self, pick: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> int:
        return int(pick(self.plan.campaigns)["id"])

    def day(self, days_before_end: int) -> date:
        return (END - timedelta(days=days_before_end)).astimezone(ZONE).date()


#: a measurement: the call to time on one database, or None when it does not apply
Prepare = Callable[[Dataset], Callable[[], Any] | None]


@dataclass
class Measurement:
    name: str
    prepare: Prepare
    #: how many rows the call's result holds (shown beside its time), if that means anything
    size: Callable[[Any], int] | None = None
    #: measured on the large database only, against the small one's ``baseline_of``
    baseline_of: str | None = None


@dataclass
class Timing:
    seconds: float
    rows: int | None


@dataclass
class Figure:
    name: str
    small: Timing | None
    large: Timing | None


def _search(filters: Callable[[Dataset], MessageFilters], page: int) -> Prepare:
    """Page ``page`` of a search (its cursor reached by following the cursors)."""
    def prepare(data: Dataset) -> Callable[[], Any] | None:
        wanted = filters(data)
        cursor = None
        with data.database.session() as session:
            for _ in range(page - 1):
                cursor = search_messages(session, wanted, cursor=cursor, limit=PAGE_LIMIT,
                                         zone=ZONE).next_cursor
                if cursor is None:
                    return None  # fewer pages than that

        def run() -> Any:
            with data.database.session() as session:
                return search_messages(session, wanted, cursor=cursor, limit=PAGE_LIMIT,
                                       zone=ZONE)

        return run

    return prepare


def _oldest_big(campaigns: list[dict[str, Any]]) -> dict[str, Any]:
    first_third = campaigns[:CAMPAIGNS // 3]
    return max(first_third, key=lambda c: c["size"])


SEARCHES: dict[str, Callable[[Dataset], MessageFilters]] = {
    "no filter": lambda d: MessageFilters(),
    "last 7 days": lambda d: MessageFilters(date_from=d.day(6), date_to=d.day(0)),
    "one day, 6 weeks ago": lambda d: MessageFilters(date_from=d.day(42), date_to=d.day(42)),
    "campaign (old, large)": lambda d: MessageFilters(campaign_id=d.campaign(_oldest_big)),
    "campaign (old) + text": lambda d: MessageFilters(
        campaign_id=d.campaign(_oldest_big), text="bonjour LÉA"),
    "sender (common)": lambda d: MessageFilters(sender="SHOP"),
    "sender (rare, first 5 days)": lambda d: MessageFilters(sender=LEGACY_SENDER),
    "connector (rare, 3 days)": lambda d: MessageFilters(connector="backup"),
    "number": lambda d: MessageFilters(number=d.plan.numbers[3]),
    "status received": lambda d: MessageFilters(status="received"),
    "status rejected (1 %)": lambda d: MessageFilters(status="rejected"),
    "status internal_error (0.05 %)": lambda d: MessageFilters(status="internal_error"),
    "category hard_bounce": lambda d: MessageFilters(category="hard_bounce"),
    "test sends (--status test)": lambda d: MessageFilters(status="test"),
    "text (one-off codes, 10 %)": lambda d: MessageFilters(text="code de connexion"),
    "text (one old campaign)": lambda d: MessageFilters(
        text=f"campagne {d.campaign(_oldest_big)}."),
    "7 days + sender + category": lambda d: MessageFilters(
        date_from=d.day(6), date_to=d.day(0), sender="SHOP", category="soft_bounce"),
}


def _page_size(page: Any) -> int:
    return len(page.items)


MEASUREMENTS: list[Measurement] = []
for _label, _filters in SEARCHES.items():
    _first = f"search: {_label}, page 1"
    MEASUREMENTS.append(Measurement(_first, _search(_filters, 1), size=_page_size))
    MEASUREMENTS.append(Measurement(f"search: {_label}, page {DEEP_PAGE:,}",
                                    _search(_filters, DEEP_PAGE), size=_page_size,
                                    baseline_of=_first))


def _report(pick: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> Prepare:
    """The campaign report (figures, lists, delivery times, timeline, test sends)."""
    def prepare(data: Dataset) -> Callable[[], Any]:
        campaign_id = data.campaign(pick)

        def run() -> Any:
            with data.database.session() as session:
                return campaign_report(session, campaign_id)

        return run

    return prepare


def _statistics(days: int, by: str) -> Prepare:
    """``smscope stats`` over the last ``days`` days."""
    def prepare(data: Dataset) -> Callable[[], Any]:
        first, last = data.day(days - 1), data.day(0)
        begun = time.perf_counter()
        if ensure_days(data.database, ZONE):  # as `smscope stats` does, once
            say(f"    days of {ZONE.key} made from the quarter hours in "
                f"{time.perf_counter() - begun:.1f} s")

        def run() -> Any:
            with data.database.session() as session:
                return period_statistics(session, date_from=first, date_to=last, by=by,
                                         zone=ZONE)

        return run

    return prepare


def _recipients(document: Any) -> int:
    return int(document["recipients"] if "recipients" in document
               else document["totals"]["recipients"])


MEASUREMENTS += [
    Measurement("campaign report: the largest old campaign", _report(_oldest_big)),
    Measurement("campaign report: the newest campaign", _report(lambda c: c[-1])),
    Measurement("statistics: 30 days by day", _statistics(30, "day"), size=_recipients),
    Measurement("statistics: 60 days by week", _statistics(60, "week"), size=_recipients),
]


def time_call(m: Measurement, data: Dataset, repeat: int) -> Timing | None:
    """Median seconds of ``repeat`` calls of ``m`` on ``data``, after one untimed
    warm-up; None when it does not apply there."""
    call = m.prepare(data)
    if call is None:
        return None
    result = call()
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - begun)
    return Timing(statistics.median(times), m.size(result) if m.size else None)


def measure(chosen: list[Measurement], small: Dataset, large: Dataset,
            repeat: int) -> list[Figure]:
    by_name = {m.name: m for m in MEASUREMENTS}
    baselines: dict[str, Timing | None] = {}
    figures = []
    for m in chosen:
        say(f"  {m.name}")
        base_name = m.baseline_of or m.name
        if base_name not in baselines:
            baselines[base_name] = time_call(by_name[base_name], small, repeat)
        figures.append(Figure(m.name, baselines[base_name], time_call(m, large, repeat)))
    return figures


def print_table(figures: list[Figure], small: int, large: int) -> None:
    print(f"| measurement | {small:,} messages | {large:,} messages | ratio | "
          f"≤ {TARGET_RATIO:g} |")
    print("|---|---:|---:|---:|---|")
    for f in figures:
        ratio = (f.large.seconds / f.small.seconds
                 if f.small is not None and f.large is not None else None)
        verdict = ("" if ratio is None else "ok" if ratio <= TARGET_RATIO
                   else "ABOVE TARGET")
        shown = "" if ratio is None else f"{ratio:.2f}"
        print(f"| {f.name} | {_shown(f.small)} | {_shown(f.large)} | {shown} | {verdict} |")


def _shown(timing: Timing | None) -> str:
    if timing is None:
        return "n/a"
    rows = "" if timing.rows is None else f" ({timing.rows} rows)"
    return f"{timing.seconds * 1000:.2f} ms{rows}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000,
                        help="messages in the large database (default 10,000,000)")
    parser.add_argument("--baseline", type=int, default=10_000,
                        help="messages in the small database (default 10,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per figure")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measurements whose name contains TEXT (repeatable)")
    parser.add_argument("--dir", help="folder of the cached databases (system temp folder)")
    parser.add_argument("--rebuild", action="store_true",
                        help="make the databases again even if cached")
    args = parser.parse_args(argv)
    folder = Path(args.dir or tempfile.gettempdir())
    chosen = [m for m in MEASUREMENTS
              if not args.only or any(text in m.name for text in args.only)]
    if not chosen:
        parser.error("--only matches no measurement")
    small_db, small_plan = open_dataset(folder, args.baseline, args.rebuild)
    large_db, large_plan = open_dataset(folder, args.messages, args.rebuild)
    try:
        figures = measure(chosen, Dataset(small_db, small_plan),
                          Dataset(large_db, large_plan), args.repeat)
    finally:
        small_db.dispose()
        large_db.dispose()
    print_table(figures, small_plan.messages, large_plan.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
