"""Reading contact files as people actually make them.

Files come from Excel, CRMs and scripts: any delimiter, UTF-8 with or without a BOM,
Windows-1252/Latin-1 from older tools, a UTF-16 "Unicode text" export now and then,
headers in English or French. This module turns such a file into a header and a
stream of rows, without ever holding the whole file in memory; it never decides what a
row *means* (that is :mod:`smscope.contacts.importer`).

The stdlib :mod:`csv` module does the parsing. Its ``Sniffer`` is not used to pick the
delimiter: on the small samples a contact file gives (often one header line) it
guesses wrong or fails; we instead try each candidate and keep the one that splits the
header into the most columns with the most consistent row lengths.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from smscope.errors import ImportFileError, ImportOptionError

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
#: cells longer than this are refused row by row (the csv module's default limit)
MAX_CELL = 131_072

FIELDS = ("number", "first_name", "last_name")

_ALIASES = {
    "number": {
        "phone", "mobile", "number", "telephone", "portable", "numero", "phone_number",
        "phonenumber", "mobile_number", "mobile_phone", "mobilephone", "cell", "cellphone",
        "cell_phone", "gsm", "msisdn", "tel", "numero_de_telephone", "numero_telephone",
        "numero_portable", "numero_mobile", "telephone_portable", "telephone_mobile",
        "movil", "telefono", "numero_de_movil", "handy", "telefon", "handynummer",
        "mobilnummer", "telefonnummer", "cellulare", "celular", "sms",
    },
    "first_name": {
        "first_name", "firstname", "prenom", "first", "given_name", "givenname",
        "nombre", "vorname", "nome",
    },
    "last_name": {
        "last_name", "lastname", "nom", "surname", "family_name", "familyname",
        "nom_de_famille", "apellido", "apellidos", "nachname", "cognome",
    },
}


def fold(name: str) -> str:
    """A header name folded for matching: no accents, lower case, ``_`` separators."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_ish = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", "_", ascii_ish.strip().lower()).strip("_")


@dataclass
class ColumnMapping:
    """Which column holds what; ``custom`` maps column index → custom field name."""

    number: int
    first_name: int | None = None
    last_name: int | None = None
    custom: dict[int, str] = field(default_factory=dict)


def map_columns(header: Sequence[str], *, phone_column: str | None = None,
                overrides: Sequence[str] = ()) -> ColumnMapping:
    """Map a header to contact fields: automatically, then ``--phone-column``/``--map``.

    ``overrides`` are ``COLUMN=FIELD`` strings, FIELD one of ``number``, ``first_name``,
    ``last_name``, ``custom:NAME``, ``ignore``. Raises :class:`ImportFileError` when no
    column holds phone numbers or an override names a column the file does not have.
    """
    folded = [fold(h) for h in header]
    assigned: dict[int, str] = {}
    for index, name in enumerate(folded):
        for target, aliases in _ALIASES.items():
            if name in aliases and target not in assigned.values():
                assigned[index] = target
                break

    def column(name: str, option: str) -> int:
        key = fold(name)
        for index, candidate in enumerate(folded):
            if candidate == key:
                return index
        shown = ", ".join(repr(h) for h in header) or "none"
        raise ImportOptionError(
            f"{option} names column {name!r}, which is not in the header; the columns are: "
            f"{shown}"
        )

    if phone_column is not None:
        index = column(phone_column, "--phone-column")
        assigned = {i: t for i, t in assigned.items() if t != "number"}
        assigned[index] = "number"
    ignored: set[int] = set()
    custom_names: dict[int, str] = {}
    for override in overrides:
        name, sep, target = override.partition("=")
        target = target.strip()
        if not sep or not name.strip() or not target:
            raise ImportOptionError(f"--map {override!r}: write it as COLUMN=FIELD")
        index = column(name.strip(), f"--map {override!r}")
        assigned.pop(index, None)
        ignored.discard(index)
        if target in FIELDS:
            assigned = {i: t for i, t in assigned.items() if t != target}
            assigned[index] = target
        elif target == "ignore":
            ignored.add(index)
        elif target.startswith("custom:") and fold(target[7:]):
            custom_names[index] = fold(target[7:])
        else:
            raise ImportOptionError(
                f"--map {override!r}: FIELD must be number, first_name, last_name, "
                "custom:NAME or ignore"
            )
    by_target = {t: i for i, t in assigned.items()}
    if "number" not in by_target:
        shown = ", ".join(repr(h) for h in header) or "none"
        raise ImportFileError(
            f"no phone column found (columns: {shown}); name one with --phone-column NAME "
            "or a header like 'phone', 'mobile' or 'numéro'"
        )
    mapping = ColumnMapping(number=by_target["number"], first_name=by_target.get("first_name"),
                            last_name=by_target.get("last_name"))
    used: set[str] = set()
    for index, name in enumerate(folded):
        if index in assigned or index in ignored:
            continue
        key = custom_names.get(index) or name or f"column_{index + 1}"
        unique, n = key, 2
        while unique in used or unique in FIELDS:
            unique, n = f"{key}_{n}", n + 1
        used.add(unique)
        mapping.custom[index] = unique
    return mapping


def _decode_line(raw: bytes, encoding: str) -> str:
    if encoding == "utf-8":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass  # a stray Windows-1252 line in a UTF-8 file: read that line as such
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # the five bytes cp1252 leaves undefined


def _guess_encoding(sample: bytes) -> str:
    """``utf-8`` (read line by line, a bad line falling back to Windows-1252) or ``cp1252``.

    A sample that is not valid UTF-8 is usually a Windows-1252 file, but it may also be
    a UTF-8 file with one stray Windows-1252 line (files pasted together): if any line
    with non-ASCII bytes is valid UTF-8, the file is read as UTF-8, else every UTF-8
    line would come out garbled ("ZoÃ©").
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample.removeprefix(codecs.BOM_UTF8))
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for line in sample.split(b"\n"):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return "utf-8"
    return "cp1252"


def _cr_lines(stream: BinaryIO, block: int = SAMPLE_BYTES) -> Iterator[bytes]:
    """The lines of a file whose lines end with a bare CR (old Mac exports)."""
    pending: list[bytes] = []
    while data := stream.read(block):
        parts = data.split(b"\r")
        for part in parts[:-1]:
            pending.append(part)
            yield b"".join(pending) + b"\r"
            pending = []
        if parts[-1]:
            pending.append(parts[-1])
    if pending:
        yield b"".join(pending)


def _tidy(line: str) -> str:
    """Remove what means nothing in a contact file and trips the csv module.

    NUL bytes are dropped; a bare CR inside a line (not its ending) becomes a space,
    since the csv module refuses it in an unquoted cell and would split the row.
    """
    line = line.replace("\x00", "")
    body = line.rstrip("\r\n")
    if "\r" in body:
        line = body.replace("\r", " ") + line[len(body):]
    return line


def _looks_binary(sample: bytes) -> str | None:
    if sample.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an Excel .xlsx workbook?)"
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel .xls workbook"
    if sample.startswith(b"%PDF"):
        return "a PDF document"
    if not sample:
        return None
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if controls > max(8, len(sample) // 20):
        return "a binary file"
    return None


class CsvSource:
    """An open contact file: its header, delimiter, encoding, and a stream of rows."""

    def __init__(self, path: Path, stream: BinaryIO | IO[str], encoding: str,
                 size: int, *, cr_only: bool = False) -> None:
        self.path = path
        #: lines end with a bare CR: iterating the binary stream would give one line
        self.cr_only = cr_only
        self.encoding = encoding
        self.size = size
        self.bytes_read = 0
        self.delimiter = ","
        self.header: list[str] = []
        self._stream = stream
        self._reader: Iterator[list[str]] = iter(())
        #: physical lines consumed by the record being read (see rows())
        self._pending: list[str] = []

    def _decoded_lines(self) -> Iterator[str]:
        if self.encoding == "utf-16":
            for line in self._stream:
                assert isinstance(line, str)
                self.bytes_read += 2 * len(line)
                yield _tidy(line)
            return
        raws = _cr_lines(self._stream) if self.cr_only else self._stream  # type: ignore[arg-type]
        for raw in raws:
            assert isinstance(raw, bytes)
            self.bytes_read += len(raw)
            yield _tidy(_decode_line(raw, self.encoding))

    def _start(self, delimiter: str | None) -> None:
        """Read a sample to choose the delimiter, then read the header row."""
        lines = self._decoded_lines()
        sample = list(itertools.islice(lines, 20))
        nonblank = [line for line in sample if line.strip()]
        if not nonblank:
            raise ImportFileError(
                f"{self.path} is empty; it needs a header row and one row per contact"
            )
        self.delimiter = delimiter or _choose_delimiter(nonblank)
        self._reader = csv.reader(self._recorded(itertools.chain(sample, lines)),
                                  delimiter=self.delimiter, strict=False)
        try:
            for cells in self._reader:
                if any(c.strip() for c in cells):
                    self.header = [strip_quote(h).strip() for h in cells]
                    return
        except csv.Error as exc:
            raise ImportFileError(f"{self.path}: the header row cannot be read: {exc}") from None
        raise ImportFileError(
            f"{self.path} is empty; it needs a header row and one row per contact"
        )

    def _recorded(self, lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            self._pending.append(line)
            yield line

    def _swallowed(self, cells: list[str] | None, error: str | None) -> bool:
        """Did an unclosed quote swallow the following lines into one record?

        A quoted cell may legitimately hold a newline (an address), but not a newline
        *and* the delimiter: that is the next rows, eaten by a quote that never closed.
        """
        if len(self._pending) < 2:
            return False
        if cells is None:  # a quote that never closed runs into the cell size limit
            return error is not None and "field limit" in error
        return any(("\n" in c or "\r" in c) and self.delimiter in c for c in cells)

    def _resplit(self) -> list[list[str] | None]:
        """Read the swallowed lines one by one; the stray quote is kept as a character."""
        lines, self._pending = self._pending, []
        return [self._parse_line(line, quotes=i > 0) for i, line in enumerate(lines)]

    def _parse_line(self, line: str, *, quotes: bool) -> list[str] | None:
        try:
            if quotes:
                return next(csv.reader([line], delimiter=self.delimiter, strict=False), [])
            return next(csv.reader([line], delimiter=self.delimiter,
                                   quoting=csv.QUOTE_NONE), [])
        except csv.Error:
            return None

    def rows(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Yield ``(row_number, cells, error)`` for each data row; the header is row 1.

        A row the csv module cannot parse (a cell over :data:`MAX_CELL` characters)
        comes with ``cells=None`` and the error, and reading goes on with the next.
        Blank lines are skipped and not numbered.
        """
        number = 1
        while True:
            self._pending = []
            error = None
            try:
                cells: list[str] | None = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells, error = None, f"row cannot be read: {exc}"
            records: list[list[str] | None] = [cells]
            if self._swallowed(cells, error):
                records, error = self._resplit(), "row cannot be read (a quote is never closed?)"
            for record in records:
                if record is not None and not any(c.strip() for c in record):
                    continue
                number += 1
                yield number, record, None if record is not None else error

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _choose_delimiter(sample_lines: list[str]) -> str:
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        parsed = [row for row in _readable_rows(sample_lines, delimiter) if row]
        if not parsed or len(parsed[0]) < 2:
            continue
        width = len(parsed[0])
        consistency = sum(1 for row in parsed if len(row) == width) / len(parsed)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _readable_rows(lines: list[str], delimiter: str) -> Iterator[list[str]]:
    """Rows of the sample ``lines``, skipping those the csv module refuses.

    One unreadable row (a cell over :data:`MAX_CELL` characters) among the sample
    lines must not make every delimiter fail, which would fall back to a comma and
    refuse a semicolon file as having "no phone column".
    """
    # The lines as split by the source (not re-split on "\n": a file whose lines end
    # with a bare CR would be a single line).
    reader = csv.reader(iter(lines), delimiter=delimiter)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            continue


def open_csv(path: str | Path, *, delimiter: str | None = None) -> CsvSource:
    """Open a contact file, detect its encoding and delimiter, and read its header.

    Raises :class:`ImportFileError` for a missing, unreadable, binary or empty file.
    """
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder; give the CSV file inside it")
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1 or delimiter in "\"\r\n":
            raise ImportOptionError(
                f"--delimiter must be one character such as , ; | or \\t, not {delimiter!r}"
            )
    try:
        binary: BinaryIO = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        size = path.stat().st_size
        sample = binary.read(SAMPLE_BYTES)
        binary.seek(0)
    except OSError as exc:
        binary.close()
        raise ImportFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    stream: BinaryIO | IO[str] = binary

    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        # errors="replace": a truncated or corrupt UTF-16 file must give bad rows (or
        # no phone column), not a UnicodeDecodeError in the middle of the import.
        stream = io.TextIOWrapper(binary, encoding="utf-16", errors="replace", newline="")
        cr_only = False
    else:
        kind = _looks_binary(sample)
        if kind:
            binary.close()
            raise ImportFileError(
                f"{path} looks like {kind}, not a CSV file; save it as 'CSV UTF-8' and "
                "import that"
            )
        encoding = _guess_encoding(sample)
        cr_only = b"\r" in sample and b"\n" not in sample
        if sample.startswith(codecs.BOM_UTF8):
            binary.read(len(codecs.BOM_UTF8))

    source = CsvSource(path, stream, encoding, size, cr_only=cr_only)
    try:
        source._start(delimiter)
    except BaseException:
        source.close()
        raise
    return source


def strip_quote(cell: str) -> str:
    """Remove one leading ``'`` (what exports add before formula-like cells)."""
    return cell[1:] if cell.startswith("'") else cell
