"""The pump: status events → deliveries after per-endpoint cursors, never skipping an
event that commits late (PostgreSQL), never making one twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, insert, select

from smscope.db import Database
from smscope.db.tables import StatusEvent, WebhookDelivery, WebhookEndpoint
from smscope.webhooks.endpoints import add_endpoint
from smscope.webhooks.pump import EventPump, PumpResult
from tests.campaigns.helpers import NOW, Engine, number
from tests.webhooks.helpers import deliveries


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _message(db: Database) -> int:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    return engine.messages(campaign_id)[0].id


def _endpoint(db: Database, campaign_id: int | None = None) -> int:
    with db.transaction() as session:
        return add_endpoint(session, "http://127.0.0.1:9/h", campaign_id=campaign_id,
                            secret="s" * 16)[0].id


def _event(conn: Any, message_id: int, to: str = "sent") -> int:
    return int(conn.execute(insert(StatusEvent).values(
        message_id=message_id, at=NOW, from_status="queued", to_status=to, attempt=1,
        reason="test").returning(StatusEvent.id)).scalar_one())


def _pump(db: Database, pump: EventPump) -> PumpResult:
    with db.transaction() as session:
        return pump.run(session, now=NOW)


def _cursor(db: Database, endpoint_id: int) -> int:
    with db.session() as session:
        return int(session.scalar(select(WebhookEndpoint.cursor)
                                  .where(WebhookEndpoint.id == endpoint_id)) or 0)


def _delivered(db: Database) -> list[int]:
    return sorted(d.status_event_id or 0 for d in deliveries(db))


def test_an_event_that_commits_after_a_later_one_is_not_skipped(pg_db: Database) -> None:
    message_id = _message(pg_db)
    endpoint_id = _endpoint(pg_db)
    pump = EventPump(clock=Clock())
    with pg_db.engine.connect() as slow, pg_db.engine.connect() as fast:
        slow_tx = slow.begin()
        early = _event(slow, message_id)  # takes its id first, commits last
        with fast.begin():
            late = _event(fast, message_id, "delivered_to_operator")
        assert early < late
        assert _pump(pg_db, pump).deliveries == 1
        assert _delivered(pg_db) == [late]
        # a plain "id > cursor" reader would be past `early` now; the cursor waits
        assert _cursor(pg_db, endpoint_id) == early - 1
        slow_tx.commit()
    assert _pump(pg_db, pump).deliveries == 1
    assert _delivered(pg_db) == [early, late]
    assert _cursor(pg_db, endpoint_id) == late
    assert pump.gaps == {}


def test_a_rolled_back_event_id_stops_holding_the_cursor_once_it_cannot_appear(
        pg_db: Database) -> None:
    message_id = _message(pg_db)
    endpoint_id = _endpoint(pg_db)
    clock = Clock()
    pump = EventPump(clock=clock)
    with pg_db.engine.connect() as conn:
        with conn.begin() as tx:
            lost = _event(conn, message_id)
            tx.rollback()
        with conn.begin():
            kept = _event(conn, message_id)
    _pump(pg_db, pump)
    assert _delivered(pg_db) == [kept] and lost in pump.gaps
    assert _cursor(pg_db, endpoint_id) == lost - 1
    _pump(pg_db, pump)  # the transaction has ended, but the gap is younger than a second
    assert _cursor(pg_db, endpoint_id) == lost - 1
    clock.now += 2
    _pump(pg_db, pump)
    assert _cursor(pg_db, endpoint_id) == kept and pump.gaps == {}
    assert _delivered(pg_db) == [kept]


def test_a_gap_held_open_by_a_running_transaction_stays_open_however_old(
        pg_db: Database) -> None:
    message_id = _message(pg_db)
    endpoint_id = _endpoint(pg_db)
    clock = Clock()
    pump = EventPump(clock=clock)
    with pg_db.engine.connect() as slow, pg_db.engine.connect() as fast:
        slow_tx = slow.begin()
        early = _event(slow, message_id)
        with fast.begin():
            late = _event(fast, message_id)
        for _ in range(3):
            clock.now += 60
            _pump(pg_db, pump)
            assert _cursor(pg_db, endpoint_id) == early - 1
        slow_tx.commit()
    clock.now += 60
    _pump(pg_db, pump)
    assert _delivered(pg_db) == [early, late]


def test_a_restarted_pump_reads_from_the_cursor_again_without_duplicates(
        db: Database) -> None:
    message_id = _message(db)
    _endpoint(db)
    with db.engine.begin() as conn:
        ids = [_event(conn, message_id) for _ in range(5)]
    first = EventPump(batch=3)
    assert _pump(db, first) == PumpResult(events=3, deliveries=3, more=True)
    with db.transaction() as session:  # as if the cursor had not been stored
        session.execute(WebhookEndpoint.__table__.update().values(cursor=0))
    again = EventPump(batch=3)
    assert _pump(db, again).deliveries == 0
    assert _pump(db, again).deliveries == 2
    assert _delivered(db) == ids


def test_a_deleted_event_does_not_hold_the_cursor_on_sqlite(db: Database) -> None:
    message_id = _message(db)
    endpoint_id = _endpoint(db)
    with db.engine.begin() as conn:
        ids = [_event(conn, message_id) for _ in range(3)]
        conn.execute(delete(StatusEvent).where(StatusEvent.id == ids[1]))
    pump = EventPump()
    _pump(db, pump)
    assert _delivered(db) == [ids[0], ids[2]]
    if db.backend == "sqlite":
        assert _cursor(db, endpoint_id) == ids[2]


def test_without_endpoints_the_pump_reads_one_small_table_and_nothing_else(
        db: Database) -> None:
    message_id = _message(db)
    with db.engine.begin() as conn:
        _event(conn, message_id)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert _pump(db, EventPump()) == PumpResult()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and "webhook_endpoints" in statements[0]
    assert "status_events" not in statements[0]


def test_removed_endpoints_get_nothing_more(db: Database) -> None:
    message_id = _message(db)
    endpoint_id = _endpoint(db)
    from smscope.webhooks.endpoints import remove_endpoint

    with db.transaction() as session:
        remove_endpoint(session, endpoint_id)
    with db.engine.begin() as conn:
        _event(conn, message_id)
    _pump(db, EventPump())
    with db.session() as session:
        assert session.scalar(select(WebhookDelivery.id)) is None
