"""Benchmark of the campaign engine: fan-out, receipts end to end, campaign report.

Run from the repository root::

    .venv/bin/python bench/campaigns.py                        # defaults, ~5 minutes
    .venv/bin/python bench/campaigns.py --recipients 100000 --receipts 20000   # quicker
    .venv/bin/python bench/campaigns.py --postgres postgresql://u:p@host/empty_db

Every figure is printed next to a baseline measured in the same run, on the same
machine, a few seconds apart: these machines are noisy, so the ratios are the figures
to compare from one run to the next.

1. **Fan-out** (target: 1,000,000 recipients in at most 60 s, SQLite). ``--recipients``
   contacts in one list are written with bulk Core inserts (not timed); a transactional
   campaign with a personalised text (``Bonjour {first_name}, ...``) and enough credits
   is then sent: :func:`smscope.campaigns.service.send`, which runs
   :func:`~smscope.campaigns.fanout.fan_out` in one transaction, is timed up to its
   commit. **Baseline**: the same number of rows written with a bare DB-API
   ``executemany`` (chunks of 5,000 tuples built on the fly, no other work) into a
   throwaway table with the columns, indexes and foreign keys of ``messages``, in the
   same database file, in one transaction, timed the same way.
2. **Receipts end to end, as a flood** (target: at least 20,000 receipts/s, SQLite):
   receipts ingested end to end (simulator → client → stored → acknowledged) per second,
   apart from submitting. A campaign of ``--receipts`` messages (fanned out beforehand,
   not timed) is sent by the real :class:`smscope.campaigns.worker.Worker` through an
   SMPP connector to an ``smscope simulator --profile instant --hold-receipts``
   subprocess: every receipt is planned (DELIVRD, due at once) but held. Once no message
   of the campaign is ``queued`` any more (every submit answered and recorded; polled on
   the worker's own database thread), SIGUSR2 makes the simulator release them all, as
   fast as its delivery window allows. Every receipt goes through
   :meth:`smscope.receipts.ingest.Ingest.receipts` (stored, applied to its message,
   committed) before it is acknowledged. Measured: receipts stored per second from the
   commit of the first batch to the commit of the last (and, for information, from the
   release to the last); at the end every message must be ``received`` and the receipts
   table must hold every receipt of the campaign's connector. **Baseline**: an
   :class:`~smscope.smpp.client.SMPPClient` with the same window against another held
   simulator, submitting the same texts to the same numbers, then releasing the
   receipts, with an ``on_receipts`` that does nothing but return; receipts/s from the
   first arrival to the last. The ratio is what storing and applying receipts costs on
   top of the SMPP exchange.

   **2b. Whole campaign, submits and receipts together** (for information, no target):
   the same on another campaign (other contacts, its own connector) with a simulator
   that does not hold receipts, so each one comes right after its submit_sm_resp and
   the worker's claim/submit/record work and its receipt work share one database
   thread; baseline: the same client submitting while its receipts come back. Measured
   from the first receipt batch to the last (and from the worker's start).

   With ``--postgres URL`` (an empty database) both are run again on PostgreSQL, each
   with its own baseline run just before it.
3. **Campaign report** (target: 1,000,000 recipients at most 2x the time of 1,000):
   :func:`smscope.reports.campaign.campaign_report` in a fresh session, best of 5, for
   a campaign of 1,000 messages and for the large campaign of (1), alternately.

4. **Receipts with a webhook** (``--only 4``; target: the flood costs little more with
   one endpoint than with none): figure 2's flood by the real worker on one database,
   each campaign with its own contacts, connector and held simulator, alternately
   with no webhook endpoint and with one account endpoint (an HTTP server answering
   204 in another process, added before the campaign is submitted, so its submit
   events are being posted when the flood starts; removed after, its backlog with it),
   ``--webhook-rounds`` times, starting and ending without. The ratio is the median
   receipts/s with an endpoint over the median without (these machines are noisy).
   For information: how many of the last endpoint run's deliveries were posted by
   the end of its flood, and how fast the rest were posted after it.

Progress goes to stderr, the tables to stdout. The exit status is 0 whatever the
figures (a measurement, not a test); non-zero only if a part could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)

from driver import drive
from smscope.app import Smscope
from smscope.campaigns import service
from smscope.campaigns.worker import Worker
from smscope.config import Config
from smscope.connectors.registry import add_connector
from smscope.contacts import book
from smscope.db import Database
from smscope.db.tables import (
    Campaign,
    CampaignList,
    Connector,
    Contact,
    ListMember,
    Message,
    WebhookDelivery,
)
from smscope.db.tables import Receipt as ReceiptRow
from smscope.pricing import CreditBank, PriceTable
from smscope.receipts.ingest import IngestResult
from smscope.reports.campaign import campaign_report
from smscope.webhooks.endpoints import add_endpoint, remove_endpoint
from smscope.webhooks.runner import WebhookRunner

ROOT = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------------------- targets

TARGET_FANOUT_RECIPIENTS = 1_000_000
TARGET_FANOUT_SECONDS = 60.0  # for TARGET_FANOUT_RECIPIENTS, at most
TARGET_RECEIPTS_PER_S = 20_000  # at least, SQLite
TARGET_REPORT_RATIO = 2.0  # large / small report time, at most
SMALL_CAMPAIGN = 1_000
REPORT_REPEATS = 5

SENDER = "SHOP"
#: GSM 7-bit, one segment once rendered: one message = one part = one receipt
TEMPLATE = "Bonjour {first_name}, votre commande est expédiée. STOP au 36180"
SYSTEM_ID, PASSWORD = "bench", "bench"
BASELINE_CHUNK = 5000  # rows per executemany, as fan_out's CHUNK


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


# ----------------------------------------------------------------------------- data


def number_of(i: int) -> str:
    return f"+336{i:08d}"  # French mobile numbers, all different


def first_name_of(i: int) -> str:
    return f"Client{i}"


def build_contacts(db: Database, list_name: str, start: int, count: int,
                   chunk: int = 50_000) -> None:
    """``count`` contacts (numbers ``start``…) in list ``list_name``: bulk Core inserts."""
    now = datetime.now(UTC)
    contacts = cast(Table, Contact.__table__)
    members = cast(Table, ListMember.__table__)
    with db.transaction() as session:
        target = book.get_or_create_list(session, list_name)
        conn = session.connection()
        for first in range(start, start + count, chunk):
            last = min(first + chunk, start + count)
            ids = conn.execute(insert(contacts).returning(contacts.c.id), [
                {"number": number_of(i), "region": "FR", "first_name": first_name_of(i),
                 "last_name": "Martin", "fields": {}, "state": "active",
                 "created_at": now, "updated_at": now}
                for i in range(first, last)]).scalars().all()
            conn.execute(insert(members), [{"list_id": target.id, "contact_id": i,
                                            "added_at": now} for i in ids])
            if count >= 200_000 and (last - start) % 200_000 == 0:
                say(f"    {last - start:,} contacts")


def prepare_campaign(db: Database, config: Config, *, list_name: str, name: str,
                     text: str, credits: int, port: int = 2775, window: int = 100,
                     connector: str = "operator", receivers: int = 1) -> int:
    """A draft transactional campaign to ``list_name`` through an SMPP connector
    (``receivers`` links bound to receive)."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        CreditBank(session).add(credits, note="benchmark")
        if session.scalar(select(Connector.id).where(Connector.name == connector)) is None:
            settings: dict[str, Any] = {
                "host": "127.0.0.1", "port": port, "system_id": SYSTEM_ID,
                "password": PASSWORD, "window": window, "id_format": "hex"}
            if receivers != 1:
                settings["receivers"] = receivers
            add_connector(session, connector, "smpp", settings)
        campaign = service.create_campaign(
            session, name=name, sender=SENDER, text=text, config=config, now=now,
            lists=[list_name], type_="transactional", connector=connector)
        return campaign.id


def send(db: Database, config: Config, campaign_id: int) -> tuple[float, int]:
    """``service.send`` (the fan-out) in one transaction; (seconds, recipients)."""
    start = time.perf_counter()
    with db.transaction() as session:
        campaign = service.send(session, campaign_id, config=config, prices=PriceTable(),
                                now=datetime.now(UTC))
        recipients = campaign.recipients
    return time.perf_counter() - start, recipients


# ----------------------------------------------------------------------------- 1. fan-out


def baseline_table(db: Database) -> Table:
    """A throwaway table with the columns, indexes and foreign keys of ``messages``."""
    source = cast(Table, Message.__table__)
    metadata = MetaData()
    columns = [
        Column(c.name, c.type, *[ForeignKey(fk.column) for fk in c.foreign_keys],
               primary_key=c.primary_key, nullable=c.nullable)
        for c in source.columns
    ]
    table = Table("bench_messages", metadata, *columns)
    for index in source.indexes:
        Index(f"bench_{index.name}", *[table.c[c.name] for c in index.columns],
              unique=bool(index.unique))
    for constraint in source.constraints:
        if isinstance(constraint, UniqueConstraint):
            table.append_constraint(UniqueConstraint(
                *[c.name for c in constraint.columns], name=f"bench_{constraint.name}"))
    metadata.drop_all(db.engine)
    metadata.create_all(db.engine)
    return table


def baseline_insert(db: Database, table: Table, count: int, *, campaign_id: int,
                    connector_id: int, list_id: int, first_contact: int) -> float:
    """``count`` rows into ``table`` with a bare ``executemany``; seconds to commit."""
    names = [c.name for c in table.columns if c.name != "id"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    constant = {
        "campaign_id": campaign_id, "kind": "campaign", "region": "FR", "sender": SENDER,
        "text_hash": "0" * 32, "encoding": "gsm7", "segments": 1, "credits": 0,
        "connector_id": connector_id, "list_ids": f"[{list_id}]", "status": "queued",
        "category": "pending", "status_is_guess": 0, "status_updated_at": stamp,
        "created_at": stamp, "attempts": 0, "in_doubt": 0,
    }
    at = {name: n for n, name in enumerate(names)}
    template = [constant.get(name) for name in names]
    i_contact, i_number, i_text = at["contact_id"], at["number"], at["text"]
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    start = time.perf_counter()
    with db.transaction() as session:
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        for first in range(0, count, BASELINE_CHUNK):
            rows = []
            for i in range(first, min(first + BASELINE_CHUNK, count)):
                row = list(template)
                row[i_contact] = first_contact + i
                row[i_number] = number_of(i)
                row[i_text] = TEMPLATE.replace("{first_name}", first_name_of(i))
                rows.append(row)
            cursor.executemany(sql, rows)
        cursor.close()
    return time.perf_counter() - start


@dataclass
class FanOutFigures:
    recipients: int
    seconds: float
    baseline_seconds: float
    by_status: dict[str, int] = field(default_factory=dict)


def part_fanout(db: Database, config: Config, recipients: int,
                profile: Path | None) -> tuple[FanOutFigures, int, int]:
    """Figure 1; returns it and the ids of the large and the small campaign."""
    say(f"1. fan-out: writing {recipients:,} + {SMALL_CAMPAIGN:,} contacts (not timed) …")
    start = time.perf_counter()
    build_contacts(db, "large", 0, recipients)
    build_contacts(db, "small", recipients, SMALL_CAMPAIGN)
    say(f"   contacts written in {time.perf_counter() - start:.1f} s")
    large = prepare_campaign(db, config, list_name="large", name="Large", text=TEMPLATE,
                             credits=2 * recipients + 2 * SMALL_CAMPAIGN)
    with db.session() as session:
        connector_id = session.scalar(select(Connector.id))
        list_id = session.scalar(select(CampaignList.list_id)
                                 .where(CampaignList.campaign_id == large))
        first_contact = session.scalar(select(func.min(ListMember.contact_id))
                                       .where(ListMember.list_id == list_id))
    say(f"   baseline: bare executemany of {recipients:,} rows into a copy of messages …")
    table = baseline_table(db)
    gc.collect()
    base = baseline_insert(db, table, recipients, campaign_id=large,
                           connector_id=int(connector_id or 0), list_id=int(list_id or 0),
                           first_contact=int(first_contact or 0))
    say(f"   {base:.1f} s")
    say(f"   fan-out: service.send of a {recipients:,}-recipient campaign …")
    gc.collect()
    if profile is not None:
        profiler = cProfile.Profile()
        seconds, sent = profiler.runcall(send, db, config, large)
        profiler.dump_stats(profile / "fanout.prof")
        say(f"   profile written to {profile / 'fanout.prof'}")
    else:
        seconds, sent = send(db, config, large)
    with db.session() as session:
        rows = session.execute(select(Message.status, func.count())
                               .where(Message.campaign_id == large)
                               .group_by(Message.status)).all()
        by_status = {status: n for status, n in rows}
        state = session.scalar(select(Campaign.state).where(Campaign.id == large))
    say(f"   {seconds:.1f} s: {sent:,} recipients, campaign {state}, {by_status}")
    # the small campaign for figure 3 (other text: not a duplicate of the large one)
    small = prepare_campaign(db, config, list_name="small", name="Small",
                             text=TEMPLATE + ".", credits=1)
    send(db, config, small)
    return FanOutFigures(sent, seconds, base, by_status), large, small


# ----------------------------------------------------------------------------- 3. report


def part_report(db: Database, large: int, small: int) -> dict[str, list[float]]:
    say(f"3. campaign report: best of {REPORT_REPEATS}, alternately …")
    times: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(REPORT_REPEATS):
        for key, campaign_id in (("small", small), ("large", large)):
            start = time.perf_counter()
            with db.session() as session:
                report = campaign_report(session, campaign_id)
            times[key].append(time.perf_counter() - start)
            assert report["recipients"] > 0
    return times


# ----------------------------------------------------------------------------- 2. receipts


@dataclass
class SimulatorProcess:
    """An ``smscope simulator`` in its own process: where it listens, how to release."""

    port: int
    process: subprocess.Popen[bytes]

    def release_receipts(self) -> None:
        """SIGUSR2: a simulator started with ``--hold-receipts`` sends what it holds."""
        self.process.send_signal(signal.SIGUSR2)


@contextmanager
def simulator(folder: Path, name: str, *, hold: bool = False,
              deliver_window: int = 100) -> Iterator[SimulatorProcess]:
    """``smscope simulator --profile instant`` on a free port, in its own process;
    with ``hold``, its receipts wait for :meth:`SimulatorProcess.release_receipts`."""
    log = folder / f"simulator-{name}.log"
    command = [sys.executable, "-m", "smscope", "simulator", "--port", "0", "--profile",
               "instant", "--system-id", SYSTEM_ID, "--password", PASSWORD,
               "--deliver-window", str(deliver_window)]
    if hold:
        command.append("--hold-receipts")
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out,
                                   stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while "listening on " not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the simulator did not start: {log.read_text()[-500:]}")
            time.sleep(0.05)
        line = log.read_text().split("listening on ", 1)[1]
        yield SimulatorProcess(int(line.split()[0].rsplit(":", 1)[1]), process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Arrivals:
    """When receipts were stored (or acknowledged), batch by batch."""

    expected: int
    #: the worker's start (whole campaign) or the release of held receipts (flood)
    start: float = 0.0
    first: float = 0.0  # end of the first batch
    first_count: int = 0
    last: float = 0.0
    count: int = 0
    batches: int = 0

    def add(self, count: int) -> None:
        now = time.perf_counter()
        if not self.count and count:
            self.first, self.first_count = now, count
        self.count += count
        self.batches += 1
        if count:
            self.last = now

    def rate(self) -> float:
        """Receipts/s from the first batch to the last (those after the first)."""
        span = self.last - self.first
        return (self.count - self.first_count) / span if span > 0 else 0.0

    def rate_from_start(self) -> float:
        span = self.last - self.start
        return self.count / span if span > 0 else 0.0

    @property
    def seconds(self) -> float:
        return self.last - self.first


def _message(first: int) -> Callable[[int], tuple[str, str, str]]:
    """The i-th message of a campaign whose contacts are numbered from ``first``."""
    def message(i: int) -> tuple[str, str, str]:
        n = first + i
        return TEMPLATE.replace("{first_name}", first_name_of(n)), SENDER, number_of(n)
    return message


async def _baseline_client(port: int, count: int, window: int, first: int,
                           receivers: int) -> Arrivals:
    """A bare SMPPClient submitting while its receipts come back (figure 2b)."""
    arrivals = Arrivals(count)
    arrivals.start = time.perf_counter()
    run = await drive(port, SYSTEM_ID, PASSWORD, count, window, _message(first),
                      timeout=max(120.0, count / 500), on_batch=arrivals.add,
                      receivers=receivers)
    if run.received < count:
        say(f"   baseline: only {run.received:,} of {count:,} receipts arrived")
    if run.failed:
        say(f"   baseline: {run.failed:,} submits failed")
    return arrivals


async def _baseline_flood(sim: SimulatorProcess, count: int, window: int,
                          first: int, receivers: int) -> Arrivals:
    """A bare SMPPClient submitting everything to a simulator that holds the receipts,
    then releasing them and acknowledging each batch at once (figure 2's baseline)."""
    arrivals = Arrivals(count)
    early = 0

    def release() -> None:
        nonlocal early
        early = arrivals.count
        arrivals.start = time.perf_counter()
        sim.release_receipts()

    run = await drive(sim.port, SYSTEM_ID, PASSWORD, count, window, _message(first),
                      timeout=max(120.0, count / 500), on_batch=arrivals.add,
                      after_submits=release, receivers=receivers)
    if run.failed:
        say(f"   baseline: {run.failed:,} submits failed")
    if early:
        say(f"   baseline: {early:,} receipts arrived before the release")
    if arrivals.count < count:
        say(f"   baseline: only {arrivals.count:,} of {count:,} receipts arrived")
    return arrivals


#: (start, end, receipts) of each receipts transaction of the worker, in order
_SPANS: list[tuple[float, float, int]] = []


def _say_transactions(label: str, spans: list[tuple[float, float, int]],
                      cpu_per_receipt: float) -> None:
    """How the database thread spent the flood: the share of it inside receipt
    transactions, the gaps between two, their sizes, and their wall time per receipt
    against the thread's CPU time (the difference: waits for the interpreter lock)."""
    if len(spans) < 2:
        return
    busy = sum(end - start for start, end, _ in spans)
    wall = spans[-1][1] - spans[0][0]
    gaps = sorted(spans[n + 1][0] - spans[n][1] for n in range(len(spans) - 1))
    sizes = sorted(count for _, _, count in spans)
    say(f"   {label}: receipt transactions {100 * busy / wall:.0f} % of the flood, gaps "
        f"between two: median {gaps[len(gaps) // 2] * 1e3:.2f} ms, 90th percentile "
        f"{gaps[len(gaps) * 9 // 10] * 1e3:.2f} ms; receipts a transaction: median "
        f"{sizes[len(sizes) // 2]} ({sizes[0]}–{sizes[-1]}); wall time a receipt "
        f"{busy * 1e6 / sum(sizes):.1f} µs, of which CPU {cpu_per_receipt:.1f} µs")


class _TimedWorker(Worker):
    """The real worker; only notes when each batch of receipts is committed."""

    def __init__(self, app: Smscope, arrivals: Arrivals, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.arrivals = arrivals

    async def open(self) -> None:
        await super().open()
        self.arrivals.start = time.perf_counter()

    def _store_receipts(self, ingest: Any, items: list[Any]) -> IngestResult:
        t0 = time.perf_counter()
        result = super()._store_receipts(ingest, items)
        _SPANS.append((t0, time.perf_counter(), len(items)))
        self.arrivals.add(result.stored)
        return result


def _unrecorded(app: Smscope, campaign_id: int) -> int:
    """Messages of the campaign not yet submitted and recorded: ``queued`` (a claimed
    message stays ``queued``, in doubt, until its submit is recorded). Read from the
    index on (campaign_id, status): polled while the worker submits."""
    with app.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Message)
            .where(Message.campaign_id == campaign_id, Message.status == "queued")) or 0


def _recorded(app: Smscope, campaign_id: int) -> int:
    """Messages of the campaign submitted and recorded: ``sent``, not in doubt."""
    with app.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Message)
            .where(Message.campaign_id == campaign_id, Message.status == "sent",
                   Message.in_doubt.is_(False))) or 0


@dataclass
class WorkerRun:
    arrivals: Arrivals
    #: flood only: seconds from the worker's start until every message was recorded
    submit_seconds: float = 0.0


async def _run_worker(app: Smscope, campaign_id: int, count: int, profile: Path | None,
                      label: str, release: Callable[[], None] | None = None) -> WorkerRun:
    """Run the real worker on the campaign until every receipt is stored.

    With ``release`` (a simulator holding its receipts), first wait until every message
    is submitted and recorded, then call it: the receipts then come as one flood, and
    ``arrivals.start`` is the moment of the release. Under ``profile``, the profilers
    cover what is measured: the flood only, or the whole run.
    """
    arrivals = Arrivals(count)
    worker = _TimedWorker(app, arrivals, campaign_id=campaign_id)
    stop = asyncio.Event()
    outcome = WorkerRun(arrivals)
    profilers: list[cProfile.Profile] = []

    async def start_profiling() -> None:
        if profile is not None:
            # cProfile sees one thread: one profiler in the worker's database thread,
            # one in this (the event loop's) thread
            db_profiler, loop_profiler = cProfile.Profile(), cProfile.Profile()
            await worker._in_db(db_profiler.enable)
            loop_profiler.enable()
            profilers.extend((db_profiler, loop_profiler))

    async def wait_until_recorded() -> None:
        # polled on the worker's own database thread: no competing for SQLite's lock
        idle_since, seen = time.monotonic(), -1
        while left := await worker._in_db(_unrecorded, app, campaign_id):
            if left != seen:
                idle_since, seen = time.monotonic(), left
            elif time.monotonic() - idle_since > 60:
                say(f"   {label}: {left:,} messages still queued after 60 s without "
                    "progress; releasing the receipts anyway")
                return
            await asyncio.sleep(0.1)
        recorded = await worker._in_db(_recorded, app, campaign_id)
        if recorded != count:
            say(f"   {label}: {recorded:,} of {count:,} messages sent and recorded")

    async def watch() -> None:
        if release is not None:
            await wait_until_recorded()
            outcome.submit_seconds = time.perf_counter() - arrivals.start
            if arrivals.count:
                say(f"   {label}: {arrivals.count:,} receipts stored before the release")
            await start_profiling()
            cpu_start = (await worker._in_db(time.thread_time), time.thread_time(),
                         time.process_time())
            arrivals.start = time.perf_counter()
            release()
        idle_since, seen = time.monotonic(), -1
        while arrivals.count < count:
            await asyncio.sleep(0.02)
            if arrivals.count != seen:
                idle_since, seen = time.monotonic(), arrivals.count
            elif time.monotonic() - idle_since > 60:
                say(f"   {label}: no receipt for 60 s, stopping at {arrivals.count:,}")
                break
        if release is not None and arrivals.count:
            cpu_end = (await worker._in_db(time.thread_time), time.thread_time(),
                       time.process_time())
            db, loop, process = ((end - start) * 1e6 / arrivals.count
                                 for start, end in zip(cpu_start, cpu_end, strict=True))
            _say_transactions(label, [sp for sp in _SPANS if sp[0] >= arrivals.start], db)
            say(f"   {label}: CPU per receipt during the flood: database thread {db:.1f} µs, "
                f"event loop {loop:.1f} µs, whole process {process:.1f} µs")
        stop.set()

    if release is None:
        await start_profiling()
    watcher = asyncio.create_task(watch())
    await worker.run(stop)
    await watcher
    if profilers:
        db_profiler, loop_profiler = profilers
        loop_profiler.disable()
        db_profiler.disable()  # the worker's thread has ended; its stats are kept
        assert profile is not None
        db_profiler.dump_stats(profile / f"receipts-{label}-db-thread.prof")
        loop_profiler.dump_stats(profile / f"receipts-{label}-loop.prof")
        say(f"   profiles written to {profile}/receipts-{label}-*.prof")
    return outcome


@dataclass
class ReceiptFigures:
    backend: str
    baseline: Arrivals
    worker: Arrivals
    #: receipts rows of the campaign's connector, messages ``received``
    stored_rows: int
    received: int
    #: flood only: the worker's submitting, before the release
    submit_seconds: float = 0.0


def _outcome(app: Smscope, campaign_id: int) -> tuple[int, int]:
    """(receipts rows stored for the campaign's connector, messages ``received``)."""
    with app.db.session() as session:
        connector_id = session.scalar(select(Campaign.connector_id)
                                      .where(Campaign.id == campaign_id))
        stored = session.scalar(select(func.count()).select_from(ReceiptRow)
                                .where(ReceiptRow.connector_id == connector_id)) or 0
        report = campaign_report(session, campaign_id)
    return int(stored), int(report["statuses"]["received"])


def part_receipts(url: str, label: str, folder: Path, count: int, window: int,
                  profile: Path | None, deliver_window: int = 100,
                  receivers: int = 1) -> tuple[ReceiptFigures, ReceiptFigures]:
    """Figures 2 (flood) and 2b (whole campaign) on one database: two campaigns to
    different contacts, each through its own connector and simulator processes."""
    config = Config(database_url=url, default_region="FR")
    app = Smscope(config)
    db = app.db
    say(f"2. receipts ({label}): 2 x {count:,} contacts (not timed) …")
    build_contacts(db, "flood", 0, count)
    build_contacts(db, "whole", count, count)

    # two simulators holding their receipts: a release is for good, so the baseline
    # and the worker each need their own
    with simulator(folder, f"flood-baseline-{label}", hold=True,
                   deliver_window=deliver_window) as base_sim, \
            simulator(folder, f"flood-worker-{label}", hold=True,
                      deliver_window=deliver_window) as worker_sim:
        say(f"2. receipts flood ({label}): a {count:,}-message campaign (not timed) …")
        flood_id = prepare_campaign(db, config, list_name="flood", name="Flood",
                                    text=TEMPLATE, credits=2 * count, port=worker_sim.port,
                                    window=window, connector="flood", receivers=receivers)
        send(db, config, flood_id)
        say(f"   baseline: SMPPClient, window {window}, submit all, release, receipts "
            "only acknowledged …")
        gc.collect()
        flood_base = asyncio.run(_baseline_flood(base_sim, count, window, 0, receivers))
        say(f"   {flood_base.count:,} receipts, {flood_base.rate():,.0f}/s")
        say(f"   worker: Worker submits everything, then the receipts are released, "
            f"Ingest.receipts on {label} …")
        gc.collect()
        flood = asyncio.run(_run_worker(app, flood_id, count, profile, f"flood-{label}",
                                        release=worker_sim.release_receipts))
        say(f"   submitted and recorded in {flood.submit_seconds:.1f} s; "
            f"{flood.arrivals.count:,} receipts stored in {flood.arrivals.batches:,} "
            f"batches, {flood.arrivals.rate():,.0f}/s")

    with simulator(folder, f"whole-{label}", deliver_window=deliver_window) as sim:
        say(f"2b. whole campaign ({label}): a {count:,}-message campaign (not timed) …")
        whole_id = prepare_campaign(db, config, list_name="whole", name="Whole",
                                    text=TEMPLATE, credits=2 * count, port=sim.port,
                                    window=window, connector="whole", receivers=receivers)
        send(db, config, whole_id)
        say(f"   baseline: SMPPClient, window {window}, receipts only acknowledged …")
        gc.collect()
        whole_base = asyncio.run(_baseline_client(sim.port, count, window, count, receivers))
        say(f"   {whole_base.count:,} receipts, {whole_base.rate():,.0f}/s")
        say(f"   worker: Worker + Ingest.receipts on {label} …")
        gc.collect()
        whole = asyncio.run(_run_worker(app, whole_id, count, profile, f"whole-{label}"))
        say(f"   {whole.arrivals.count:,} receipts stored in {whole.arrivals.batches:,} "
            f"batches, {whole.arrivals.rate():,.0f}/s")

    flood_figures = ReceiptFigures(label, flood_base, flood.arrivals,
                                   *_outcome(app, flood_id), flood.submit_seconds)
    whole_figures = ReceiptFigures(label, whole_base, whole.arrivals, *_outcome(app, whole_id))
    app.close()
    return flood_figures, whole_figures


# ----------------------------------------------------------------------------- 4. webhooks

_RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def webhook_receiver() -> Iterator[str]:
    """An HTTP server answering 204 to every POST, in its own process; its URL."""
    process = subprocess.Popen([sys.executable, "-c", _RECEIVER], stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class WebhookFigures:
    plain: list[Arrivals]
    hooked: list[Arrivals]
    #: deliveries of the last endpoint run: made, posted by the end of its flood
    deliveries: int = 0
    posted_during: int = 0
    #: after that flood: deliveries posted, seconds
    posted_after: int = 0
    drain_seconds: float = 0.0


def _delivery_states(app: Smscope) -> dict[str, int]:
    with app.db.session() as session:
        return dict(session.execute(select(WebhookDelivery.state, func.count())
                                    .group_by(WebhookDelivery.state)).all())


async def _drain(app: Smscope, limit: float) -> None:
    """The webhooks task alone (as a worker with nothing to send) until every delivery
    is posted, or ``limit`` seconds."""
    pool = ThreadPoolExecutor(max_workers=1)
    loop = asyncio.get_running_loop()

    async def in_db(fn: Callable[..., Any], *args: Any) -> Any:
        return await loop.run_in_executor(pool, fn, *args)

    task = asyncio.create_task(WebhookRunner(app, in_db=in_db, worker_id="drain").run())
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not (await in_db(_delivery_states, app)).get("pending"):
            break
        await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    pool.shutdown()


def part_webhooks(url: str, folder: Path, count: int, window: int,
                  deliver_window: int, receivers: int, rounds: int) -> WebhookFigures:
    """Figure 4: floods without a webhook and with one, alternately: ``rounds`` with,
    one more without."""
    config = Config(database_url=url, default_region="FR")
    app = Smscope(config)
    db = app.db
    runs = [name for n in range(1, rounds + 1) for name in (f"plain-{n}", f"hooked-{n}")]
    runs.append(f"plain-{rounds + 1}")
    say(f"4. webhooks: {len(runs)} x {count:,} contacts (not timed) …")
    for n, name in enumerate(runs):
        build_contacts(db, f"wh-{name}", (10 + n) * count, count)
    figures = WebhookFigures([], [])
    with webhook_receiver() as hook_url:
        for name in runs:
            endpoint_id = None
            if name.startswith("hooked"):
                with db.transaction() as session:
                    endpoint_id = add_endpoint(session, hook_url)[0].id
            with simulator(folder, f"webhooks-{name}", hold=True,
                           deliver_window=deliver_window) as sim:
                campaign_id = prepare_campaign(
                    db, config, list_name=f"wh-{name}", name=name, text=TEMPLATE,
                    credits=2 * count, port=sim.port, window=window,
                    connector=f"wh-{name}", receivers=receivers)
                send(db, config, campaign_id)
                say(f"   {name}: worker submits, receipts released, "
                    f"{'one webhook endpoint' if endpoint_id else 'no webhook'} …")
                gc.collect()
                run = asyncio.run(_run_worker(app, campaign_id, count, None,
                                              f"webhooks-{name}",
                                              release=sim.release_receipts))
            (figures.hooked if endpoint_id else figures.plain).append(run.arrivals)
            say(f"   {name}: {run.arrivals.count:,} receipts, {run.arrivals.rate():,.0f}/s")
            if endpoint_id is None:
                continue
            if name == runs[-2]:  # the last endpoint run: how the rest is posted
                done = _delivery_states(app)
                figures.deliveries = sum(done.values())
                figures.posted_during = done.get("done", 0)
                say(f"   {name}: {figures.posted_during:,} of {figures.deliveries:,} "
                    "deliveries posted by the end of the flood; posting the rest …")
                started = time.perf_counter()
                asyncio.run(_drain(app, 300))
                figures.drain_seconds = time.perf_counter() - started
                figures.posted_after = (_delivery_states(app).get("done", 0)
                                        - figures.posted_during)
            with db.transaction() as session:
                # its backlog ends `failed`: the next run without an endpoint is clean
                remove_endpoint(session, endpoint_id)
            with db.transaction() as session:
                session.execute(delete(WebhookDelivery))
    app.close()
    return figures


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def print_webhooks(f: WebhookFigures, window: int) -> None:
    count = f.hooked[0].expected
    print(f"\n4. Receipts flood with and without a webhook endpoint, SQLite: "
          f"{count:,} one-part messages per run, held receipts released at once, "
          f"window {window}; runs alternate, starting and ending without\n")
    print(f"{'run':<44} {'receipts':>9} {'first->last s':>14} {'receipts/s':>11}")
    for label, runs in (("no endpoint", f.plain), ("one endpoint", f.hooked)):
        for n, a in enumerate(runs, 1):
            print(f"{f'{label} ({n})':<44} {a.count:>9,} {a.seconds:>14.2f} "
                  f"{a.rate():>11,.0f}")
    plain = _median([a.rate() for a in f.plain])
    hooked = _median([a.rate() for a in f.hooked])
    ratio = hooked / plain if plain else 0.0
    print(f"{'ratio one endpoint / no endpoint (medians)':<44} {'':>9} {'':>14} "
          f"{ratio:>11.2f}")
    rate = f.posted_after / f.drain_seconds if f.drain_seconds else 0.0
    print(f"last endpoint run: by the end of its flood {f.deliveries:,} deliveries made "
          f"and {f.posted_during:,} posted (webhooks give way to receipts); the other "
          f"{f.posted_after:,} posted in {f.drain_seconds:.1f} s after it ({rate:,.0f}/s)")


# ----------------------------------------------------------------------------- report


def print_fanout(f: FanOutFigures) -> None:
    print(f"\n1. Fan-out of a {f.recipients:,}-recipient campaign, SQLite "
          f"{sqlite3.sqlite_version}\n")
    print(f"{'measure':<52} {'rows':>10} {'seconds':>9} {'rows/s':>10}")
    for name, seconds in (("baseline: bare executemany into a copy of messages",
                           f.baseline_seconds),
                          ("fan-out: service.send (fan_out, one transaction)", f.seconds)):
        print(f"{name:<52} {f.recipients:>10,} {seconds:>9.1f} "
              f"{f.recipients / seconds:>10,.0f}")
    ratio = f.seconds / f.baseline_seconds
    print(f"{'ratio fan-out / baseline (time)':<52} {'':>10} {ratio:>9.2f}")
    scaled = f.seconds * TARGET_FANOUT_RECIPIENTS / f.recipients
    note = "" if f.recipients == TARGET_FANOUT_RECIPIENTS else (
        f" (extrapolated linearly from {f.recipients:,} recipients)")
    print(f"target: {TARGET_FANOUT_RECIPIENTS:,} recipients in <= {TARGET_FANOUT_SECONDS:g} s: "
          f"{scaled:.1f} s{note}: {verdict(scaled <= TARGET_FANOUT_SECONDS)}")
    print(f"statuses: {', '.join(f'{k} {v:,}' for k, v in sorted(f.by_status.items()))}")


def _print_receipt_rows(figures: list[ReceiptFigures], from_what: str) -> None:
    """Each backend's baseline and worker lines, then the ratios."""
    print(f"{'measure':<44} {'receipts':>9} {'first->last s':>14} {'receipts/s':>11} "
          f"{from_what:>15}")
    for f in figures:
        for name, a in ((f"baseline ({f.backend} run): SMPPClient, no-op", f.baseline),
                        (f"Worker + Ingest.receipts, {f.backend}", f.worker)):
            print(f"{name:<44} {a.count:>9,} {a.seconds:>14.2f} {a.rate():>11,.0f} "
                  f"{a.rate_from_start():>15,.0f}")
    for f in figures:
        ratio = f.worker.rate() / f.baseline.rate() if f.baseline.rate() else 0.0
        print(f"{f'ratio worker / baseline, {f.backend}':<44} {'':>9} {'':>14} "
              f"{ratio:>11.2f}")


def _print_completeness(f: ReceiptFigures) -> None:
    count = f.worker.expected
    if f.stored_rows != count or f.received != count:
        print(f"  {f.backend}: {f.stored_rows:,} receipts rows, {f.received:,} messages "
              f"received, of {count:,}: INCOMPLETE")
    else:
        print(f"  {f.backend}: all {count:,} receipts stored and every message 'received'")


def print_receipts(floods: list[ReceiptFigures], wholes: list[ReceiptFigures],
                   window: int) -> None:
    count = floods[0].worker.expected
    print(f"\n2. Receipts end to end (flood): {count:,} one-part messages submitted and "
          f"recorded first, their receipts held by the smscope simulator (instant "
          f"profile, --hold-receipts, another process), then released at once; "
          f"window {window}\n")
    _print_receipt_rows(floods, "from release/s")
    for f in floods:
        ok = f.worker.rate() >= TARGET_RECEIPTS_PER_S
        target = "target" if f.backend == "SQLite" else "for information, target (SQLite)"
        print(f"{target}: >= {TARGET_RECEIPTS_PER_S:,} receipts/s on {f.backend}: "
              f"{f.worker.rate():,.0f}/s: {verdict(ok)}")
        _print_completeness(f)
        print(f"  {f.backend}: the worker submitted and recorded the {count:,} messages in "
              f"{f.submit_seconds:.1f} s before the release (not part of the figure)")
    print(f"\n2b. Whole campaign, submits and receipts together (for information): "
          f"{count:,} one-part messages, smscope simulator (instant profile: a receipt "
          f"right after each submit_sm_resp) in another process, window {window}\n")
    _print_receipt_rows(wholes, "from start/s")
    for f in wholes:
        _print_completeness(f)


def print_report(times: dict[str, list[float]], large: int) -> None:
    best = {k: min(v) for k, v in times.items()}
    print(f"\n3. campaign_report, best of {REPORT_REPEATS} (fresh session each), SQLite\n")
    print(f"{'campaign':<30} {'recipients':>11} {'best ms':>9} {'median ms':>10}")
    for key, recipients in (("small", SMALL_CAMPAIGN), ("large", large)):
        median = sorted(times[key])[len(times[key]) // 2]
        print(f"{key:<30} {recipients:>11,} {best[key] * 1000:>9.2f} {median * 1000:>10.2f}")
    ratio = best["large"] / best["small"]
    print(f"{'ratio large / small':<30} {'':>11} {ratio:>9.2f}")
    print(f"target: ratio <= {TARGET_REPORT_RATIO:g}: {verdict(ratio <= TARGET_REPORT_RATIO)}")


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1_000_000,
                        help="recipients of the fan-out campaign (1,000,000)")
    parser.add_argument("--receipts", type=int, default=100_000,
                        help="messages of each receipts campaign, figures 2 and 2b "
                             "(100,000)")
    parser.add_argument("--window", type=int, default=100,
                        help="SMPP window of the connector and of the baseline (100)")
    parser.add_argument("--deliver-window", type=int, default=100,
                        help="the simulator's window of unanswered deliver_sm per session "
                             "(100): at most this many receipts wait to be stored at once, "
                             "so it bounds the batches a store-before-acknowledge client "
                             "can commit")
    parser.add_argument("--receivers", type=int, default=1,
                        help="SMPP links bound to receive, of the connector and of the "
                             "baselines (1): each has its own deliver window at the "
                             "simulator, so more links give larger batches")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run the receipts figures (2 and 2b) on this (empty) "
                             "PostgreSQL database")
    parser.add_argument("--only", default="123",
                        help="figures to run, e.g. '2' or '13' (3 needs 1's campaign, so "
                             "it runs 1 too; 4, the webhooks figure, only when named)")
    parser.add_argument("--webhook-rounds", type=int, default=3,
                        help="figure 4: floods with a webhook endpoint, each between two "
                             "without (3)")
    parser.add_argument("--dir", help="folder for the temporary files (system default)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite databases and print where they are")
    parser.add_argument("--profile", metavar="DIR",
                        help="run the fan-out and the worker under cProfile and write "
                             ".prof files to DIR (figure 2: the flood only; slower: "
                             "figures are then not comparable)")
    args = parser.parse_args(argv)
    if min(args.recipients, args.receipts, args.window, args.receivers) < 1:
        parser.error("--recipients, --receipts, --window and --receivers must be at "
                     "least 1")
    profile = Path(args.profile).resolve() if args.profile else None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="smscope-bench-campaigns-", dir=args.dir))
    status = 0
    try:
        fan: FanOutFigures | None = None
        times: dict[str, list[float]] | None = None
        floods: list[ReceiptFigures] = []
        wholes: list[ReceiptFigures] = []
        if "1" in args.only or "3" in args.only:
            url = f"sqlite:///{folder / 'fanout.db'}"
            config = Config(database_url=url, default_region="FR")
            db = Database(url)
            db.ensure_schema()
            fan, large, small = part_fanout(db, config, args.recipients, profile)
            if "3" in args.only:
                times = part_report(db, large, small)
            db.dispose()
        if "2" in args.only:
            flood, whole = part_receipts(f"sqlite:///{folder / 'receipts.db'}", "SQLite",
                                         folder, args.receipts, args.window, profile,
                                         args.deliver_window, args.receivers)
            floods.append(flood)
            wholes.append(whole)
            if args.postgres:
                try:
                    flood, whole = part_receipts(args.postgres, "PostgreSQL", folder,
                                                 args.receipts, args.window, profile,
                                                 args.deliver_window, args.receivers)
                    floods.append(flood)
                    wholes.append(whole)
                except Exception as exc:  # report the SQLite figures anyway
                    say(f"   PostgreSQL run failed: {type(exc).__name__}: {exc}")
                    status = 1
        hooks: WebhookFigures | None = None
        if "4" in args.only:
            hooks = part_webhooks(f"sqlite:///{folder / 'webhooks.db'}", folder,
                                  args.receipts, args.window, args.deliver_window,
                                  args.receivers, args.webhook_rounds)
        if fan is not None:
            print_fanout(fan)
        if floods:
            print_receipts(floods, wholes, args.window)
            print(f"simulator deliver window: {args.deliver_window} unanswered deliver_sm "
                  f"per session; {args.receivers} receiving link(s) per client")
            if not args.postgres:
                print("PostgreSQL: skipped (give --postgres URL of an empty database)")
            elif len(floods) == 1:
                print("PostgreSQL: the run failed (see stderr)")
        if times is not None and fan is not None:
            print_report(times, fan.recipients)
        if hooks is not None:
            print_webhooks(hooks, args.window)
        if args.keep:
            print(f"\nkept: {folder}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
