"""CSV import into a list: every row accounted for, nothing valid lost, bounded memory.

Each row ends as ``imported`` (a new contact), ``updated`` (the number was already in
the address book, changed or not), ``duplicate`` (the number appeared earlier in the
same file) or ``invalid`` (with the reason). A bad row never stops the import.

Rows are handled in chunks: each chunk costs a handful of set-based statements (look up
existing numbers, insert new contacts, update old ones, add memberships) in one
transaction, so a million rows import at close to the speed of parsing the numbers,
and an interrupted import keeps every chunk it committed. Memory stays bounded: the
only thing kept across chunks is the set of numbers already seen (as integers), which
in-file duplicate detection needs.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pyroaring import BitMap64
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from smscope import numbers
from smscope.contacts.book import get_or_create_list, insert_ignore
from smscope.contacts.csvfile import ColumnMapping, CsvSource, map_columns, open_csv, strip_quote
from smscope.csvio import SafeCsvWriter, neutralise, open_export
from smscope.db import Database
from smscope.db.tables import (
    BlacklistEntry,
    Contact,
    ContactList,
    Import,
    ImportReject,
    ListMember,
)
from smscope.db.types import utcnow
from smscope.errors import (
    ImportFileError,
    ImportOptionError,
    ImportStoppedError,
    InvalidNumberError,
    NotFoundError,
)
from smscope.pagination import Page, fetch_page

# Core tables: bulk statements with executemany, no ORM unit of work per row.
CONTACTS = cast(Table, Contact.__table__)
REJECTS = cast(Table, ImportReject.__table__)
MEMBERS = cast(Table, ListMember.__table__)

CHUNK_ROWS = 5000
#: files at least this big are parsed in a second process (see _parsed_batches)
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
#: batches handed to the parsing process ahead of the writer
IN_FLIGHT = 2
MAX_NAME = 200
MAX_FIELD = 1000

#: called with (bytes read so far, total bytes) as the import advances
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """The outcome of one import, row by row totals included."""

    list_name: str
    list_id: int
    import_id: int
    rows: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    rejects_file: str | None = None
    #: invalid rows by reason code (not_a_number, invalid, line_type, no_region…)
    reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape of ``smscope contacts import`` (issue contract)."""
        return {
            "list": self.list_name,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
        }


@dataclass
class _Row:
    number: int
    e164: str
    region: str | None
    first_name: str | None
    last_name: str | None
    fields: dict[str, str]


@dataclass
class _Reject:
    number: int
    outcome: str  # invalid | duplicate
    reason: str  # the sentence for people
    cells: list[str]
    code: str = "invalid"  # groups reasons in summaries

    def as_csv_row(self, width: int) -> list[str]:
        """Original cells with ``reason`` in the column after the header's last."""
        return reject_row(self.cells, width, self.reason)


class _Chunk:
    def __init__(self) -> None:
        self.rows: list[_Row] = []
        self.rejects: list[_Reject] = []


def _cell(cells: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return strip_quote(cells[index].strip()).strip()


@dataclass(frozen=True)
class _RowParser:
    """Turns raw cells into a contact row or a rejection with its reason.

    Pure and picklable: large imports run it in a second process (see
    :func:`_parsed_batches`) while this one writes to the database. In-file duplicates
    are found afterwards, in order, by :func:`_split_duplicates`.
    """

    width: int
    mapping: ColumnMapping
    default_region: str | None

    def parse(self, batch: list[tuple[int, list[str] | None, str | None]]
              ) -> list[_Row | _Reject]:
        return [self._one(number, cells, error) for number, cells, error in batch]

    def _one(self, number: int, cells: list[str] | None, error: str | None
             ) -> _Row | _Reject:
        if cells is None:
            return _Reject(number, "invalid", error or "unreadable row", [], "unreadable")
        reason = self._shape_problem(cells)
        if reason is not None:
            return _Reject(number, "invalid", reason, cells, "columns")
        try:
            e164 = numbers.normalize(_cell(cells, self.mapping.number), self.default_region)
        except InvalidNumberError as exc:
            return _Reject(number, "invalid", str(exc), cells, exc.reason)
        m = self.mapping
        first, last = _cell(cells, m.first_name), _cell(cells, m.last_name)
        fields = {name: value for i, name in m.custom.items() if (value := _cell(cells, i))}
        reason = self._length_problem(first, last, fields)
        if reason is not None:
            return _Reject(number, "invalid", reason, cells, "too_long")
        return _Row(number, e164, numbers.region_of(e164), first or None, last or None, fields)

    def _shape_problem(self, cells: Sequence[str]) -> str | None:
        if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            # More cells than the header: the columns have probably shifted (an
            # unquoted delimiter inside a name), so the number cell cannot be trusted.
            return (f"row has {len(cells)} columns, the header has {self.width}; "
                    "quote cells that contain the delimiter")
        if self.mapping.number >= len(cells) or not cells[self.mapping.number].strip():
            return "no phone number in this row"
        return None

    @staticmethod
    def _length_problem(first: str, last: str, fields: dict[str, str]) -> str | None:
        for label, value in (("first name", first), ("last name", last)):
            if len(value) > MAX_NAME:
                return f"{label} longer than {MAX_NAME} characters"
        for name, value in fields.items():
            if len(value) > MAX_FIELD:
                return f"field {name!r} longer than {MAX_FIELD} characters"
        return None


def _split_duplicates(parsed: list[_Row | _Reject], seen: BitMap64) -> _Chunk:
    """Sort a parsed batch into rows and rejects; a number seen before is a duplicate.

    ``seen`` holds every number of the file so far as an integer, in a compressed
    bitmap (pyroaring): 2 MB for a million numbers, where a Python set takes 60.
    A duplicate is recorded with its row number and a reason
    naming the number, not its cells: carrying every row's cells back from the parsing
    process only for the 1 % of duplicates cost more than it told.
    """
    chunk = _Chunk()
    for item in parsed:
        if isinstance(item, _Reject):
            chunk.rejects.append(item)
            continue
        key = int(item.e164[1:])
        if key in seen:
            chunk.rejects.append(_Reject(item.number, "duplicate",
                                         f"{item.e164} already appears earlier in this file",
                                         [], "duplicate"))
            continue
        seen.add(key)
        chunk.rows.append(item)
    return chunk


def _batches(source: CsvSource) -> Iterator[list[tuple[int, list[str] | None, str | None]]]:
    batch: list[tuple[int, list[str] | None, str | None]] = []
    for row in source.rows():
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _parsed_batches(source: CsvSource, parser: _RowParser) -> Iterator[list[_Row | _Reject]]:
    """Parse the file's rows batch by batch, in a second process for large files.

    Validating numbers costs about as much as writing them; on a machine with two
    cores, parsing batch n+1 while batch n is written nearly doubles the speed of a
    large import. A few batches are in flight at most, so memory stays bounded.
    """
    if source.size < PARALLEL_MIN_BYTES or (os.cpu_count() or 1) < 2:
        for batch in _batches(source):
            yield parser.parse(batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: deque[Future[list[_Row | _Reject]]] = deque()
        for batch in _batches(source):
            pending.append(pool.submit(parser.parse, batch))
            if len(pending) >= IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _store_chunk(session: Session, chunk: _Chunk, list_id: int, import_id: int) -> tuple[int, int]:
    """Write one chunk; returns (imported, updated)."""
    now = utcnow()
    rows = chunk.rows
    connection = session.connection()
    imported = updated = 0
    if rows:
        wanted = [r.e164 for r in rows]
        blacklisted: set[str] = set()
        if session.scalar(select(BlacklistEntry.id).limit(1)) is not None:
            blacklisted = set(session.scalars(
                select(BlacklistEntry.number).where(BlacklistEntry.number.in_(wanted))))
        values = [
            {
                "number": r.e164, "region": r.region, "first_name": r.first_name,
                "last_name": r.last_name, "fields": r.fields,
                "state": "blacklisted" if r.e164 in blacklisted else "active",
                "state_reason": "on the blacklist" if r.e164 in blacklisted else None,
                "state_changed_at": now if r.e164 in blacklisted else None,
            }
            for r in rows
        ]
        # Insert first, look up after: most rows of an import are new, and the insert
        # tells which ones were (RETURNING gives only the rows it inserted); the others
        # already existed, or a concurrent import created them meanwhile.
        # Core, not the ORM bulk path: one executemany, no per-row unit of work. The
        # database stamps the times: binding a datetime per row was a fifth of the time.
        stmt = insert_ignore(session, CONTACTS, ["number"]).values(
            created_at=func.current_timestamp(), updated_at=func.current_timestamp()
        ).returning(CONTACTS.c.number, CONTACTS.c.id)
        ids = {number: cid for number, cid in connection.execute(stmt, values)}
        existing = _existing(session, [n for n in wanted if n not in ids])
        ids.update({number: cid for number, (cid, _) in existing.items()})
        changes = [
            {"b_id": existing[r.e164][0], "b_first": r.first_name, "b_last": r.last_name,
             "b_fields": {**(existing[r.e164][1] or {}), **r.fields}, "b_now": now}
            for r in rows if r.e164 in existing
        ]
        if changes:
            connection.execute(
                update(CONTACTS)
                .where(CONTACTS.c.id == bindparam("b_id"))
                .values(
                    first_name=_coalesce("b_first", CONTACTS.c.first_name),
                    last_name=_coalesce("b_last", CONTACTS.c.last_name),
                    fields=bindparam("b_fields", type_=CONTACTS.c.fields.type),
                    updated_at=bindparam("b_now", type_=CONTACTS.c.updated_at.type),
                ),
                changes,
            )
        updated = len(changes)
        imported = len(rows) - updated
        connection.execute(
            insert_ignore(session, MEMBERS, ["list_id", "contact_id"]).values(
                added_at=func.current_timestamp()),
            [{"list_id": list_id, "contact_id": ids[r.e164]} for r in rows],
        )
    if chunk.rejects:
        connection.execute(
            REJECTS.insert(),
            [{"import_id": import_id, "row_number": r.number, "outcome": r.outcome,
              "reason": r.reason[:500], "cells": {"values": r.cells}} for r in chunk.rejects],
        )
    return imported, updated


def _existing(session: Session, numbers_: list[str]) -> dict[str, tuple[int, Any]]:
    """Contacts already stored for these numbers: number → (id, custom fields)."""
    if not numbers_:
        return {}
    rows = session.execute(select(Contact.id, Contact.number, Contact.fields)
                           .where(Contact.number.in_(numbers_)))
    return {number: (cid, fields) for cid, number, fields in rows}


def _coalesce(param: str, column: Any) -> Any:
    return func.coalesce(bindparam(param, type_=column.type), column)


def import_contacts(
    db: Database,
    path: str | Path,
    list_name: str,
    *,
    default_region: str | None = None,
    delimiter: str | None = None,
    phone_column: str | None = None,
    mapping: Sequence[str] = (),
    rejects: str | Path | None = None,
    progress: Progress | None = None,
    actor: str = "cli",
) -> ImportResult:
    """Import a CSV file into a list (created if needed); see the module docstring.

    Raises :class:`ImportFileError` only when the file as a whole cannot be imported
    (missing, unreadable, no phone column, rejects file not writable); bad rows are
    counted and reported, never raised.
    """
    started = start_import(db, path, list_name, default_region=default_region,
                           delimiter=delimiter, phone_column=phone_column, mapping=mapping,
                           rejects=rejects, actor=actor)
    return started.run(progress)


def start_import(
    db: Database,
    path: str | Path,
    list_name: str,
    *,
    default_region: str | None = None,
    delimiter: str | None = None,
    phone_column: str | None = None,
    mapping: Sequence[str] = (),
    rejects: str | Path | None = None,
    actor: str = "cli",
    filename: str | None = None,
) -> StartedImport:
    """Check the file and the options, and record the import (state ``running``):
    everything that makes the whole file unusable is raised here, before a row is
    read, so the web app can answer the form at once and run :meth:`StartedImport.run`
    in the background. ``filename`` is the name to record (an upload's own name)."""
    if not list_name.strip():
        raise ImportOptionError("--list needs a name, e.g. --list customers")
    source = open_csv(path, delimiter=delimiter)
    reject_stream = None
    try:
        columns = map_columns(source.header, phone_column=phone_column, overrides=mapping)
        if rejects is not None and _same_file(source.path, rejects):
            # Opening it for writing would empty the file being imported.
            raise ImportFileError(
                f"the rejects file {rejects} is the file being imported; give another name"
            )
        reject_stream = _open_rejects(rejects)
        options = {"default_region": default_region, "delimiter": source.delimiter,
                   "phone_column": phone_column, "mapping": list(mapping)}
        with db.transaction() as session:
            contact_list = get_or_create_list(session, list_name.strip())
            record = Import(list_id=contact_list.id,
                            filename=(filename or str(source.path))[:500], actor=actor,
                            size=source.size, header=list(source.header), options=options)
            session.add(record)
            session.flush()
            result = ImportResult(contact_list.name, contact_list.id, record.id)
    except BaseException:
        source.close()
        if reject_stream is not None:
            reject_stream[0].close()
        raise
    return StartedImport(db, source, columns, default_region, reject_stream, rejects, result)


@dataclass
class StartedImport:
    """An import whose file is open and whose record exists: :meth:`run` reads it."""

    db: Database
    source: CsvSource
    columns: ColumnMapping
    default_region: str | None
    reject_stream: tuple[Any, Any] | None
    rejects_path: str | Path | None
    result: ImportResult

    @property
    def import_id(self) -> int:
        return self.result.import_id

    def run(self, progress: Progress | None = None) -> ImportResult:
        """Read and store every row; the record's state ends ``done`` or ``failed``."""
        try:
            return _run(self.db, self.source, self.columns, self.default_region,
                        self.reject_stream, progress, self.rejects_path, self.result)
        finally:
            self.source.close()
            if self.reject_stream is not None:
                self.reject_stream[0].close()


def _same_file(a: Path, b: str | Path) -> bool:
    try:
        return Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


class _RejectWriter:
    """The rejects CSV, written like every export, keeping cells beyond the header.

    :class:`SafeCsvWriter` writes as many cells as the header has: a row rejected for
    having too many columns would lose those after ``reason``, often the phone number.
    """

    def __init__(self, stream: Any, header: Sequence[str]) -> None:
        SafeCsvWriter(stream, header)  # writes the header row
        self._writer = csv.writer(stream, lineterminator="\r\n")

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([neutralise(v) for v in row])


def reject_row(cells: Sequence[str], width: int, reason: str) -> list[str]:
    """A rejected row as the rejects file writes it: its original cells, then the
    reason in the column after the header's last (cells beyond the header after it)."""
    cells = list(cells)
    padded = cells[:width] + [""] * (width - len(cells))
    return [*padded, reason, *cells[width:]]


class RejectsCsv:
    """Stored rejected rows written as the ``--rejects`` file is: the header and
    ``reason``, then each row's cells and its reason."""

    def __init__(self, stream: Any, header: Sequence[str]) -> None:
        self._width = len(header)
        self._writer = _RejectWriter(stream, [*header, "reason"])

    def add(self, cells: Sequence[str], reason: str) -> None:
        self._writer.writerow(reject_row(cells, self._width, reason))


def _open_rejects(rejects: str | Path | None) -> tuple[Any, Any] | None:
    if rejects is None:
        return None
    try:
        stream = open_export(rejects)
    except OSError as exc:
        raise ImportFileError(
            f"cannot write the rejects file {rejects}: {exc.strerror or exc}"
        ) from None
    return stream, None


def _run(db: Database, source: CsvSource, columns: ColumnMapping,
         default_region: str | None, reject_stream: tuple[Any, Any] | None,
         progress: Progress | None, rejects_path: str | Path | None,
         result: ImportResult) -> ImportResult:
    writer = None
    if reject_stream is not None:
        writer = _RejectWriter(reject_stream[0], [*source.header, "reason"])
    parser = _RowParser(len(source.header), columns, default_region)
    seen = BitMap64()
    try:
        for parsed in _parsed_batches(source, parser):
            _flush(db, _split_duplicates(parsed, seen), result, writer, source)
            if progress:
                progress(source.bytes_read, source.size)
    except BaseException as exc:
        error = str(exc) if isinstance(exc, ImportStoppedError) else f"stopped: {exc!r}"
        with db.transaction() as session:
            session.execute(update(Import).where(Import.id == result.import_id).values(
                state="failed", error=error[:2000], finished_at=utcnow()))
        raise
    if progress:
        progress(source.size, source.size)
    with db.transaction() as session:
        session.execute(update(Import).where(Import.id == result.import_id).values(
            state="done", bytes_read=source.size, finished_at=utcnow()))
    result.rejects_file = str(rejects_path) if rejects_path is not None else None
    return result


def _flush(db: Database, chunk: _Chunk, result: ImportResult,
           writer: _RejectWriter | None, source: CsvSource) -> None:
    width = len(source.header)
    with db.transaction() as session:
        imported, updated = _store_chunk(session, chunk, result.list_id, result.import_id)
        invalid = sum(1 for r in chunk.rejects if r.outcome == "invalid")
        duplicates = len(chunk.rejects) - invalid
        result.imported += imported
        result.updated += updated
        result.invalid += invalid
        result.duplicates += duplicates
        result.rows += len(chunk.rows) + len(chunk.rejects)
        session.execute(update(Import).where(Import.id == result.import_id).values(
            rows=result.rows, imported=result.imported, updated=result.updated,
            duplicates=result.duplicates, invalid=result.invalid,
            bytes_read=source.bytes_read))
    for reject in chunk.rejects:
        if reject.outcome == "invalid":
            result.reasons[reject.code] = result.reasons.get(reject.code, 0) + 1
            if writer is not None:
                writer.writerow(reject.as_csv_row(width))


# ----------------------------------------------------------------------------- reading


def import_to_json(record: Import, list_name: str | None) -> dict[str, Any]:
    """An import as the API and its page show it (progress included)."""
    return {
        "id": record.id, "list": list_name, "list_id": record.list_id,
        "filename": record.filename, "state": record.state, "size": record.size,
        "bytes_read": record.bytes_read, "rows": record.rows, "imported": record.imported,
        "updated": record.updated, "duplicates": record.duplicates,
        "invalid": record.invalid, "error": record.error, "actor": record.actor,
        "options": record.options or {}, "header": record.header or [],
        "started_at": record.started_at, "finished_at": record.finished_at,
    }


def get_import(session: Session, import_id: int) -> dict[str, Any]:
    record = session.get(Import, import_id)
    if record is None:
        raise NotFoundError(f"there is no import {import_id}")
    name = session.scalar(select(ContactList.name).where(ContactList.id == record.list_id))
    return import_to_json(record, name)


def recent_imports(session: Session, limit: int = 10) -> list[dict[str, Any]]:
    rows = session.execute(select(Import, ContactList.name)
                           .outerjoin(ContactList, ContactList.id == Import.list_id)
                           .order_by(Import.id.desc()).limit(limit))
    return [import_to_json(record, name) for record, name in rows]


def rejects_page(session: Session, import_id: int, *, cursor: str | None = None,
                 limit: int | None = None) -> Page[dict[str, Any]]:
    """The rows of an import that were not imported, in file order, with why."""
    get_import(session, import_id)
    rows, next_cursor = fetch_page(
        session, select(ImportReject).where(ImportReject.import_id == import_id),
        ImportReject.id, cursor=cursor, limit=limit)
    return Page([{"row": r.row_number, "outcome": r.outcome, "reason": r.reason,
                  "cells": (r.cells or {}).get("values", [])} for r in rows], next_cursor)


def iter_rejects(session: Session, import_id: int, batch: int = 5000
                 ) -> Iterator[tuple[list[str], str]]:
    """Every invalid row (cells, reason) in file order, read in batches: what the
    ``--rejects`` file holds (duplicates are counted and listed, not written: their
    first occurrence was imported)."""
    after = 0
    while True:
        rows = session.execute(
            select(ImportReject.id, ImportReject.cells, ImportReject.reason)
            .where(ImportReject.import_id == import_id, ImportReject.id > after,
                   ImportReject.outcome == "invalid")
            .order_by(ImportReject.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield (row.cells or {}).get("values", []), row.reason
        after = rows[-1].id
