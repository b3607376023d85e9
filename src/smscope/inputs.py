"""No NUL character (U+0000) in what smscope is given to store or to look up.

PostgreSQL refuses a NUL in any text value ("A string literal cannot contain NUL (0x00)
characters") while SQLite stores it, so a NUL typed or pasted in a form, a command's
argument or an API request was a 500 on one backend and a stored oddity on the other.
Each entry point checks what it is given with :func:`has_nul` before anything reaches
the database, and refuses a NUL with one message naming the field, the same on both
backends: the pages next to the field, the CLI as a usage error (exit 2), the API as a
400, a provider's HTTP callback as a 422. Files read whole (a contact file,
``--numbers``) drop NUL bytes instead, as the programs that write them leave some, and
so do the texts an operator's SMSC sends (receipts, replies): they cannot be refused,
and a NUL means nothing in them (:func:`without_nul`).

Other control characters are left alone: PostgreSQL stores them, a tab or a line break
belongs in a message's text, and the rest is harmless in a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smscope.errors import UsageError

__all__ = ["NUL", "NulCharacterError", "has_nul", "nul_fields", "nul_message",
           "refuse_nul", "without_nul"]

NUL = "\x00"


def nul_message(what: str) -> str:
    """The sentence that refuses a NUL in ``what`` ("--name", "The e-mail address")."""
    return f"{what} contains a NUL character (\\0), which smscope cannot store; remove it"


class NulCharacterError(UsageError):
    """A value holds a NUL character; ``field`` is the name of its field, when known."""

    def __init__(self, what: str, *, field: str = "") -> None:
        super().__init__(nul_message(what))
        self.field = field


def has_nul(value: Any) -> bool:
    """Whether ``value`` holds a NUL: a string, or any key or item of a mapping or a
    list (a JSON document, a form with repeated fields)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def nul_fields(values: Mapping[str, Any]) -> list[str]:
    """The names of the fields of ``values`` whose name or value holds a NUL."""
    return [name for name, value in values.items() if has_nul(name) or has_nul(value)]


def refuse_nul(value: Any, what: str, *, field: str = "") -> None:
    """Raise :class:`NulCharacterError` about ``what`` if ``value`` holds a NUL."""
    if has_nul(value):
        raise NulCharacterError(what, field=field)


def without_nul(text: str) -> str:
    """``text`` without its NUL characters: for what cannot be refused (a receipt or a
    reply an SMSC sends, a line of a file), so it is stored the same on both backends."""
    return text.replace(NUL, "") if NUL in text else text
