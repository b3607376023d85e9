"""Message text: GSM 03.38 alphabet, segment counting, splitting, placeholders (links
are found and rewritten by :mod:`smscope.tracking.links`).

Everything here is a pure function of its arguments (no I/O, no configuration), because
the same answers are needed in very different places: the composer's live counter, the
cost estimate of a campaign with millions of recipients, and the SMPP codec that must
send exactly the parts the estimate promised. If these places disagreed, customers would
be billed for segments they were never shown.

Why the GSM 03.38 tables are written out here instead of taken from a codec package:
the segment arithmetic needs a constant-time "what does this character cost" lookup
(compiled into one regular expression and a dict) that no codec exposes, and the codec
package on PyPI (gsm0338 1.1.0), whose tables are right, does not round-trip: it maps
U+001B to a bare escape octet (so text containing it would be counted as GSM and then
decode differently), silently drops a trailing escape, registers a codec globally on
import, and encodes in a per-character Python loop about ten times slower than
:func:`codecs.charmap_encode`. The tables (127 + 10 characters) are copied from
3GPP TS 23.038 §6.2.1 (default alphabet and its extension table, no national shift
tables); the tests check them octet by octet.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final, Literal

from smscope.errors import TemplateError

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Encoding",
    "Measure",
    "Placeholder",
    "check_template",
    "decode_gsm7",
    "encode_gsm7",
    "is_gsm7",
    "measure",
    "placeholders",
    "render",
    "split",
]

# --------------------------------------------------------------------------------------
# GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1)
# --------------------------------------------------------------------------------------

#: The basic table: index = septet value. Position 0x1B is the escape to the extension
#: table, not a character; it is kept here only so that indexes line up.
GSM7_BASIC: Final[str] = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"  # 0x00
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e"  # 0x10
    "\x1b\u00c6\u00e6\u00df\u00c9"  # 0x1B (escape, a placeholder here) to 0x1F
    " !\"#\u00a4%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "\u00a1ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"  # 0x50
    "\u00bfabcdefghijklmno"  # 0x60
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"  # 0x70
)

#: The extension table: character -> septet sent after the 0x1B escape.
GSM7_EXTENSION: Final[Mapping[str, int]] = MappingProxyType(
    {
        "\x0c": 0x0A,  # form feed
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "\u20ac": 0x65,  # euro sign
    }
)

_ESC: Final = 0x1B

assert len(GSM7_BASIC) == 128

#: character -> cost in septets (1 for the basic table, 2 for escape + extension).
_GSM7_COST: Final[dict[str, int]] = {c: 1 for i, c in enumerate(GSM7_BASIC) if i != _ESC}
_GSM7_COST.update(dict.fromkeys(GSM7_EXTENSION, 2))

# One compiled character class beats set lookups in a Python loop by an order of
# magnitude, and measuring runs once per recipient.
_BASIC_CLASS: Final = "".join(re.escape(c) for c, cost in _GSM7_COST.items() if cost == 1)
_EXT_CLASS: Final = "".join(re.escape(c) for c in GSM7_EXTENSION)
_ONLY_BASIC_RX: Final = re.compile(f"[{_BASIC_CLASS}]*")
_ONLY_GSM_RX: Final = re.compile(f"[{_BASIC_CLASS}{_EXT_CLASS}]*")
_EXT_RX: Final = re.compile(f"[{_EXT_CLASS}]")
_ASTRAL_RX: Final = re.compile("[\U00010000-\U0010ffff]")

_ENCODE_MAP: Final[dict[int, int | bytes]] = {
    ord(c): i for i, c in enumerate(GSM7_BASIC) if i != _ESC
}
_ENCODE_MAP.update({ord(c): bytes((_ESC, v)) for c, v in GSM7_EXTENSION.items()})

# 256 entries so that octets with the high bit set are "undefined" (U+FFFE) for charmap.
_DECODE_TABLE: Final[str] = GSM7_BASIC + "\ufffe" * 128
# The extension character for "escape + septet", keyed by what that septet decodes to
# in the basic table (the decoder first maps every octet through the basic table).
_EXT_BY_BASIC: Final[dict[str, str]] = {GSM7_BASIC[v]: c for c, v in GSM7_EXTENSION.items()}
_ESCAPE_SEQ_RX: Final = re.compile("\x1b(.?)", re.DOTALL)


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` is in the GSM 03.38 basic or extension table."""
    return _ONLY_GSM_RX.fullmatch(text) is not None


def encode_gsm7(text: str, errors: Literal["strict", "replace"] = "strict") -> bytes:
    """Encode ``text`` as unpacked GSM 03.38 septets, one per octet (SMPP data_coding 0).

    Extension characters become two octets, ``0x1B`` then their code. With
    ``errors="strict"`` a character outside the alphabet raises :class:`UnicodeEncodeError`
    (a :class:`ValueError`); ``"replace"`` sends ``?`` instead, for callers that have
    already warned the user.
    """
    try:
        return codecs.charmap_encode(text, errors, _ENCODE_MAP)[0]
    except UnicodeEncodeError as err:
        raise UnicodeEncodeError(
            "gsm-7", text, err.start, err.end, "character not in the GSM 03.38 alphabet"
        ) from None


def decode_gsm7(data: bytes, errors: Literal["strict", "replace"] = "strict") -> str:
    """Decode unpacked GSM 03.38 septets (one per octet, escapes included) to text.

    ``errors="strict"`` raises :class:`UnicodeDecodeError` for an octet above 0x7F, an
    escape followed by a code the extension table does not define, and a trailing escape.
    ``"replace"`` follows what TS 23.038 asks of a handset instead: an undefined escape
    sequence shows the basic-table character, escape-escape (reserved) shows a space, a
    trailing escape is dropped, and octets above 0x7F become U+FFFD. Received messages
    should use ``"replace"``: a phone's odd escape must not make a reply unreadable.
    """
    try:
        text = codecs.charmap_decode(data, errors, _DECODE_TABLE)[0]
    except UnicodeDecodeError as err:
        raise UnicodeDecodeError(
            "gsm-7", data, err.start, err.end, "octet is not a GSM 03.38 septet"
        ) from None
    if "\x1b" not in text:
        return text
    strict = errors == "strict"

    def _escaped(match: re.Match[str]) -> str:
        follower = match.group(1)
        ext = _EXT_BY_BASIC.get(follower)
        if ext is not None:
            return ext
        if strict:
            # every octet decoded to exactly one character, so indexes are octet offsets
            start = match.start()
            raise UnicodeDecodeError(
                "gsm-7",
                data,
                start,
                start + 1 + len(follower),
                "escape sequence not in the GSM 03.38 extension table",
            )
        return " " if follower == "\x1b" else follower

    return _ESCAPE_SEQ_RX.sub(_escaped, text)


# --------------------------------------------------------------------------------------
# Measuring and splitting
# --------------------------------------------------------------------------------------

Encoding = Literal["GSM-7", "UCS-2"]

_SINGLE: Final[dict[str, int]] = {"GSM-7": 160, "UCS-2": 70}
_MAX_HEADER_OCTETS: Final = 136  # keeps every capacity >= 2 units, so a pair always fits


@dataclass(frozen=True, slots=True)
class Measure:
    """How a text travels as SMS: its encoding, size, and the number of parts billed."""

    #: "GSM-7" if every character is in the GSM 03.38 tables, else "UCS-2"
    encoding: Encoding
    #: septets (extension characters count 2) or UTF-16 code units (astral characters 2)
    units: int
    #: number of SMS sent (and usually billed); 0 for the empty text
    segments: int
    #: ``len(text)``: code points, what a person would call characters
    characters: int
    #: capacity of one segment of this message in ``units`` (160/70 single, else multipart)
    per_segment: int
    #: units still free in the last segment before another one is needed
    remaining: int


def _capacities(header_octets: int) -> tuple[int, int]:
    if not 0 <= header_octets <= _MAX_HEADER_OCTETS:
        raise ValueError(
            f"header_octets must be between 0 and {_MAX_HEADER_OCTETS}, got {header_octets}"
        )
    free_octets = 140 - header_octets
    return free_octets * 8 // 7, free_octets // 2


def _classify(text: str) -> tuple[Encoding, re.Pattern[str] | None]:
    """Encoding of ``text`` and the pattern of its 2-unit characters (None if it has none)."""
    if _ONLY_BASIC_RX.fullmatch(text) is not None:
        return "GSM-7", None
    if _ONLY_GSM_RX.fullmatch(text) is not None:
        return "GSM-7", _EXT_RX
    if _ASTRAL_RX.search(text) is not None:
        return "UCS-2", _ASTRAL_RX
    return "UCS-2", None


def _cuts(units: int, capacity: int, double_starts: list[int]) -> list[int]:
    """Unit offsets where each multipart segment ends, greedy fill.

    ``double_starts`` are the sorted unit offsets of 2-unit characters; one that would
    start in the last unit of a segment moves whole to the next segment.
    """
    pending = set(double_starts)
    cuts: list[int] = []
    start = 0
    while start < units:
        end = start + capacity
        if end < units and end - 1 in pending:
            end -= 1
        end = min(end, units)
        cuts.append(end)
        start = end
    return cuts


def _plan(text: str, header_octets: int) -> tuple[Encoding, int, int, list[int], list[int]]:
    """Everything measure() and split() need: encoding, units, capacity, cuts, doubles."""
    gsm_capacity, ucs2_capacity = _capacities(header_octets)
    encoding, doubles_rx = _classify(text)
    double_chars = [] if doubles_rx is None else [m.start() for m in doubles_rx.finditer(text)]
    units = len(text) + len(double_chars)
    single = _SINGLE[encoding]
    if units <= single:
        return encoding, units, single, ([units] if units else []), []
    capacity = gsm_capacity if encoding == "GSM-7" else ucs2_capacity
    # unit offset of the k-th double character = its code-point index + k doubles before it
    double_starts = [index + k for k, index in enumerate(double_chars)]
    if not double_starts:
        cuts = [*range(capacity, units, capacity), units]
    else:
        cuts = _cuts(units, capacity, double_starts)
    return encoding, units, capacity, cuts, double_starts


def measure(text: str, header_octets: int = 6) -> Measure:
    """Encoding, size and segment count of ``text`` as it will be sent.

    ``header_octets`` is the user data header of each part of a multipart message:
    6 for concatenation with 8-bit references (153 septets / 67 UCS-2 units per part),
    7 for 16-bit references (152 / 66), 0 when the link carries the parts with SAR TLVs
    (160 / 70). A message that fits one segment (160 / 70) never has a header.
    Extension characters and surrogate pairs are never cut in two, which can cost a part.
    """
    encoding, units, capacity, cuts, _ = _plan(text, header_octets)
    used_in_last = units - (cuts[-2] if len(cuts) > 1 else 0)
    return Measure(
        encoding=encoding,
        units=units,
        segments=len(cuts),
        characters=len(text),
        per_segment=capacity,
        remaining=capacity - used_in_last,
    )


def split(text: str, header_octets: int = 6) -> list[str]:
    """The parts ``text`` is sent as, filled greedily; always agrees with :func:`measure`.

    ``"".join(split(t)) == t`` and ``len(split(t)) == measure(t).segments``.
    """
    _, _, _, cuts, double_starts = _plan(text, header_octets)
    if len(cuts) <= 1:
        return [text] if text else []
    parts: list[str] = []
    previous = 0
    for cut in cuts:
        # code-point index = unit offset minus the doubles that start before it
        index = cut - bisect_left(double_starts, cut) if double_starts else cut
        parts.append(text[previous:index])
        previous = index
    return parts


# --------------------------------------------------------------------------------------
# Placeholders
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``{name}`` or ``{name|default}`` of a template (``default`` None if absent)."""

    name: str
    default: str | None = None


_TOKEN_RX: Final = re.compile(
    r"""
      (?P<text>[^{}]+)
    | (?P<open>\{\{)
    | (?P<close>\}\})
    | \{(?P<name>[^{}|]*)(?:\|(?P<default>[^}]*))?\}
    | (?P<bad>[{}])
    """,
    re.VERBOSE,
)
_NAME_RX: Final = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class _Parsed:
    head: str
    #: (placeholder, literal text that follows it)
    rest: tuple[tuple[Placeholder, str], ...]


def _malformed(template: str, pos: int) -> TemplateError:
    """Explain the stray brace at ``pos`` (positions in messages count from 1)."""
    where = f"character {pos + 1}"
    if template[pos] == "}":
        return TemplateError(
            f"'}}' at {where} has no matching '{{': write '}}}}' for a literal '}}'"
        )
    close = template.find("}", pos + 1)
    if close == -1:
        return TemplateError(
            f"'{{' at {where} is never closed: end the placeholder with '}}' "
            "or write '{{' for a literal '{'"
        )
    nested = template.find("{", pos + 1, close)
    return TemplateError(
        f"'{{' at {where} is not closed before the next '{{' at character {nested + 1}: "
        "end the placeholder with '}' or write '{{' for a literal '{'"
    )


@lru_cache(maxsize=512)
def _parse(template: str) -> _Parsed:
    """Parse once per distinct template; a campaign renders one template many times."""
    literal: list[str] = []
    head: str | None = None
    rest: list[tuple[Placeholder, str]] = []
    pending: Placeholder | None = None
    for match in _TOKEN_RX.finditer(template):
        kind = match.lastgroup
        if kind == "text":
            literal.append(match.group())
        elif kind == "open":
            literal.append("{")
        elif kind == "close":
            literal.append("}")
        elif kind == "bad":
            raise _malformed(template, match.start())
        else:
            raw_name = match.group("name")
            name = raw_name.strip()
            where = f"character {match.start() + 1}"
            if not name:
                raise TemplateError(
                    f"empty placeholder {match.group()} at {where}: put a field name "
                    "inside, like {first_name}, or write '{{}}' for literal braces"
                )
            if _NAME_RX.fullmatch(name) is None:
                raise TemplateError(
                    f"invalid placeholder name {name!r} at {where}: use only letters, "
                    "digits and underscores, like {first_name}"
                )
            if pending is None:
                head = "".join(literal)
            else:
                rest.append((pending, "".join(literal)))
            literal = []
            pending = Placeholder(name, match.group("default"))
    if pending is None:
        return _Parsed("".join(literal), ())
    rest.append((pending, "".join(literal)))
    assert head is not None
    return _Parsed(head, tuple(rest))


def _unknown(name: str) -> TemplateError:
    return TemplateError(
        f"unknown placeholder {{{name}}}: add a {name!r} column to the contacts "
        f"or give a default like {{{name}|...}}"
    )


def placeholders(template: str) -> list[Placeholder]:
    """The placeholders of ``template`` in order of appearance (repeats included).

    Raises :class:`TemplateError` if the template is malformed, so the composer can show
    the problem before anything is sent.
    """
    return [placeholder for placeholder, _ in _parse(template).rest]


def check_template(template: str, known_fields: Iterable[str]) -> None:
    """Raise :class:`TemplateError` unless ``render`` can succeed for every contact.

    A placeholder with a default is always fine; one without must be a known field.
    Checked once before a campaign starts instead of failing on the first recipient.
    """
    known = frozenset(known_fields)
    for placeholder, _ in _parse(template).rest:
        if placeholder.default is None and placeholder.name not in known:
            raise _unknown(placeholder.name)


def render(template: str, values: Mapping[str, object | None]) -> str:
    """Fill the placeholders of ``template`` from ``values``.

    ``{name}`` becomes ``str(values[name])``; ``{name|default}`` uses ``default`` when
    the key is missing, None or "" (an empty field reads like a missing one). Without a
    default, None and "" render as "", and a missing key raises :class:`TemplateError`.
    ``{{`` and ``}}`` are literal braces. Spaces around the name are ignored; the default
    is used exactly as written.
    """
    parsed = _parse(template)
    if not parsed.rest:
        return parsed.head
    out = [parsed.head]
    for placeholder, after in parsed.rest:
        try:
            value = values[placeholder.name]
        except KeyError:
            if placeholder.default is None:
                raise _unknown(placeholder.name) from None
            out.append(placeholder.default)
        else:
            if value is None or value == "":
                if placeholder.default is not None:
                    out.append(placeholder.default)
            else:
                out.append(value if isinstance(value, str) else str(value))
        out.append(after)
    return "".join(out)
