"""Shared fixtures: a fresh database on each backend, a throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from smscope.db import Database
from tests.support.postgres import PostgresCluster, find_bin_dir

pytest_plugins = ["tests.support.browser"]  # the browser and browser_page fixtures

settings.register_profile("smscope", max_examples=100, deadline=None)
settings.load_profile("smscope")

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    """One throwaway PostgreSQL server per test process, with a migrated template db."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        yield None
        return
    cluster = PostgresCluster(bin_dir).start()
    try:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE smscope_template"))
        admin.dispose()
        template = Database(cluster.url("smscope_template"))
        template.upgrade()
        template.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def make_database(backend: str, pg: PostgresCluster | None, sqlite_template: Path,
                  tmp_path: Path) -> Database:
    if backend == "sqlite":
        path = tmp_path / f"smscope-{next(_counter)}.db"
        shutil.copyfile(sqlite_template, path)
        return Database(f"sqlite:///{path}")
    if pg is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found on this machine")
    name = f"t{next(_counter)}_{tmp_path.name[-20:]}".lower().replace("-", "_")
    admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE smscope_template'))
    admin.dispose()
    return Database(pg.url(name))


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path,
       sqlite_template: Path) -> Iterator[Database]:
    """A fresh, migrated database: each test runs once on SQLite and once on PostgreSQL."""
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    database = make_database(request.param, pg, sqlite_template, tmp_path)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path,
          sqlite_template: Path) -> Iterator[Database]:
    """A fresh PostgreSQL database, for tests about concurrency between connections."""
    database = make_database("postgresql", request.getfixturevalue("pg_cluster"),
                             sqlite_template, tmp_path)
    try:
        yield database
    finally:
        database.dispose()


@dataclass
class Run:
    """What one CLI run did: exit status, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def smscope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run the CLI in-process against a fresh SQLite file in a fresh working directory."""
    from smscope import cli

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SMSCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def run(*args: str) -> Run:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            cli.main(list(args))
        captured = capsys.readouterr()
        return Run(int(exited.value.code or 0), captured.out, captured.err)

    return run
