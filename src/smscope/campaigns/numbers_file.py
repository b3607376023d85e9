"""``--numbers FILE``: ad-hoc recipients, one number per line, or a CSV with a header.

A file whose first line has no digit-only cell is read as CSV with the address book's
reader (encoding, delimiter and header detection, the phone column found by name);
otherwise each non-blank line is a number, written any way ``normalize`` accepts. NUL
bytes are dropped, as the address book's reader does: PostgreSQL cannot store one,
and an invalid number is stored as it was written.
"""

from __future__ import annotations

import re
from pathlib import Path

from smscope.contacts.csvfile import map_columns, open_csv, strip_quote
from smscope.errors import ImportFileError
from smscope.inputs import NUL

__all__ = ["read_numbers"]

_NUMBER_LIKE = re.compile(r"^[\s+0-9().\-/\u00a0]*[0-9][\s0-9().\-/\u00a0]*$")


def read_numbers(path: str | Path) -> list[str]:
    """The raw numbers of a file (validated later, so bad ones end ``invalid_number``)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file" if not path.exists()
                              else f"{path} is not a file")
    try:
        with path.open("rb") as stream:
            first = stream.readline(4096).decode("utf-8-sig", "replace")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    first = first.replace(NUL, "").strip()
    if not first or _NUMBER_LIKE.match(first):
        text = path.read_bytes().decode("utf-8-sig", "replace").replace(NUL, "")
        return [line.strip() for line in text.splitlines() if line.strip()]
    with open_csv(path) as source:
        column = map_columns(source.header).number
        numbers = []
        for _row, cells, _error in source.rows():
            if cells is not None and column < len(cells) and cells[column].strip():
                numbers.append(strip_quote(cells[column]).strip())
        return numbers
