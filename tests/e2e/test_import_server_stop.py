"""An import running in the web server's background when the server stops: it stops
between two committed chunks and is recorded ``failed`` with what to do (import the
file again), instead of staying ``running`` for ever; what it committed stays, and its
temporary file is removed. Real ``smscope serve`` process, stopped by SIGTERM."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from smscope.accounts import tokens, users
from smscope.db import Database
from smscope.db.tables import Contact, Import
from tests.e2e.processes import environment, serve, stop

ROWS = 400_000  # about 15 s of importing: long enough to stop it in the middle


def big_csv() -> bytes:
    lines = ["phone,first_name"]
    lines.extend(f"06{10_000_000 + i:08d},P{i}" for i in range(ROWS))
    return ("\n".join(lines) + "\n").encode()


def uploads_left() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("smscope-upload-*")}


def test_an_import_stopped_with_the_server_says_so_and_keeps_its_rows(
        tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "smscope.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        users.create_user(session, "member@example.com", role="member",
                          password="a long enough password")
        token = tokens.create_token(session, "member@example.com").token
    before = uploads_left()
    log = tmp_path / "serve.log"
    process, base = serve(environment(db.url), log)
    try:
        answer = httpx.post(f"{base}/api/v1/imports", params={"list": "big"},
                            content=big_csv(), timeout=60,
                            headers={"Authorization": f"Bearer {token}",
                                     "Content-Type": "text/csv"})
        assert answer.status_code == 202, answer.text
        import_id = answer.json()["id"]
        deadline = time.monotonic() + 60
        while True:  # some chunks committed, the end far off
            with db.session() as session:
                record = session.get(Import, import_id)
                assert record is not None
                if record.imported > 0:
                    break
            assert record.state == "running", (record.state, record.error)
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        code = stop(process)
    assert code == 0, log.read_text()
    with db.session() as session:
        record = session.get(Import, import_id)
        assert record is not None
        contacts = session.scalar(select(func.count()).select_from(Contact))
    assert record.state == "failed", log.read_text()
    assert record.error and record.error.startswith(
        "interrupted: the server stopped while importing"), record.error
    assert "Import the same file again to finish" in record.error
    assert 0 < record.imported < ROWS and contacts == record.imported
    assert record.finished_at is not None
    assert uploads_left() <= before  # the upload's temporary file is gone
    db.dispose()
