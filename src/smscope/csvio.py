"""Writing CSV exports the way every smscope export is written (CONTRACTS §7).

UTF-8 with a BOM (so spreadsheets detect the encoding), comma-separated, a header row,
and cells that a spreadsheet would execute neutralised: a cell starting with ``=``,
``+``, ``-``, ``@``, tab or CR gets a leading ``'`` (OWASP "CSV injection"). Columns
named in ``raw_columns`` (E.164 numbers) are written as they are, since ``+33…`` is
data, not a formula, and smscope itself writes it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO, Any

from smscope.errors import OutputFileError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell value safe to open in a spreadsheet."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class SafeCsvWriter:
    """A csv writer for exports; open the file with :func:`open_export`."""

    def __init__(self, stream: IO[str], header: Sequence[str],
                 raw_columns: Iterable[str] = ()) -> None:
        self._writer = csv.writer(stream, lineterminator="\r\n")
        raw = set(raw_columns)
        self._raw = [name in raw for name in header]
        self._writer.writerow([neutralise(name) for name in header])

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow(
            ("" if v is None else str(v)) if raw else neutralise(v)
            for v, raw in zip(row, self._raw, strict=False)
        )

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def open_export(path: str | Any) -> IO[str]:
    """Open a file for a CSV export (UTF-8 with BOM, newlines left to the csv writer)."""
    return open(path, "w", encoding="utf-8-sig", newline="")


def create_export(path: str | Any) -> IO[str]:
    """:func:`open_export`, with an unwritable destination told in one clear sentence."""
    try:
        return open_export(path)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None
