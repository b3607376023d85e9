"""Opening the database: SQLite by default, PostgreSQL by URL, schema kept current.

The only place that knows about engines, pragmas and migrations. Everything else gets
a :class:`Database` and asks it for a session (reads) or a transaction (writes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from smscope.db.checkpoints import SAFETY_NET_PAGES, Checkpointer
from smscope.errors import DatabaseError, SchemaOutdatedError

log = logging.getLogger(__name__)

#: execution option that makes a SQLite transaction take the write lock at BEGIN
_WRITE = "smscope_write"
#: PostgreSQL advisory lock key held while migrating ("smscope" in ASCII, truncated)
_MIGRATION_LOCK = 0x736D73636F7065


def normalize_url(url: str) -> str:
    """Accept the spellings people use and pick the drivers smscope ships with.

    ``postgres://`` and ``postgresql://`` get the psycopg 3 driver; a bare path is a
    SQLite file.
    """
    url = url.strip()
    if not url:
        raise DatabaseError("the database URL is empty; set database_url or SMSCOPE_DATABASE_URL")
    if "://" not in url:
        return f"sqlite:///{url}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def _sqlite_pragmas(dbapi_connection: Any, *, autocheckpoint: int | None = None) -> None:
    # Take transactions away from the sqlite3 module so that BEGIN is ours (see _begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    pragmas = [
        "journal_mode=WAL",  # readers never block the writer
        "synchronous=NORMAL",  # durable at checkpoints; safe with WAL
        "foreign_keys=ON",
        "busy_timeout=30000",  # wait for the writer instead of failing at once
        "cache_size=-16384",  # 16 MiB page cache: more made imports no faster
        "temp_store=MEMORY",
    ]
    if autocheckpoint is not None:  # checkpoints run on a thread (db/checkpoints.py)
        pragmas.append(f"wal_autocheckpoint={autocheckpoint}")
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that later writes can fail with SQLITE_BUSY without
    # waiting (lock upgrade deadlock); writers therefore take the lock at BEGIN.
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    location = resources.files("smscope.db") / "migrations"
    cfg.set_main_option("script_location", str(location))
    return cfg


class Database:
    """One database: an engine, session factories, and its schema's state."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        try:
            parsed = make_url(self.url)
        except sa_exc.ArgumentError:
            raise DatabaseError(
                f"{url!r} is not a database URL; use sqlite:///path/to/file.db "
                "or postgresql://user:password@host:port/dbname"
            ) from None
        self.backend = parsed.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise DatabaseError(
                f"unsupported database {self.backend!r}; smscope runs on SQLite or PostgreSQL"
            )
        self.display_url = parsed.render_as_string(hide_password=True)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                folder = Path(database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise DatabaseError(
                        f"cannot create the database {database}: folder {folder} does not exist"
                    )
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.engine: Engine = create_engine(self.url, **kwargs)
        self._checkpointer: Checkpointer | None = None
        self._checkpoint_users = 0
        self._checkpoint_lock = threading.Lock()
        if self.backend == "sqlite":
            event.listen(self.engine, "connect", self._on_sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    def _on_sqlite_connect(self, dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, autocheckpoint=SAFETY_NET_PAGES
                        if self._checkpointer is not None else None)

    # ------------------------------------------------------------------ checkpoints

    def start_checkpoints(self) -> None:
        """Run this SQLite file's WAL checkpoints on a thread of their own until the
        matching :meth:`stop_checkpoints` (see :mod:`smscope.db.checkpoints`); does
        nothing on PostgreSQL or an in-memory database. Calls nest."""
        database = make_url(self.url).database or ""
        if self.backend != "sqlite" or database in ("", ":memory:"):
            return
        with self._checkpoint_lock:
            self._checkpoint_users += 1
            if self._checkpointer is None:
                self._checkpointer = Checkpointer(database).start()
                # connections open from now on leave the checkpoints to the thread;
                # those idle in the pool are closed (those in use once returned)
                self.engine.dispose()

    def stop_checkpoints(self, *, every: bool = False) -> None:
        """The end of one :meth:`start_checkpoints` (``every``: of all of them); the
        last one stops the thread after a final checkpoint."""
        with self._checkpoint_lock:
            if self._checkpointer is None:
                return
            self._checkpoint_users = 0 if every else self._checkpoint_users - 1
            if self._checkpoint_users > 0:
                return
            checkpointer, self._checkpointer = self._checkpointer, None
            self.engine.dispose()
        checkpointer.stop()

    # ------------------------------------------------------------------ sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (and small writes the caller commits itself)."""
        with self._guard(), self._read() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self._guard(), self._write() as session, session.begin():
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sa_exc.OperationalError as exc:
            if exc.connection_invalidated or "connect" in str(exc.orig).lower():
                raise DatabaseError(
                    f"cannot reach the database {self.display_url}: {_first_line(exc.orig)}; "
                    "check database_url / SMSCOPE_DATABASE_URL"
                ) from None
            raise

    # ------------------------------------------------------------------ schema

    def current_revision(self) -> str | None:
        """The schema revision stored in the database (None for an empty database)."""
        with self._guard(), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str:
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None
        return head

    def upgrade(self) -> tuple[str | None, str]:
        """Apply every pending migration; returns (revision before, revision after)."""
        cfg = _alembic_config()
        # Several processes may open a new database at once: the first one migrates,
        # the others wait for it and then find nothing left to do.
        with self._guard(), self.engine.execution_options(**{_WRITE: True}).begin() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            before = MigrationContext.configure(conn).get_current_revision()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return before, self.head_revision()

    def ensure_schema(self) -> None:
        """Make sure the schema is current: create it in an empty database, refuse an old one.

        An old schema is not upgraded behind the user's back: other smscope processes
        may still be running the old code against it.
        """
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return
        if current is None:
            with self._guard(), self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
            if "alembic_version" in tables and self.current_revision() is not None:
                return self.ensure_schema()  # another process created it meanwhile
            if tables - {"alembic_version"}:
                raise SchemaOutdatedError(
                    f"the database {self.display_url} has tables but no smscope schema version; "
                    "point SMSCOPE_DATABASE_URL at an empty database or an smscope one"
                )
            log.info("creating the smscope schema in %s", self.display_url)
            self.upgrade()
            return
        scripts = ScriptDirectory.from_config(_alembic_config())
        try:
            known = scripts.get_revision(current) is not None
        except CommandError:
            known = False
        if not known:
            raise SchemaOutdatedError(
                f"the database {self.display_url} has schema {current}, unknown to this "
                "smscope (made by a newer version?); upgrade smscope"
            )
        raise SchemaOutdatedError(
            f"the database {self.display_url} has schema {current}, this smscope needs "
            f"{head}; run 'smscope db upgrade'"
        )

    def dispose(self) -> None:
        self.stop_checkpoints(every=True)
        self.engine.dispose()


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
