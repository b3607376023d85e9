"""Keyset pagination: opaque cursors (CONTRACTS §2).

Pages are ``{"items": [...], "next_cursor": "..." | null}``. A cursor encodes where the
page ended — the last id, or the last row's sort keys (:func:`encode_keys`) for lists
ordered by something else — so page 1,000 costs the same as page 1 (no OFFSET scan).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import or_

from smscope.errors import UsageError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

T = TypeVar("T")


def _invalid(cursor: str) -> UsageError:
    return UsageError(f"invalid cursor {cursor!r}; use the next_cursor of the previous page")


def _wrap(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unwrap(cursor: str, prefix: str) -> str:
    """What follows ``prefix:`` in a cursor; a clear error for a mangled or foreign one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        text = ""
    found, _, value = text.partition(":")
    if found != prefix:
        raise _invalid(cursor)
    return value


def encode_cursor(last_id: int) -> str:
    return _wrap(f"id:{last_id}")


def decode_cursor(cursor: str | None) -> int | None:
    """The id after which the next page starts; a clear error for a mangled cursor."""
    if cursor is None or cursor == "":
        return None
    value = _unwrap(cursor, "id")
    if not value.isdigit():
        raise _invalid(cursor)
    return int(value)


def encode_keys(*keys: int) -> str:
    """A cursor holding the sort keys of a page's last row (integers: a moment as
    microseconds, then an id), for lists ordered by more than the id."""
    return _wrap("keys:" + ",".join(str(k) for k in keys))


def decode_keys(cursor: str | None, count: int) -> tuple[int, ...] | None:
    """The ``count`` sort keys after which the next page starts (None: first page)."""
    if cursor is None or cursor == "":
        return None
    parts = _unwrap(cursor, "keys").split(",")
    if len(parts) != count or not all(p.lstrip("-").isdigit() for p in parts):
        raise _invalid(cursor)
    return tuple(int(p) for p in parts)


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def fetch_page(session: Any, query: Any, id_column: Any, *, cursor: str | None,
               limit: int | None) -> tuple[list[Any], str | None]:
    """Run ``query`` (ordered by ``id_column``) for one page after ``cursor``.

    Returns the rows and the cursor of the next page (None on the last page). One row
    more than the limit is read to know whether there is a next page.
    """
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column > after)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(getattr(rows[-1], id_column.key)) if more else None)


def fetch_page_desc(session: Any, query: Any, id_column: Any, *, cursor: str | None,
                    limit: int | None) -> tuple[list[Any], str | None]:
    """:func:`fetch_page`, newest first (logs and ledgers read from their end)."""
    limit = check_limit(limit)
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(id_column < before)
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(getattr(rows[-1], id_column.key)) if more else None)


def split_page(rows: Sequence[T], limit: int,
               keys_of: Callable[[T], Sequence[int]]) -> tuple[list[T], str | None]:
    """The page from ``limit + 1`` rows read in order, and the cursor of the next page
    (None on the last page): the extra row only tells that there is one."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, (encode_keys(*keys_of(page[-1])) if more and page else None)


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def to_json(self, item_to_json: Any = None) -> dict[str, Any]:
        items = [item_to_json(i) for i in self.items] if item_to_json else self.items
        return {"items": items, "next_cursor": self.next_cursor}


def text_filter(search: str, *columns: Any) -> Any:
    """A condition: ``search`` appears in any of ``columns``, case-insensitively.

    ``%`` and ``_`` in what the user typed are matched literally, not as wildcards.
    """
    text = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{text}%", escape="\\") for column in columns))
