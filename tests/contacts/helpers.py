"""Small helpers shared by the address-book tests (files, numbers, database reads)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from smscope.contacts import import_contacts
from smscope.contacts.importer import ImportResult
from smscope.db import Database
from smscope.db.tables import Contact, ContactList, ListMember


def mobile(i: int) -> str:
    """The i-th French mobile number written the national way (06 1x xx xx xx)."""
    digits = f"061{i:07d}"
    return " ".join([digits[:2], digits[2:4], digits[4:6], digits[6:8], digits[8:]])


def e164(i: int) -> str:
    """The E.164 form of :func:`mobile`."""
    return f"+3361{i:07d}"


def csv_text(rows: Sequence[Sequence[str]], delimiter: str = ",",
             lineterminator: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerows(rows)
    return buffer.getvalue()


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def write_rows(path: Path, rows: Sequence[Sequence[str]], delimiter: str = ",") -> Path:
    return write(path, csv_text(rows, delimiter))


def run_import(db: Database, path: Path, list_name: str = "customers",
               **kwargs: Any) -> ImportResult:
    kwargs.setdefault("default_region", "FR")
    return import_contacts(db, path, list_name, **kwargs)


def total(result: ImportResult) -> int:
    return result.imported + result.updated + result.duplicates + result.invalid


def contacts(db: Database) -> dict[str, Contact]:
    """Every contact, by E.164 number."""
    with db.session() as session:
        return {c.number: c for c in session.scalars(select(Contact))}


def members(db: Database, list_name: str) -> list[str]:
    """The numbers in a list, sorted."""
    with db.session() as session:
        return sorted(session.scalars(
            select(Contact.number)
            .join(ListMember, ListMember.contact_id == Contact.id)
            .join(ContactList, ContactList.id == ListMember.list_id)
            .where(ContactList.name == list_name)
        ))


def read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    """The first bytes of an export (to check the BOM) and its parsed rows."""
    raw = path.read_bytes()
    return raw[:3], list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
