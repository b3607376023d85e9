"""Keyset pagination: opaque cursors over integer ids (CONTRACTS §2).

Pages are ``{"items": [...], "next_cursor": "..." | null}``. A cursor encodes the last
id of the page, so page 1,000 costs the same as page 1 (no OFFSET scan).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import or_

from smscope.errors import UsageError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

T = TypeVar("T")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id after which the next page starts; a clear error for a mangled cursor."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _, value = text.partition(":")
        if prefix != "id" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise UsageError(
            f"invalid cursor {cursor!r}; use the next_cursor of the previous page"
        ) from None


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
