"""The bulk statements of :mod:`smscope.db.sql` store exactly what Core stores.

They bypass Core's per-row parameter handling for speed; a value converted differently
(a moment written in another text form on SQLite, a boolean, an amount of credits)
would compare wrongly with every other row, so the stored values are compared raw.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, select, text

from smscope.db import Database
from smscope.db.sql import insert_returning, insert_rows, table_of, update_by_id
from smscope.db.tables import Counter, CreditReservation

MOMENTS = [datetime(2026, 11, 24, 10, 0, tzinfo=UTC),  # no microseconds
           datetime(2026, 11, 24, 11, 0, 0, 250, tzinfo=timezone(timedelta(hours=1))),
           datetime(2026, 11, 24, 10, 0, 0, 999999, tzinfo=UTC), None]
COLUMNS = ("amount", "initial", "note", "created_at", "closed_at")


def _raw(db: Database) -> list[tuple[object, ...]]:
    with db.session() as session:
        return [tuple(row) for row in session.execute(text(
            "SELECT amount, initial, note, created_at, closed_at FROM credit_reservations "
            "ORDER BY id"))]


def _rows() -> list[dict[str, object]]:
    return [{"amount": Decimal("1.2345"), "initial": Decimal(2), "note": f"n{i}",
             "created_at": MOMENTS[i % 3], "closed_at": MOMENTS[(i + 1) % 4]}
            for i in range(8)]


def test_insert_rows_stores_what_core_stores(db: Database) -> None:
    with db.transaction() as session:
        session.execute(insert(table_of(CreditReservation)), _rows())
    core = _raw(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM credit_reservations"))
        insert_rows(session, CreditReservation, COLUMNS, _rows())
    assert _raw(db) == core
    with db.session() as session:
        read = session.scalars(select(CreditReservation.created_at)
                               .order_by(CreditReservation.id)).all()
    assert read == [MOMENTS[i % 3] for i in range(8)]


def test_update_by_id_stores_what_core_stores(db: Database) -> None:
    with db.transaction() as session:
        session.execute(insert(table_of(CreditReservation)), _rows())
        ids = session.scalars(select(CreditReservation.id)
                              .order_by(CreditReservation.id)).all()
    changed = [{"_id": i, "amount": Decimal("0.0001") * n, "closed_at": MOMENTS[n % 4]}
               for n, i in enumerate(ids)]
    with db.transaction() as session:
        update_by_id(session, CreditReservation, ("amount", "closed_at"), changed)
    bulk = _raw(db)
    with db.transaction() as session:
        for row in changed:
            session.execute(table_of(CreditReservation).update()
                            .where(table_of(CreditReservation).c.id == row["_id"])
                            .values(amount=row["amount"], closed_at=row["closed_at"]))
    assert _raw(db) == bulk
    assert [row[0] for row in bulk] == [row["amount"] * 10_000 for row in changed]


def test_insert_returning_stores_what_core_stores_and_skips_conflicts(db: Database) -> None:
    with db.transaction() as session:
        session.execute(insert(table_of(CreditReservation)), _rows())
    core = _raw(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM credit_reservations"))
        returned = insert_returning(session, CreditReservation, COLUMNS, _rows(),
                                    returning=("id", "note"))
    assert _raw(db) == core
    assert sorted(note for _, note in returned) == [f"n{i}" for i in range(8)]
    with db.session() as session:
        assert sorted(session.scalars(select(CreditReservation.id))) == sorted(
            i for i, _ in returned)
    # a row whose key exists returns nothing and changes nothing
    columns = ("campaign_id", "list_id", "name", "shard", "value")
    key = ("campaign_id", "list_id", "name", "shard")
    one = {"campaign_id": 1, "list_id": 0, "name": "sent", "shard": 0, "value": 5}
    other = {**one, "name": "received", "value": 2}
    with db.transaction() as session:
        first = insert_returning(session, Counter, columns, [one], returning=("name",),
                                 skip_conflicts_on=key)
        again = insert_returning(session, Counter, columns, [{**one, "value": 9}, other],
                                 returning=("name",), skip_conflicts_on=key)
    assert first == [("sent",)] and again == [("received",)]
    with db.session() as session:
        values = dict(session.execute(select(Counter.name, Counter.value)).all())
    assert values == {"sent": 5, "received": 2}


def test_moments_an_hour_apart_with_one_wall_clock_are_not_confused(db: Database) -> None:
    """02:30 in Paris before and after the end of summer time compare equal in Python;
    stored one after the other, each keeps its own instant."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    before = datetime(2026, 10, 25, 2, 30, tzinfo=paris)
    after = before.replace(fold=1)
    rows = [{**_rows()[0], "created_at": before}, {**_rows()[1], "created_at": after}]
    with db.transaction() as session:
        insert_rows(session, CreditReservation, COLUMNS, rows)
    with db.session() as session:
        stored = session.scalars(select(CreditReservation.created_at)
                                 .order_by(CreditReservation.id)).all()
    assert stored == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                      datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
