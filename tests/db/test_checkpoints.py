"""Checkpoints on a thread of their own: the log stays small while the writers'
commits no longer checkpoint, and nothing committed is lost."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from sqlalchemy import text

from smscope.db import Database
from smscope.db.checkpoints import SAFETY_NET_PAGES


def _autocheckpoint(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def _write(db: Database, rows: int) -> None:
    with db.transaction() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, "
                             "body TEXT)"))
    for start in range(0, rows, 500):
        with db.transaction() as session:
            session.execute(text("INSERT INTO filler (body) VALUES (:body)"),
                            [{"body": "x" * 2000} for _ in range(start, min(rows, start + 500))])


def test_writers_leave_checkpoints_to_the_thread_and_the_log_stays_small(
        tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "c.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    try:
        assert _autocheckpoint(db) == 1000  # SQLite's default
        db.start_checkpoints()
        db.start_checkpoints()  # nested: one thread
        assert _autocheckpoint(db) == SAFETY_NET_PAGES
        checkpointer = db._checkpointer
        assert checkpointer is not None
        wal = Path(f"{path}-wal")
        for _ in range(12):  # 6,000 rows, about 3,000 pages: past the default threshold thrice
            _write(db, 500)
            # let the thread take a turn, however loaded the machine: the next commit
            # then starts the log over (its file keeps the largest size it reached)
            seen = checkpointer.checkpoints
            deadline = time.monotonic() + 10
            while checkpointer.checkpoints < seen + 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert checkpointer.checkpoints >= seen + 2
        # the log never held much more than one batch, not all 6,000 rows (12 MB)
        assert wal.stat().st_size < 3 * 500 * 2000
        db.stop_checkpoints()
        assert db._checkpointer is checkpointer  # the nested start still holds it
        db.stop_checkpoints()
        assert db._checkpointer is None
        assert _autocheckpoint(db) == 1000
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM filler")).scalar_one() == 6000
    finally:
        db.dispose()


def test_dispose_stops_the_thread_and_postgres_or_memory_need_none(
        tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "d.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    db.start_checkpoints()
    thread = db._checkpointer._thread  # type: ignore[union-attr]
    db.dispose()
    assert not thread.is_alive() and db._checkpointer is None
    memory = Database("sqlite:///:memory:")
    memory.start_checkpoints()
    assert memory._checkpointer is None
    memory.stop_checkpoints()
    memory.dispose()


def test_a_missing_file_folder_is_only_logged(tmp_path: Path) -> None:
    from smscope.db.checkpoints import Checkpointer

    checkpointer = Checkpointer(os.fspath(tmp_path / "no" / "such.db"), interval=0.01).start()
    checkpointer.stop()
    assert checkpointer.checkpoints == 0
