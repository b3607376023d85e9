"""The lean path of the receipt pipeline (:mod:`smscope.receipts.lean`) leaves the
database exactly as the general path does, whatever the receipts: random streams of
receipts (delivered, in transit, temporary and permanent errors, re-sent, for older
attempts, for unknown ids, for a submit in doubt, for parts of a long message, for a
test send), with retries claimed and recorded between batches, are run through both
on two copies of one database, and every table is compared."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from smscope.campaigns import service
from smscope.db import Database
from smscope.db.tables import Base
from smscope.db.types import UTCDateTime
from smscope.receipts.ingest import Ingest
from smscope.smpp.client import PartResult, SubmitResult
from tests.campaigns.helpers import NOW, Engine, in_doubt, make_config, number, ok, receipt
from tests.support.postgres import PostgresCluster

#: (stat, err) of the receipts drawn: each mapped status, and one of each kind of path
OUTCOMES = [("DELIVRD", "000"), ("ENROUTE", "000"), ("ACCEPTD", "000"),
            ("UNDELIV", "027"),  # temporary: a retry
            ("UNDELIV", "001"),  # permanent: hygiene
            ("REJECTD", "013"), ("EXPIRED", "000"), ("UNKNOWN", "000")]
ONE_PART = 6  # numbers 0..5: one-part campaign messages; 6, 7: three parts; 8: a test
#: tables whose moments come from the engine's clock; elsewhere (contacts marked
#: invalid, charges, timelines) the wall clock writes them, and they are not compared
CLOCKED = {"messages", "message_parts", "receipts", "status_events", "stat_counters"}


def scenario(db: Database) -> Engine:
    """Two campaigns sent and recorded: one-part messages (one of them in doubt), two
    three-part messages, and a test send of a third campaign."""
    engine = Engine(db, config=make_config(backoff=["1h", "2h"])).setup(credits=100)
    engine.contacts("L", [{"number": number(i)} for i in range(ONE_PART)])
    engine.campaign(lists=["L"], name="short")
    engine.campaign(numbers=[number(6), number(7)], text="a" * 400, name="long")
    draft = engine.campaign(numbers=[number(9)], send=False, name="draft")
    with db.transaction() as session:
        service.test_send(session, draft, [number(8)], config=engine.config, now=NOW)
    claimed = engine.claim()
    results: list[SubmitResult | None] = []
    for item in claimed:
        i = int(item["number"][-7:])
        if i == 5:
            results.append(in_doubt())
        elif item["segments"] > 1:
            results.append(SubmitResult(tuple(
                PartResult("ok", message_id=f"{0xb000 + 16 * i + n:x}") for n in range(3))))
        else:
            results.append(ok(f"{0xa000 + i:x}"))
    engine.record(claimed, results)
    return engine


def _id(i: int, part: int, attempt: int) -> str:
    if i in (6, 7):
        return f"{0xb000 + 16 * i + part:x}"
    return f"{0xa000 + i:x}" if attempt == 1 else f"{0xc000 + 16 * i + attempt:x}"


receipts = st.lists(st.tuples(
    st.integers(0, 9),  # the number (9: an id nobody submitted)
    st.integers(0, 2),  # the part of a three-part message
    st.sampled_from(OUTCOMES),
    st.booleans(),  # the id in decimal rather than hex
    st.sampled_from(["2611241531", "2611241532"]),  # done date: re-sent or another
    st.sampled_from([1, 2])), min_size=1, max_size=8)  # the attempt it names
batches = st.lists(st.tuples(receipts, st.booleans()), min_size=1, max_size=4)


def run(engine: Engine, stream: list[tuple[list[Any], bool]], *, lean: bool) -> None:
    """Each batch at its own minute; after a batch, optionally, an hour later, the
    retries due are claimed and recorded."""
    at = NOW + timedelta(minutes=1)
    for batch, retry in stream:
        pdus = []
        for i, part, (stat, err), decimal, done, attempt in batch:
            rid = "ffff" if i == 9 else _id(i, part, attempt)
            if decimal:
                rid = str(int(rid, 16))
            # the message in doubt is named by an id it never got: matched by address
            pdus.append(receipt(f"{0xd000 + i:x}" if i == 5 else rid, stat, err,
                                to=number(i), done=done))
        ingest = engine.ingest(at)
        ingest.lean = lean
        ingest.receipts(pdus)
        at += timedelta(minutes=1)
        if retry:
            at += timedelta(hours=1)
            claimed = engine.claim(at)
            engine.record(claimed, [ok(f"{0xc000 + 16 * int(c['number'][-7:]) + c['attempts']:x}")
                                    for c in claimed], at)


def dump(db: Database) -> dict[str, Any]:
    """Every table's rows (status events without their ids: each message's history in
    order), columns written with the wall clock left out."""
    out: dict[str, Any] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            names = [c.name for c in table.columns
                     if table.name in CLOCKED or not isinstance(c.type, UTCDateTime)]
            if table.name == "status_events":
                names.remove("id")
                rows = conn.execute(text(f"SELECT {', '.join(names)} FROM {table.name} "
                                         "ORDER BY message_id, id")).all()
            else:
                rows = sorted(conn.execute(text(f"SELECT {', '.join(names)} "
                                                f"FROM {table.name}")).all(), key=repr)
            out[table.name] = [tuple(row) for row in rows]
    return out


def check_same(copies: Callable[[], tuple[Database, Database]],
               stream: list[tuple[list[Any], bool]]) -> None:
    general, lean = copies()
    try:
        engines = []
        for db, use_lean in ((general, False), (lean, True)):
            engine = Engine(db, config=make_config(backoff=["1h", "2h"]))
            with db.session() as session:
                engine.connector_id = session.execute(text(
                    "SELECT id FROM connectors")).scalar_one()
            run(engine, stream, lean=use_lean)
            engines.append(engine)
        expected, got = dump(general), dump(lean)
        for table in expected:
            assert got[table] == expected[table], table
        for campaign_id in (1, 2):
            engines[1].report(campaign_id)
    finally:
        general.dispose()
        lean.dispose()


@pytest.fixture(scope="module")
def sqlite_scenario(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lean") / "scenario.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    scenario(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@given(stream=batches)
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lean_and_general_paths_leave_the_same_database_sqlite(
        sqlite_scenario: Path, tmp_path: Path, stream: list[tuple[list[Any], bool]]) -> None:
    counter = iter(range(1_000_000))

    def copies() -> tuple[Database, Database]:
        made = []
        for _ in range(2):
            path = tmp_path / f"copy-{next(counter)}-{id(stream)}.db"
            shutil.copyfile(sqlite_scenario, path)
            made.append(Database(f"sqlite:///{path}"))
        return made[0], made[1]

    check_same(copies, stream)


@contextmanager
def _admin(pg: PostgresCluster) -> Iterator[Any]:
    admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def pg_scenario(pg_cluster: PostgresCluster | None) -> Iterator[tuple[PostgresCluster, str]]:
    if pg_cluster is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found on this machine")
    with _admin(pg_cluster) as conn:
        conn.execute(text('CREATE DATABASE "lean_scenario" TEMPLATE smscope_template'))
    db = Database(pg_cluster.url("lean_scenario"))
    scenario(db)
    db.dispose()
    yield pg_cluster, "lean_scenario"


@given(stream=batches)
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_lean_and_general_paths_leave_the_same_database_postgresql(
        pg_scenario: tuple[PostgresCluster, str], stream: list[tuple[list[Any], bool]]) -> None:
    cluster, template = pg_scenario
    names = [f"lean_{id(stream)}_{n}" for n in range(2)]

    def copies() -> tuple[Database, Database]:
        with _admin(cluster) as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return Database(cluster.url(names[0])), Database(cluster.url(names[1]))

    try:
        check_same(copies, stream)
    finally:
        with _admin(cluster) as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def test_the_lean_path_takes_the_common_case(db: Database,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Delivered receipts of one-part messages never reach the general path; a
    temporary error (a retry follows) does."""
    from smscope.receipts import ingest as module

    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(i) for i in range(4)])
    sent = engine.send_all()
    general: list[str] = []
    original = module._Applier.apply

    def spy(self: Any, item: Any, part: dict[str, Any]) -> None:
        general.append(item.receipt.stat)
        original(self, item, part)

    monkeypatch.setattr(module._Applier, "apply", spy)
    result = engine.receipts([receipt(sent[number(i)], to=number(i)) for i in range(3)]
                             + [receipt(sent[number(3)], "UNDELIV", "027", to=number(3))])
    assert result.applied == 4
    assert general == ["UNDELIV"]
    statuses = [m.status for m in engine.messages(campaign_id)]
    assert statuses == ["received"] * 3 + ["retry_scheduled"]
    assert Ingest.lean
    engine.report(campaign_id)
