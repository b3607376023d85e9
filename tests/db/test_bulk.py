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
from smscope.db.sql import insert_rows, table_of, update_by_id
from smscope.db.tables import CreditReservation

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
