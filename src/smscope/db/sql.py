"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Column, Connection, Dialect, Table, any_, bindparam
from sqlalchemy.dialects import postgresql as postgresql_types
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

__all__ = ["dialect_insert", "insert_ignore", "insert_returning", "insert_rows",
           "is_postgresql", "one_of", "table_of", "update_by_id", "upsert_rows"]


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session) -> Any:
    """``insert`` of the session's dialect (it has ``on_conflict_do_*``)."""
    return pg_insert if is_postgresql(session) else sqlite_insert


def insert_ignore(session: Session, model: Any, keys: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING`` in the session's dialect."""
    return dialect_insert(session)(model).on_conflict_do_nothing(index_elements=list(keys))


def one_of(column: Any, name: str, *, postgresql: bool) -> Any:
    """``column IN (:name…)`` for a statement built once and run with a list: on
    PostgreSQL ``column = ANY(:name)`` with the list as one array, which the planner
    matches through an index (a list of separate parameters was compared row by row
    on a young table); elsewhere an expanding ``IN``."""
    if postgresql:
        return column == any_(bindparam(name, type_=postgresql_types.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def table_of(model: Any) -> Table:
    """The Core table of a mapped class. Bulk statements on the table skip the ORM's
    per-row bookkeeping, which costs more than the database on hot paths (fan-out,
    dispatch, receipts)."""
    return cast(Table, model.__table__)


def update_by_id(session: Session, model: Any, columns: Sequence[str],
                 rows: Sequence[dict[str, Any]]) -> None:
    """``UPDATE <model> SET col = ?, … WHERE id = ?`` for each row (``_id``: the row's
    id), in one DB-API executemany."""
    if not rows:
        return
    table = table_of(model)
    _executemany(session, table, [*columns, "id"], rows, lambda quote, mark: (
        f"UPDATE {quote(table.name)} SET "
        + ", ".join(f"{quote(name)} = {mark}" for name in columns)
        + f" WHERE {quote('id')} = {mark}"), key_of={"id": "_id"})


def insert_rows(session: Session, model: Any, columns: Sequence[str],
                rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT INTO <model> (columns) VALUES (?, …)`` for each row, in one DB-API
    executemany. Every column of ``columns`` must be in every row: Python-side column
    defaults are not applied."""
    upsert_rows(session, model, columns, rows)


def upsert_rows(session: Session, model: Any, columns: Sequence[str],
                rows: Sequence[dict[str, Any]], *, conflict: Sequence[str] = (),
                add: Sequence[str] = ()) -> None:
    """:func:`insert_rows`; with ``conflict`` (the columns of a unique key), a row whose
    key exists adds its ``add`` columns to the stored ones instead (``ON CONFLICT … DO
    UPDATE``, spelt the same on SQLite and PostgreSQL)."""
    if not rows:
        return
    table = table_of(model)

    def sql(quote: Callable[[str], str], mark: str) -> str:
        text = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))})")
        if conflict:
            sums = ", ".join(f"{quote(c)} = {quote(table.name)}.{quote(c)} + excluded.{quote(c)}"
                             for c in add)
            text += (f" ON CONFLICT ({', '.join(quote(c) for c in conflict)}) "
                     + (f"DO UPDATE SET {sums}" if add else "DO NOTHING"))
        return text

    _executemany(session, table, list(columns), rows, sql)


def insert_returning(session: Session, model: Any, columns: Sequence[str],
                     rows: Sequence[dict[str, Any]], *, returning: Sequence[str],
                     skip_conflicts_on: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """``INSERT INTO <model> (columns) VALUES (…), (…), … [ON CONFLICT (keys) DO NOTHING]
    RETURNING …``: one statement per 1,000 rows; the returned columns of the rows
    inserted (a row skipped for a conflict returns nothing), as the DB-API gives them
    (no result processing: ask for ids and plain strings)."""
    if not rows:
        return []
    table = table_of(model)
    connection, quote, mark, plan = _prepare(session, table, list(columns))
    one = f"({', '.join([mark] * len(columns))})"
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
    tail = ""
    if skip_conflicts_on:
        tail += f" ON CONFLICT ({', '.join(quote(c) for c in skip_conflicts_on)}) DO NOTHING"
    tail += f" RETURNING {', '.join(quote(c) for c in returning)}"
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        params = [row[key] if convert is None else convert(row[key])
                  for row in chunk for key, convert in plan]
        result = connection.exec_driver_sql(head + ", ".join([one] * len(chunk)) + tail,
                                            tuple(params))
        out.extend(tuple(r) for r in result)
    return out


#: bind processors by (dialect class, column): found once per process
_PROCESSORS: dict[tuple[type, Column[Any]], Callable[[Any], Any] | None] = {}


def _executemany(session: Session, table: Table, columns: list[str],
                 rows: Sequence[dict[str, Any]],
                 sql: Callable[[Callable[[str], str], str], str],
                 key_of: dict[str, str] | None = None) -> None:
    """Run ``sql`` once per row through the DB-API's executemany.

    Core executemany costs several microseconds of Python per row (parameter
    construction, processing of every value) — more than the database's own work on
    the bulk paths of the receipt pipeline. Here each value goes through its column
    type's bind processor (the same conversion Core would make: credits, moments in
    UTC, booleans), and nothing else.
    """
    connection, quote, mark, plan = _prepare(session, table, columns, key_of)
    params = [tuple(row[key] if convert is None else convert(row[key])
                    for key, convert in plan) for row in rows]
    connection.exec_driver_sql(sql(quote, mark), params)


_Plan = list[tuple[str, Callable[[Any], Any] | None]]


def _prepare(session: Session, table: Table, columns: list[str],
             key_of: dict[str, str] | None = None,
             ) -> tuple[Connection, Callable[[str], str], str, _Plan]:
    """What a raw statement on ``table`` needs: the session's connection (the ORM's
    pending changes flushed first, as ``session.execute`` would), the dialect's
    identifier quoting and parameter mark, and for each column the row key it is read
    from (``key_of`` renames) with the column type's bind processor."""
    session.flush()
    connection = session.connection()
    dialect: Dialect = connection.dialect
    plan = [((key_of or {}).get(name, name), _processor(dialect, table.c[name]))
            for name in columns]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    return connection, dialect.identifier_preparer.quote, mark, plan


def _processor(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any] | None:
    key = (type(dialect), column)
    if key not in _PROCESSORS:
        # through the dialect's own implementation of the type, as Core does (SQLite's
        # DATETIME writes the fixed-width text every stored moment is compared in)
        _PROCESSORS[key] = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _PROCESSORS[key]
