"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

__all__ = ["dialect_insert", "insert_ignore", "is_postgresql", "table_of", "update_by_id"]


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session) -> Any:
    """``insert`` of the session's dialect (it has ``on_conflict_do_*``)."""
    return pg_insert if is_postgresql(session) else sqlite_insert


def insert_ignore(session: Session, model: Any, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` in the session's dialect."""
    return dialect_insert(session)(model).on_conflict_do_nothing(index_elements=list(keys))


def table_of(model: Any) -> Table:
    """The Core table of a mapped class. Bulk statements on the table skip the ORM's
    per-row bookkeeping, which costs more than the database on hot paths (fan-out,
    dispatch, receipts)."""
    return cast(Table, model.__table__)


def update_by_id(session: Session, model: Any, columns: Sequence[str],
                 rows: Sequence[dict[str, Any]]) -> None:
    """``UPDATE <model> SET col = :col, … WHERE id = :_id`` for each row, in one
    executemany (Core, so the ORM does not load or track the rows)."""
    if not rows:
        return
    table = table_of(model)
    session.execute(
        update(table).where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in columns}),
        list(rows),
    )
