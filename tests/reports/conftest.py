"""Fixtures of the report tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from smscope.db import Database


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite database: for the renderings (HTML, PDF, email), which
    read the same report on every backend (the report itself is tested on both)."""
    path = tmp_path / "report.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        database.dispose()
