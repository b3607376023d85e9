"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Column, Dialect, Table, any_, bindparam
from sqlalchemy.dialects import postgresql as postgresql_types
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

__all__ = ["Conversions", "Driver", "bind_plan", "bind_value", "convert_row", "dialect_insert",
           "insert_ignore", "insert_returning", "insert_rows", "is_postgresql", "one_of",
           "result_plan", "table_of", "update_by_id", "upsert_rows"]


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
    id), in one statement (per 1,000 rows on SQLite; see :meth:`Driver.update`)."""
    if not rows:
        return
    table = table_of(model)
    driver = Driver.of(session)
    convert = _converter(driver.dialect, table, (*columns, "id"), (("id", "_id"),))
    driver.update(table, columns, [convert(row) for row in rows])


def insert_rows(session: Session, model: Any, columns: Sequence[str],
                rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT INTO <model> (columns) VALUES (?, …)`` for each row (see
    :meth:`Driver.insert`). Every column of ``columns`` must be in every row:
    Python-side column defaults are not applied."""
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
    driver = Driver.of(session)
    convert = _converter(driver.dialect, table, tuple(columns), None)
    driver.insert(table, columns, [convert(row) for row in rows], conflict=conflict, add=add)


def insert_returning(session: Session, model: Any, columns: Sequence[str],
                     rows: Sequence[dict[str, Any]], *, returning: Sequence[str],
                     skip_conflicts_on: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """``INSERT INTO <model> (columns) … [ON CONFLICT (keys) DO NOTHING] RETURNING …``
    in one statement (per 1,000 rows on SQLite); the returned columns of the rows
    inserted (a row skipped for a conflict returns nothing), as the DB-API gives them
    (no result processing: ask for ids and plain strings)."""
    if not rows:
        return []
    table = table_of(model)
    driver = Driver.of(session)
    convert = _converter(driver.dialect, table, tuple(columns), None)
    return driver.insert(table, columns, [convert(row) for row in rows],
                         conflict=skip_conflicts_on, returning=returning)


#: bind processors by (dialect class, column): found once per process
_PROCESSORS: dict[tuple[type, Column[Any]], Callable[[Any], Any] | None] = {}
_CONVERTERS: dict[tuple[Any, ...], Callable[[dict[str, Any]], list[Any]]] = {}


def _converter(dialect: Dialect, table: Table, columns: tuple[str, ...],
               key_of: tuple[tuple[str, str], ...] | None,
               ) -> Callable[[dict[str, Any]], list[Any]]:
    """A row dict → the parameters of ``columns``, each through its column type's bind
    processor; a column is read from the row key ``key_of`` gives it, else its name.
    Built once per dialect, table and columns: only the columns with a processor
    convert anything."""
    key = (type(dialect), table.name, columns, key_of)
    found = _CONVERTERS.get(key)
    if found is not None:
        return found
    renamed = dict(key_of or ())
    keys = [renamed.get(name, name) for name in columns]
    conversions = bind_plan(dialect, [table.c[name] for name in columns])

    def convert(row: dict[str, Any]) -> list[Any]:
        values = [row[k] for k in keys]
        for n, process in conversions:
            values[n] = process(values[n])
        return values

    _CONVERTERS[key] = convert
    return convert


def _processor(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any] | None:
    key = (type(dialect), column)
    if key not in _PROCESSORS:
        # through the dialect's own implementation of the type, as Core does (SQLite's
        # DATETIME writes the fixed-width text every stored moment is compared in)
        _PROCESSORS[key] = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _PROCESSORS[key]


class Driver:
    """The DB-API connection of a session's transaction, for the few statements that
    run for every batch of receipts.

    A statement through the ORM session costs about 100 µs of Python before it reaches
    the driver, through ``exec_driver_sql`` about 20 µs, on the DB-API connection a few:
    at batches of 50 receipts, that was a fixed cost of a millisecond a batch. Values
    are converted by each column type's own processors (:func:`bind_plan`,
    :func:`result_plan`), as Core would.
    """

    __slots__ = ("_statements", "connection", "dialect", "mark", "postgresql", "quote")

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.connection: Any = connection.connection.dbapi_connection
        self.dialect: Dialect = connection.dialect
        self.postgresql = self.dialect.name == "postgresql"
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self.quote: Callable[[str], str] = self.dialect.identifier_preparer.quote
        self._statements = _STATEMENTS.setdefault((type(self.dialect), self.mark), {})

    @classmethod
    def of(cls, session: Session) -> Driver:
        """The driver of the session's current transaction, found once per transaction
        (finding the connection costs more than a statement on it). The ORM's pending
        changes are flushed first, as ``session.execute`` would."""
        session.flush()
        transaction = session.get_transaction()
        cached = session.info.get(_DRIVER)
        if cached is not None and cached[0] is transaction:
            return cached[1]  # type: ignore[no-any-return]
        driver = cls(session)  # begins the transaction if it was not yet
        session.info[_DRIVER] = (session.get_transaction(), driver)
        return driver

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query, as the driver gives them."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()  # type: ignore[no-any-return]
        finally:
            cursor.close()

    def many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """``sql`` once per parameter tuple (one pipeline on PostgreSQL)."""
        if not params:
            return
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement that returns nothing."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()

    def update(self, table: Table, columns: Sequence[str],
               params: Sequence[Sequence[Any]]) -> None:
        """``UPDATE table SET columns WHERE id`` for each parameter row: the values of
        ``columns`` then the id, converted (:func:`bind_plan`).

        On PostgreSQL one statement joining the rows given as one array per column:
        an executemany is a statement per row, each run by the server on its own
        (about 100 µs a row there). On SQLite ``UPDATE … FROM (VALUES …)``, one
        statement per 1,000 rows (see :meth:`_rows_at_once`); an id twice, row by
        row (which row of a join wins is not defined)."""
        if not params:
            return
        unique = len({row[-1] for row in params}) == len(params)
        columnar = self.postgresql and unique
        # on SQLite, several rows: UPDATE … FROM (VALUES …), where _ROWS goes
        joined = not self.postgresql and _UPDATE_FROM and unique and len(params) > 1
        key = ("update", columnar, joined, table.name, tuple(columns))
        sql = self._statements.get(key)
        if sql is None:
            q = self.quote
            if joined:
                width = len(columns) + 1
                sql = (f"UPDATE {q(table.name)} SET "
                       + ", ".join(f"{q(c)} = v.column{n + 1}" for n, c in enumerate(columns))
                       + f" FROM (VALUES {_ROWS}) AS v "
                       f"WHERE {q(table.name)}.{q('id')} = v.column{width}")
            elif columnar:
                sql = (f"UPDATE {q(table.name)} AS t SET "
                       + ", ".join(f"{q(c)} = v.{q(c)}" for c in columns)
                       + f" FROM {self._unnest(table, (*columns, 'id'))} "
                       f"WHERE t.{q('id')} = v.{q('id')}")
            else:  # (on PostgreSQL, an id twice: the last row wins, as one by one)
                sql = (f"UPDATE {q(table.name)} SET "
                       + ", ".join(f"{q(c)} = {self.mark}" for c in columns)
                       + f" WHERE {q('id')} = {self.mark}")
            self._statements[key] = sql
        if columnar:
            self.execute(sql, _by_column(params, len(columns) + 1))
        elif joined:
            self._rows_at_once(sql, len(columns) + 1, params)
        else:
            self.many(sql, params)

    def insert(self, table: Table, columns: Sequence[str], params: Sequence[Sequence[Any]],
               *, conflict: Sequence[str] = (), add: Sequence[str] = (),
               returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
        """``INSERT INTO table (columns)`` each parameter row (converted); with
        ``conflict`` (a unique key), a row whose key exists adds its ``add`` columns to
        the stored ones, or is skipped when ``add`` is empty; returns the ``returning``
        columns of the rows inserted. On PostgreSQL one statement, the rows given as
        one array per column (see :meth:`update`); on SQLite a multi-row ``VALUES``,
        one statement per 1,000 rows (see :meth:`_rows_at_once`)."""
        if not params:
            return []
        if self.postgresql and not returning and add:
            # one statement cannot update a row twice: a key twice goes row by row
            at = [list(columns).index(c) for c in conflict]
            columnar = len({tuple(row[n] for n in at) for row in params}) == len(params)
        else:
            columnar = self.postgresql
        # SQLite: one statement for many rows (see _rows_at_once; a key twice is fine
        # there: rows are inserted in turn, the second one adds); PostgreSQL with a
        # key twice: row by row
        form = ("columns" if columnar
                else "row" if not returning and (self.postgresql or len(params) == 1)
                else "rows")
        key = ("insert", form, table.name, tuple(columns), tuple(conflict), tuple(add),
               tuple(returning))
        sql = self._statements.get(key)
        if sql is None:
            sql = self._statements[key] = self._insert_sql(table, columns, form, conflict,
                                                           add, returning)
        if form == "columns":
            by_column = _by_column(params, len(columns))
            if returning:
                return [tuple(row) for row in self.rows(sql, by_column)]
            self.execute(sql, by_column)
            return []
        if form == "row":
            self.many(sql, params)
            return []
        return self._rows_at_once(sql, len(columns), params)

    def _rows_at_once(self, sql: str, width: int,
                      params: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``sql`` with its :data:`_ROWS` made of as many rows as ``params`` has (in
        chunks of :data:`_ROWS_AT_ONCE`), run once per chunk; the rows it returns.

        Rather than an executemany on SQLite: that steps the statement once per row,
        and each step lets go of the interpreter lock and takes it back. In a worker
        the event loop's thread wants the lock meanwhile (it decodes the next
        receipts), and each hand over may be a wait; one statement is one. In the
        receipt flood the gain was smaller than the noise between minutes
        (bench/README.md); alone it costs the same CPU.
        """
        one = f"({', '.join([self.mark] * width)})"
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(params), _ROWS_AT_ONCE):
            chunk = params[start:start + _ROWS_AT_ONCE]
            out.extend(tuple(r) for r in self.rows(
                sql.replace(_ROWS, ", ".join([one] * len(chunk))),
                [value for row in chunk for value in row]))
        return out

    def _insert_sql(self, table: Table, columns: Sequence[str], form: str,
                    conflict: Sequence[str], add: Sequence[str],
                    returning: Sequence[str]) -> str:
        """The text of :meth:`insert`: rows as arrays (``columns``), one row per
        statement (``row``), or :data:`_ROWS` where the rows' places go (``rows``)."""
        q = self.quote
        text = f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) "
        if form == "columns":
            text += f"SELECT * FROM {self._unnest(table, columns)}"
        elif form == "rows":
            text += f"VALUES {_ROWS}"
        else:
            text += f"VALUES ({', '.join([self.mark] * len(columns))})"
        if conflict:
            sums = ", ".join(f"{q(c)} = {q(table.name)}.{q(c)} + excluded.{q(c)}" for c in add)
            text += (f" ON CONFLICT ({', '.join(q(c) for c in conflict)}) "
                     + (f"DO UPDATE SET {sums}" if add else "DO NOTHING"))
        if returning:
            text += f" RETURNING {', '.join(q(c) for c in returning)}"
        return text

    def _unnest(self, table: Table, columns: Sequence[str]) -> str:
        """``unnest(%s::type[], …) AS v(columns)``: rows given as one array per column."""
        arrays = ", ".join(f"{self.mark}::{table.c[c].type.compile(dialect=self.dialect)}[]"
                           for c in columns)
        return f"unnest({arrays}) AS v({', '.join(self.quote(c) for c in columns)})"

    def one_of(self, column: str, values: Sequence[Any],
               array: str) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: the SQL and its parameters, for short lists
        (a long one is better joined as a table: see the receipts' read). On PostgreSQL
        ``= ANY(array)``, one statement text whatever the count, the array typed as the
        column is (``array``: ``varchar``, ``integer``…); on SQLite an ``IN`` list
        padded (with its last value) to a power of two, so that a few statement texts
        serve every batch from the driver's cache of prepared statements."""
        if self.postgresql:
            return f"{column} = ANY({self.mark}::{array}[])", [list(values)]
        size = 8
        while size < len(values):
            size *= 2
        padded = [*values, *[values[-1]] * (size - len(values))] if values else [None] * size
        return f"{column} IN ({', '.join([self.mark] * size)})", padded


Conversions = tuple[tuple[int, Callable[[Any], Any]], ...]


def bind_plan(dialect: Dialect, columns: Sequence[Column[Any]]) -> Conversions:
    """``(position, bind processor)`` of each column of ``columns`` that has one."""
    return tuple((n, convert) for n, column in enumerate(columns)
                 if (convert := _processor(dialect, column)) is not None)


def bind_value(dialect: Dialect, column: Column[Any], value: Any) -> Any:
    """``value`` as the driver is given it for ``column`` (its type's bind processor)."""
    convert = _processor(dialect, column)
    return value if convert is None else convert(value)


def result_plan(dialect: Dialect, columns: Sequence[Column[Any]]) -> Conversions:
    """``(position, result processor)`` of each column of ``columns`` that has one
    (found once per dialect and columns)."""
    key = (type(dialect), tuple(columns))
    plan = _RESULT_PLANS.get(key)
    if plan is None:
        plan = _RESULT_PLANS[key] = tuple(
            (n, convert) for n, column in enumerate(columns)
            if (convert := column.type.dialect_impl(dialect).result_processor(
                dialect, None)) is not None)
    return plan


def convert_row(row: Sequence[Any], plan: Conversions) -> list[Any]:
    """``row`` with the conversions of ``plan`` applied."""
    out = list(row)
    for n, convert in plan:
        out[n] = convert(out[n])
    return out


#: statement texts by (dialect class, parameter mark), then by what they do
_STATEMENTS: dict[tuple[type, str], dict[tuple[Any, ...], str]] = {}


#: where the rows' places go in a multi-row insert of :meth:`Driver.insert`
_ROWS = "<rows>"
#: rows in one statement of :meth:`Driver._rows_at_once` (at most 9 columns so far: far
#: below SQLite's limit of 32,766 parameters)
_ROWS_AT_ONCE = 1000
#: ``UPDATE … FROM`` (SQLite 3.33): older libraries update row by row
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)


def _by_column(params: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Parameter rows as one list per column."""
    return [[row[n] for row in params] for n in range(width)]


#: the key of a session's :class:`Driver` in ``session.info``
_DRIVER = "smscope.driver"
_RESULT_PLANS: dict[tuple[type, tuple[Column[Any], ...]], Conversions] = {}
