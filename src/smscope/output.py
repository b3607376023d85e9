"""How values are written for people and for scripts (CONTRACTS §2).

JSON: date-times ISO 8601 UTC with ``Z``, credits as numbers, exactly one object on
stdout. Screen and CSV: ISO 8601 in the account's zone with its offset.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=json_default, ensure_ascii=False)


def print_json(obj: Any) -> None:
    """Write one JSON object on stdout (and nothing else goes there with ``--json``)."""
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A moment in the account's zone, ISO 8601 with offset (screens and CSV)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).isoformat(timespec="seconds")


def credits_text(value: Decimal) -> str:
    """Credits for people: no useless trailing zeros (``12.5``, ``3``)."""
    text = format(value.normalize(), "f")
    return text


#: control characters a terminal would act on (escape sequences, bells, backspaces…):
#: C0 but tab and newline, DEL, C1
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


class SafeConsole(Console):
    """The CLI's console: every string it prints (tables, lines) shows its control
    characters as ``\\x1b``-style escapes. Names, texts and replies come from web users,
    CSV files and phones; an escape sequence in one must not clear, retitle or rewrite
    the terminal of whoever lists them. ``--json`` output is JSON-escaped already."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(_CONTROL.sub(_visible, text), **kwargs)

