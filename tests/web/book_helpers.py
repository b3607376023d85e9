"""Helpers of the address-book, import, connectors, settings and credits page tests."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from smscope.contacts import blacklist as bl
from smscope.contacts import book
from smscope.db.tables import Import

PASSWORD = "correct horse battery staple"


def mobile(i: int) -> str:
    return f"+3361{i:07d}"


def add_contacts(site: Any, count: int, list_name: str = "customers") -> list[int]:
    """``count`` contacts in a list, made through the service; their ids."""
    with site.smscope.db.transaction() as session:
        made = book.create_list(session, list_name)
        ids = []
        for i in range(count):
            contact, _ = book.add_to_list(session, made.id, mobile(i), "FR")
            contact.first_name = f"Name{i}"
            ids.append(contact.id)
        return ids


def blacklist(site: Any, number: str) -> None:
    with site.smscope.db.transaction() as session:
        bl.add(session, number, reason="asked", actor="test")


def wait_for_import(site: Any, import_id: int, timeout: float = 30.0) -> Import:
    deadline = time.monotonic() + timeout
    while True:
        with site.smscope.db.session() as session:
            record = session.scalars(select(Import).where(Import.id == import_id)).one()
            if record.state != "running":
                session.expunge(record)
                return record
        assert time.monotonic() < deadline, "the import did not end"
        time.sleep(0.05)
