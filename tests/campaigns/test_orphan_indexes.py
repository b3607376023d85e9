"""The receipts' operator-key and age indexes hold orphans only (nearly every receipt is
stored applied, so the pipeline writes no entry in them). Every query that looks for
orphans must still be able to read them (a partial index is used only when the query's
WHERE implies the index's). These tests read each query's plan, and check which receipts
the indexes hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from smscope.db import Database
from smscope.db.sql import is_postgresql
from smscope.receipts.mapping import StatusMapping
from smscope.receipts.orphans import stale_orphans, sweep_orphans
from tests.campaigns.helpers import NOW, Engine, number, ok, receipt

LATER = NOW + timedelta(minutes=1)


class Plans:
    """The plan of every statement on the receipts table that asks for orphans."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.plans: list[tuple[str, str]] = []

    def remember(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                 *_: Any) -> None:
        if "FROM receipts" not in statement or "orphan" not in statement + str(parameters):
            return
        if self.db.engine.dialect.name == "postgresql":
            # sequential scans off, so that a small table shows which index the
            # planner can use
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = " / ".join(row[0] for row in cursor.fetchall())
        else:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}",
                                             parameters).fetchall()
            plan = " / ".join(row[-1] for row in rows)
        self.plans.append((statement.split("\n")[0][:60], plan))


@pytest.fixture
def plans(db: Database) -> Iterator[Plans]:
    watcher = Plans(db)
    event.listen(db.engine, "before_cursor_execute", watcher.remember)
    try:
        yield watcher
    finally:
        event.remove(db.engine, "before_cursor_execute", watcher.remember)


def _indexed(db: Database, name: str) -> int:
    """Entries of the partial index ``name`` (SQLite: read through it; PostgreSQL: its
    tuples)."""
    with db.session() as session:
        if is_postgresql(session):
            session.execute(text("ANALYZE receipts"))
            return int(session.scalar(text(
                "SELECT reltuples FROM pg_class WHERE relname = :n"), {"n": name}))
        partial = session.scalar(text(
            "SELECT partial FROM pragma_index_list('receipts') WHERE name = :n"), {"n": name})
        assert partial == 1, f"{name} is not a partial index"
        return int(session.scalar(text(
            f"SELECT count(*) FROM receipts INDEXED BY {name} WHERE state = 'orphan'")))


def test_every_orphan_query_reads_the_partial_indexes(db: Database, plans: Plans) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1), number(2)])
    claimed = engine.claim()
    # one receipt before its submit is recorded (an orphan until then), one for an id
    # nobody sent (an orphan for good)
    assert engine.receipts([receipt("1a2b"), receipt("ffff", to=number(9))], NOW).orphans == 2
    engine.record(claimed, [ok("1a2b"), ok("1a2c")], NOW + timedelta(seconds=1))
    assert engine.receipts([receipt("1a2c", to=number(2))], LATER).applied == 1
    with db.transaction() as session:
        sweep_orphans(session, connector_id=engine.connector_id, id_format="hex",
                      mapping=StatusMapping(), config=engine.config, now=LATER)
        count, oldest = stale_orphans(session, now=NOW + timedelta(days=30))
    assert count == 1 and oldest[0]["operator_id"] == "ffff"
    # the lookup at record time, the sweep, the stale count and list
    assert len(plans.plans) >= 4, plans.plans
    for statement, plan in plans.plans:
        assert "ix_receipts_orphan_" in plan, (statement, plan)
    # the two receipts applied on arrival or at record time are in neither index
    assert _indexed(db, "ix_receipts_orphan_key") == 1
    assert _indexed(db, "ix_receipts_orphan_age") == 1
