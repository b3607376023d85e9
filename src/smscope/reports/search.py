"""Monitoring: search every message (SPEC §5.2, CONTRACTS §2 and §11).

Filters by creation day (a message belongs to the day it was created, in the account's
zone), campaign, sender, number, text, status, category and connector; one page at a
time, newest first, or the whole result for a CSV export.

**Order.** Newest first: ``created_at`` descending, then ``id`` descending (a fan-out
gives every message of a campaign the same ``created_at``; the id orders them). It is
the order of the date filter's own column, so a date range is one stretch of the index
``ix_messages_created (created_at, id)`` read backwards, and the order stays the one
people read in even where ids and creation times disagree (a test send queued while a
long fan-out is being written gets a smaller id than the fan-out's last messages but a
later ``created_at``).

**Pages.** Keyset: the cursor holds the last row's ``(created_at, id)``; the next page
is read by two seeks into an index in the search's order (the rest of the cursor's
moment, ``created_at = … AND id < …``, then ``created_at < …``), so page 1,000 costs
what page 1 does. Which index (all led by the filtered column, then ``created_at``):

* number, campaign, sender, connector: ``ix_messages_number`` and
  ``ix_messages_search_*``. Those columns never change once a message is written: the
  indexes cost the fan-out an insert each, and a status change nothing on SQLite (on
  PostgreSQL an UPDATE of an indexed column, as a status is, adds an entry to every
  index). With several, the first of that list leads the ``ORDER BY``, so that only
  its index gives the order;
* a status outside pending and delivered (errors, bounces, not sent): the partial
  index ``ix_messages_search_problem``, which a message enters once, when it ends so;
  test sends: the partial index ``ix_messages_search_test``;
* otherwise ``ix_messages_created``, dates bounding the stretch read.

Common statuses, categories and text have no index of their own (status and category
change with every receipt; a substring cannot use a B-tree: a trigram index over every
message's text would cost the fan-out more than it has): they filter the rows of the
chosen index as it is read, so a page reads about ``limit / share`` rows, where
``share`` is the part of the rows read that match — cheap for common values. For rare
ones a page reads at most :data:`SCAN_LIMIT` rows, in growing windows whose ends are
found on the index alone; it may then be short, even empty, and its cursor goes on
where the reading stopped (:class:`SearchPage` ``searched_to``). The CSV export reads
the whole range. Combine a text with dates or a campaign to bound it.

**Test sends** are messages too: listed with status and category ``test`` (their
delivery status is in the campaign report's test list), and found by ``--status test``
or ``--category test``; any other status or category leaves them out.

**Number.** Any format :func:`smscope.numbers.normalize` accepts, matched exactly
against the stored E.164 number. There is no partial-digits search: a substring of a
number cannot use an index, and ``--number`` answers "what happened to this person's
messages", which is one lookup. A text ``normalize`` refuses (not a number, an invalid
one) is looked up as typed: that is how a campaign's invalid ad-hoc numbers are stored.

**Text.** A substring, case-insensitive for every alphabet (not only ASCII) on both
databases, whatever the database's locale; wildcards typed by the user are matched
literally (see :func:`_contains`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from smscope import numbers
from smscope.campaigns.service import get_campaign
from smscope.csvio import SafeCsvWriter, neutralise, open_export
from smscope.db.sql import one_of
from smscope.db.tables import SEARCH_PROBLEM, SEARCH_TEST, Connector, Message
from smscope.errors import InvalidNumberError, NotFoundError, OutputFileError, UsageError
from smscope.inputs import refuse_nul
from smscope.output import credits_text, local_time
from smscope.pagination import Page, check_limit, decode_keys, encode_keys, split_page
from smscope.reports.days import day_bounds, parse_day
from smscope.statuses import Category, Status

__all__ = ["CSV_COLUMNS", "ITEM_KEYS", "SCAN_LIMIT", "MessageFilters", "SearchPage",
           "csv_chunks", "export_csv", "iter_messages", "search_messages", "write_csv"]

#: the keys of a JSON item, in order (CONTRACTS §11)
ITEM_KEYS = ("id", "campaign_id", "sender", "number", "text", "segments", "credits",
             "connector", "status", "category", "created_at", "sent_at",
             "status_updated_at")
#: the CSV columns: the monitoring columns of SPEC §5.2 first, then the rest
CSV_COLUMNS = ("sender", "number", "text", "credits", "sent_at", "status_updated_at",
               "status", "id", "campaign_id", "category", "connector", "segments",
               "created_at")
#: rows read per statement while streaming the whole result
EXPORT_BATCH = 2000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TEST = "test"
_COLUMNS = (Message.id, Message.campaign_id, Message.kind, Message.sender, Message.number,
            Message.text, Message.segments, Message.credits, Message.connector_id,
            Message.status, Message.category, Message.created_at, Message.sent_at,
            Message.status_updated_at)
#: categories of the partial index ix_messages_search_problem
_PROBLEMS = frozenset(Category) - {Category.PENDING, Category.DELIVERED, Category.TEST}


@dataclass(frozen=True)
class MessageFilters:
    """What to search for; every field left ``None`` matches every message.

    ``date_from`` and ``date_to`` are days of the account's zone, both included;
    ``connector`` is a connector's name; ``status`` and ``category`` are canonical ids
    (:class:`~smscope.statuses.Status`, :class:`~smscope.statuses.Category`).
    """

    date_from: date | None = None
    date_to: date | None = None
    campaign_id: int | None = None
    sender: str | None = None
    number: str | None = None
    text: str | None = None
    status: str | None = None
    category: str | None = None
    connector: str | None = None

    @classmethod
    def from_options(cls, *, date_from: str | None = None, date_to: str | None = None,
                     **others: Any) -> MessageFilters:
        """Filters as typed on the command line or in a query string (dates as
        ``YYYY-MM-DD``); blank values are no filter. A NUL character is refused: no
        stored value has one, and PostgreSQL cannot even compare with it."""
        for name, value in {"from": date_from, "to": date_to, **others}.items():
            refuse_nul(value, f"--{name}", field=name)
        filters = cls(date_from=parse_day(date_from, "--from") if date_from else None,
                      date_to=parse_day(date_to, "--to") if date_to else None, **others)
        blank = {f.name: None for f in fields(cls)
                 if isinstance(getattr(filters, f.name), str)
                 and not getattr(filters, f.name).strip()}
        return replace(filters, **blank) if blank else filters


# --------------------------------------------------------------------------- pages


def search_messages(session: Session, filters: MessageFilters, *, cursor: str | None = None,
                    limit: int | None = None, zone: ZoneInfo,
                    default_region: str | None = None) -> SearchPage:
    """One page of the messages matching ``filters``, newest first.

    ``zone`` is the account's (the days of the date filters); ``default_region`` reads
    a national-format ``number``. Raises :class:`UsageError` for a malformed filter or
    cursor and :class:`NotFoundError` for an unknown campaign or connector.

    A page reads at most :data:`SCAN_LIMIT` messages: a rare text (or status, or
    category) over a long stretch gives a short page, possibly empty, whose
    ``next_cursor`` goes on where the reading stopped (``searched_to`` says how far
    back it went), so that no request holds the database for seconds.
    """
    limit = check_limit(limit)
    after = _position(cursor)
    statement = _statement(session, filters, zone, default_region)
    if not statement.selective:
        rows, paused = _read(session, statement, after, limit + 1), None
    else:
        rows, paused = _read_page(session, statement, after, limit + 1)
    page, next_cursor = split_page(rows, limit, _keys)
    if paused is not None and next_cursor is None:
        next_cursor = encode_keys(*_keys(paused))
        return SearchPage(_items(session, page), next_cursor, searched_to=paused.created_at)
    return SearchPage(_items(session, page), next_cursor)


@dataclass
class SearchPage(Page[dict[str, Any]]):
    """A page of a search; ``searched_to`` is set when the page stopped short of
    ``limit`` items because it read :data:`SCAN_LIMIT` messages: the creation moment
    it read back to (the cursor goes on from there)."""

    searched_to: datetime | None = None


def iter_messages(session: Session, filters: MessageFilters, *, zone: ZoneInfo,
                  default_region: str | None = None,
                  batch: int = EXPORT_BATCH) -> Iterator[dict[str, Any]]:
    """Every message matching ``filters``, newest first, read ``batch`` rows at a time
    (the same keyset as the pages): memory stays bounded whatever the result's size.

    The filters are checked at once (a bad one raises here, not at the first row).
    """
    return _stream(session, _statement(session, filters, zone, default_region), batch)


def _stream(session: Session, statement: _Statement,
            batch: int) -> Iterator[dict[str, Any]]:
    names = _connector_names(session)
    after: tuple[datetime, int] | None = None
    while True:
        rows = _read(session, statement, after, batch)
        yield from (_item(row, names) for row in rows)
        if len(rows) < batch:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _seeks(statement: _Statement, after: tuple[datetime, int] | None,
           down_to: Any = None) -> list[list[Any]]:
    """The seeks that read, in order, the rows of ``statement`` after the position
    ``after`` down to the position ``down_to`` (included; None: to the end).

    Each is one range of the index with one bound a side, the tightest of the dates,
    the cursor and the window: SQLite reads ``(created_at, id) < (…)`` in a descending
    scan as ``created_at <= …`` and filters the rest, and of two lower bounds it may
    stop at the looser, reading every row between. A fan-out gives a whole campaign one
    ``created_at``, so either read every row of that moment: a page deep in a campaign,
    or a window ending inside it, read the whole campaign.
    """
    start, end = statement.start, statement.end

    def inside(moment: datetime) -> bool:
        return (start is None or moment >= start) and (end is None or moment < end)

    seeks: list[list[Any]] = []
    # the rest of the cursor's moment
    if after is not None and inside(after[0]):
        same = [Message.created_at == after[0], Message.id < after[1]]
        if down_to is not None and down_to.created_at == after[0]:
            return [[*same, Message.id >= down_to.id]]
        seeks.append(same)
    # the moments between: one range
    between: list[Any] = []
    if after is not None and (end is None or after[0] < end):
        between.append(Message.created_at < after[0])
    elif end is not None:
        between.append(Message.created_at < end)
    if down_to is not None:
        between.append(Message.created_at > down_to.created_at)
    elif start is not None:
        between.append(Message.created_at >= start)
    seeks.append(between)
    # the window's last moment, down to its last row
    if down_to is not None:
        seeks.append([Message.created_at == down_to.created_at, Message.id >= down_to.id])
    return seeks


def _read(session: Session, statement: _Statement, after: tuple[datetime, int] | None,
          limit: int, *, down_to: Any = None) -> list[Any]:
    """Up to ``limit`` rows of ``statement`` after the position ``after``, in order
    (and not past the position ``down_to`` when given)."""
    rows: list[Any] = []
    for seek in _seeks(statement, after, down_to):
        rows += session.execute(statement.query.where(*seek).order_by(*statement.order)
                                .limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    return rows


#: the most messages one page of a selective search reads (about 50 ms on SQLite)
SCAN_LIMIT = 100_000
#: the first window read for a page, in rows per row wanted; each next one is larger
_FIRST_WINDOW = 64
_GROWTH = 8


def _read_page(session: Session, statement: _Statement, after: tuple[datetime, int] | None,
               limit: int) -> tuple[list[Any], Any]:
    """Up to ``limit`` rows of a selective statement after ``after``, reading at most
    :data:`SCAN_LIMIT` rows of its index; and the position where the reading paused
    (None when the rows run out or the page is full).

    The index is read window by window, each window bounded by its last position found
    with an index-only probe (``OFFSET`` on the index, no table row read), so the
    statement cannot read past it; windows grow, so that a common value costs one small
    window and a rare one a few larger ones.
    """
    rows: list[Any] = []
    read, window = 0, _FIRST_WINDOW * limit
    position = after
    while True:
        window = min(window, SCAN_LIMIT - read)
        boundary = _boundary(session, statement, position, window)
        rows += _read(session, statement, position, limit - len(rows), down_to=boundary)
        if len(rows) >= limit or boundary is None:
            return rows, None
        read += window
        if read >= SCAN_LIMIT:
            return rows, boundary
        position = (boundary.created_at, boundary.id)
        window *= _GROWTH


def _boundary(session: Session, statement: _Statement,
              after: tuple[datetime, int] | None, window: int) -> Any:
    """The position of the ``window``-th row of the index after ``after`` (None when
    there are fewer): where a window of the reading ends."""
    for seek in _seeks(statement, after):
        # a probe per seek, each with the whole window: when the cursor's moment holds
        # fewer rows, the window overshoots by those few
        probe = statement.probe.where(*seek).order_by(*statement.order)
        found = session.execute(probe.offset(window - 1).limit(1)).first()
        if found is not None:
            return found
    return None


def _keys(row: Any) -> tuple[int, int]:
    return (row.created_at - _EPOCH) // _MICROSECOND, row.id


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    """The ``(created_at, id)`` a cursor holds (None: the first page)."""
    keys = decode_keys(cursor, 2)
    if keys is None:
        return None
    micros, last_id = keys
    try:
        return _EPOCH + micros * _MICROSECOND, last_id
    except OverflowError:
        raise UsageError(f"invalid cursor {cursor!r}; use the next_cursor of the previous "
                         "page") from None


def _items(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    names = _connector_names(session) if rows else {}
    return [_item(row, names) for row in rows]


def _item(row: Any, names: dict[int, str]) -> dict[str, Any]:
    test = row.kind == _TEST
    return {
        "id": row.id, "campaign_id": row.campaign_id, "sender": row.sender,
        "number": row.number, "text": row.text, "segments": row.segments,
        "credits": row.credits, "connector": names.get(row.connector_id),
        "status": _TEST if test else row.status, "category": _TEST if test else row.category,
        "created_at": row.created_at, "sent_at": row.sent_at,
        "status_updated_at": row.status_updated_at,
    }


def _connector_names(session: Session) -> dict[int, str]:
    # a handful of rows: read whole rather than joined into every message
    return {cid: name for cid, name in session.execute(select(Connector.id, Connector.name))}


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class _Statement:
    """The search's statement (filtered, not yet paged) and the order it is read in.

    ``probe`` selects the position (``created_at, id``) of the rows the chosen index
    holds, in the same order, with only the conditions that index answers;
    ``selective`` says that the statement also filters those rows by something the
    index does not hold and that may be rare (a text, a common status, a category, a
    second equality), so that a page is read window by window (:func:`_read_page`).
    """

    query: Select[*tuple[Any, ...]]
    order: tuple[Any, ...]
    probe: Select[*tuple[Any, ...]]
    selective: bool = False
    #: the date filters' range of ``created_at`` (``start`` included, ``end`` not)
    start: datetime | None = None
    end: datetime | None = None


def _statement(session: Session, filters: MessageFilters, zone: ZoneInfo,
               default_region: str | None) -> _Statement:
    """The search's statement; every filter is checked first."""
    dialect = session.get_bind().dialect.name
    start, end = day_bounds(filters.date_from, filters.date_to, zone)
    status = _status_conditions(filters.status, filters.category, dialect)
    indexed = list(status.indexed)
    others = list(status.others)
    selective = status.selective
    # the filters with an index (column, created_at[, id]) of their own, best first
    equal: list[tuple[Any, Any]] = []
    if filters.number is not None:
        equal.append((Message.number, _number(filters.number, default_region)))
    if filters.campaign_id is not None:
        get_campaign(session, filters.campaign_id)
        equal.append((Message.campaign_id, filters.campaign_id))
    if filters.sender is not None:
        equal.append((Message.sender, filters.sender.strip()))
    if filters.connector is not None:
        equal.append((Message.connector_id, _connector_id(session, filters.connector)))
    if filters.text is not None and filters.text.strip():
        others.append(_contains(filters.text.strip(), dialect))
        selective = True
    others += [column == value for column, value in equal[1:]]
    selective = selective or len(equal) > 1
    order: tuple[Any, ...] = (Message.created_at.desc(), Message.id.desc())
    position = (Message.created_at, Message.id)
    if not equal:
        return _Statement(select(*_COLUMNS).where(*indexed, *others), order,
                          select(*position).where(*indexed), selective, start, end)
    # The first of them leads the order, so that only its index gives the order without
    # a sort. On PostgreSQL it is written ``= ANY(array)``: with ``=`` the planner drops
    # a constant from the order and may read the (created_at, id) index instead,
    # filtering as it goes — every newer row, for a sender last used long ago (906,201
    # rows read for a page of 100 in a million messages).
    column, value = equal[0]
    lead = one_of(column, "lead", postgresql=dialect == "postgresql")
    query = select(*_COLUMNS).where(lead, *indexed, *others).params(lead=[value])
    probe = select(*position).where(lead, *indexed).params(lead=[value])
    return _Statement(query, (column.desc(), *order), probe, selective, start, end)


@dataclass(frozen=True)
class _StatusConditions:
    """The status and category filters: those an index answers, the others, and
    whether the others may keep only a few of the rows read."""

    indexed: tuple[Any, ...] = ()
    others: tuple[Any, ...] = ()
    selective: bool = False


def _status_conditions(status: str | None, category: str | None,
                       dialect: str) -> _StatusConditions:
    wanted_status = _choice(status, "--status", Status) if status is not None else None
    wanted_category = (_choice(category, "--category", Category)
                       if category is not None else None)
    if wanted_status is None and wanted_category is None:
        return _StatusConditions()
    if wanted_status is not None and wanted_category is not None:
        if wanted_status.category is not wanted_category:
            raise UsageError(
                f"--status {wanted_status} is in the category {wanted_status.category}, "
                f"not {wanted_category}; give one of the two")
        wanted_category = None  # implied by the status
    if wanted_status is Status.TEST or wanted_category is Category.TEST:
        # the words of the partial index of test sends
        return _StatusConditions(indexed=(sql_text(SEARCH_TEST),))
    # a test send keeps its real delivery status in the table, shown as "test"
    others: list[Any] = [Message.kind != _TEST]
    if wanted_status is not None and wanted_status.category in _PROBLEMS:
        # the words of the partial index of problem statuses: it holds every row wanted
        return _StatusConditions(
            indexed=(Message.status == wanted_status.value, sql_text(SEARCH_PROBLEM)),
            others=tuple(others))
    if wanted_status is not None:
        # Common statuses are read off the index of the order (a page reads about
        # limit / share rows); SQLite, without statistics, would rather take the
        # dispatch index (status, next_attempt_at) and sort every such message.
        column = Message.status + "" if dialect == "sqlite" else Message.status
        others.append(column == wanted_status.value)
    if wanted_category is not None:
        others.append(Message.category == wanted_category.value)
    return _StatusConditions(others=tuple(others), selective=True)


def _choice(value: str, option: str, kind: type[Status] | type[Category]) -> Any:
    text = value.strip().lower()
    try:
        return kind(text)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise UsageError(f"{option} {value!r} is unknown; use one of: {known}") from None


def _connector_id(session: Session, name: str) -> int:
    found = session.scalar(select(Connector.id).where(Connector.name == name.strip()))
    if found is None:
        known = list(session.scalars(select(Connector.name).order_by(Connector.name)))
        hint = (f"; known connectors: {', '.join(known)}" if known
                else "; there are no connectors yet")
        raise NotFoundError(f"--connector {name!r}: no connector has this name{hint}")
    return found


def _number(raw: str, default_region: str | None) -> str:
    try:
        return numbers.normalize(raw, default_region)
    except InvalidNumberError as exc:
        if exc.reason == "no_region":
            raise UsageError(f"--number: {exc}") from None
        # invalid ad-hoc numbers are stored as typed (cut to the column's size)
        return raw.strip()[:16]


def _contains(term: str, dialect: str) -> Any:
    """``Message.text`` contains ``term``, whatever the case of its letters.

    LIKE (ILIKE on PostgreSQL) finds it fast but folds the case of ASCII letters only
    (PostgreSQL: in the database's locale), so the other letters are wildcards there,
    and a case-sensitive pattern where each letter is the class of its cases checks
    the candidates: a ``GLOB`` on SQLite, a regular expression on PostgreSQL.
    """
    escaped = "".join(_like_piece(c) for c in term)
    if dialect == "postgresql":
        found = Message.text.ilike(f"%{escaped}%", escape="\\")
    else:  # SQLite's LIKE already ignores the case of ASCII letters
        found = Message.text.like(f"%{escaped}%", escape="\\")
    if not any(_folds_beyond_ascii(c) for c in term):
        return found
    if dialect == "postgresql":
        exact = Message.text.regexp_match("".join(_regex_piece(c) for c in term))
    else:
        exact = Message.text.op("GLOB")("*" + "".join(_glob_piece(c) for c in term) + "*")
    return and_(found, exact)


def _like_piece(char: str) -> str:
    if _folds_beyond_ascii(char):
        return "_"
    return "\\" + char if char in "%_\\" else char


def _folds_beyond_ascii(char: str) -> bool:
    return not char.isascii() and len(_cases(char)) > 1


def _cases(char: str) -> str:
    """The one-character cases of ``char`` (``"eE"``, ``"éÉ"``; ``"1"`` for a digit)."""
    variants = dict.fromkeys([char, char.lower(), char.upper(), char.casefold()])
    return "".join(v for v in variants if len(v) == 1)


def _glob_piece(char: str) -> str:
    cases = _cases(char)
    if len(cases) > 1:
        return f"[{cases}]"
    return f"[{char}]" if char in "*?[" else char


def _regex_piece(char: str) -> str:
    cases = _cases(char)
    if len(cases) > 1:
        return f"[{cases}]"
    # in PostgreSQL's regular expressions a backslash before anything but a letter or
    # a digit means that character itself
    return char if char.isalnum() else "\\" + char


# --------------------------------------------------------------------------- CSV


def write_csv(stream: IO[str], items: Iterator[dict[str, Any]], zone: ZoneInfo,
              progress: Callable[[int], None] | None = None) -> int:
    """Write ``items`` as the monitoring CSV export (open ``stream`` with
    :func:`smscope.csvio.open_export`); returns the number of rows.

    Moments are written in ``zone`` with their offset; the ``number`` column is left as
    it is only when it holds an E.164 number (an invalid ad-hoc number is stored as
    typed and neutralised like any other cell).
    """
    writer = SafeCsvWriter(stream, CSV_COLUMNS, raw_columns=("number",))
    count = 0
    for item in items:
        writer.writerow(_csv_row(item, zone))
        count += 1
        if progress is not None and count % EXPORT_BATCH == 0:
            progress(count)
    return count


def csv_chunks(items: Iterator[dict[str, Any]], zone: ZoneInfo,
               batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The monitoring CSV export (the same bytes :func:`write_csv` writes to a file,
    BOM included) as pieces of text of ``batch`` rows each, for an answer streamed
    over HTTP: memory stays bounded whatever the result's size."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = SafeCsvWriter(buffer, CSV_COLUMNS, raw_columns=("number",))
    for count, item in enumerate(items, start=1):
        writer.writerow(_csv_row(item, zone))
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_row(item: dict[str, Any], zone: ZoneInfo) -> list[Any]:
    number = item["number"]
    return [
        item["sender"], number if _is_e164(number) else neutralise(number), item["text"],
        credits_text(item["credits"]), local_time(item["sent_at"], zone),
        local_time(item["status_updated_at"], zone), item["status"], item["id"],
        item["campaign_id"], item["category"], item["connector"], item["segments"],
        local_time(item["created_at"], zone),
    ]


def _is_e164(number: str) -> bool:
    return number.startswith("+") and number[1:].isdigit() and 2 <= len(number) <= 16


def export_csv(session: Session, filters: MessageFilters, path: str | Path, *,
               zone: ZoneInfo, default_region: str | None = None,
               progress: Callable[[int], None] | None = None) -> int:
    """Write every message matching ``filters`` to the CSV file ``path``; returns the
    number of rows. The filters are checked before the file is touched, and the file
    appears whole or not at all (written beside it, then renamed)."""
    items = iter_messages(session, filters, zone=zone, default_region=default_region)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        stream = open_export(partial)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with stream:
            count = write_csv(stream, items, zone, progress)
        os.replace(partial, target)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return count
