"""Parse the text of an SMPP delivery receipt into its fields, as written.

SMPP 3.4 Appendix B suggests (it is explicitly "vendor specific")::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E Text: . . . . . . . . .

Real SMSCs vary it, and this parser accepts what they send:

* keys in any case (``ID:``, ``Stat:``, ``Text:``/``text:``), fields in any order,
  fields missing, ``submit_date``/``done_date`` (or ``submitdate``) spellings;
* extra vendor fields (``IMSI:``, ``MCCMNC:``…) kept in :attr:`Receipt.extra`;
* dates of 10, 12 or 14 digits (never converted: the strings are returned);
* several spaces or tabs between fields, and ``key: value`` with blanks after the colon;
* trailing NULs (C strings copied whole), and bytes in UTF-8, ASCII or Latin-1.

Rules, so that the result is predictable:

* a key is a word followed by ``:`` at the start of the text or after a blank
  (``id:abc:def`` is one field whose value is ``abc:def``);
* a standard field's value is the first blank-separated word after its key, or ``""``
  when nothing follows before the next key; words after it that belong to no key are
  ignored (``err:000 hello`` gives ``err == "000"``);
* ``text`` is everything after ``text:`` to the end, unchanged (it may hold colons,
  blanks and words that look like keys). One exception, seen in the wild with fields
  out of order (``… text: stat:DELIVRD``): when no ``stat`` came before ``text:``, the
  text ends at the next standard key and parsing goes on;
* when a key appears twice, the first one wins;
* a text is a receipt only if it has a non-empty ``id`` and a ``stat`` (possibly
  empty); anything else raises :class:`~smscope.errors.ReceiptFormatError`, and
  nothing else is ever raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smscope.errors import ReceiptFormatError

__all__ = ["STANDARD_FIELDS", "Receipt", "parse_general", "parse_receipt"]

#: the fields of Appendix B, by their attribute names
STANDARD_FIELDS = ("id", "sub", "dlvrd", "submit_date", "done_date", "stat", "err", "text")

_KEY = re.compile(
    r"(?:(?<=\s)|^)"
    r"(submit[ \t_]*date|done[ \t_]*date|[A-Za-z][A-Za-z0-9_\-]*)"
    r":",
)
_BLANKS = re.compile(r"[\s_]+")
#: Appendix B's own layout (its order, one blank between fields), which nearly every
#: SMSC sends: read by one regular expression in a fifth of the general parser's time.
#: Values hold no blanks, so the split is the one the general rules give (a property
#: test checks it); anything else goes to the general parser.
_APPENDIX_B = re.compile(
    r"id:(\S+) sub:(\S*) dlvrd:(\S*) submit date:(\S*) done date:(\S*) "
    r"stat:(\S*) err:(\S*) [Tt]ext:(.*)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The fields of one delivery receipt, each the string exactly as written.

    A field is ``None`` when the receipt does not have it and ``""`` when its key is
    there with no value. ``id`` and ``stat`` are never ``None``. ``extra`` holds the
    vendor fields (key as written → value, blanks around it removed) and takes no part
    in equality.
    """

    id: str
    stat: str
    sub: str | None = None
    dlvrd: str | None = None
    submit_date: str | None = None
    done_date: str | None = None
    err: str | None = None
    text: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: (network type, error code) of the network_error_code TLV; 3 is GSM
    network_error: tuple[int, int] | None = None

    @classmethod
    def from_pdu(cls, pdu: Any) -> Receipt:
        """The receipt carried by a ``deliver_sm``/``data_sm``: text and TLVs together.

        See :func:`smscope.receipts.pdu.receipt_from_pdu`.
        """
        from smscope.receipts.pdu import receipt_from_pdu

        return receipt_from_pdu(pdu)


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            # latin-1 maps every byte, so this never fails; ASCII is a subset of both
            return data.decode("latin-1")
    raise ReceiptFormatError(
        f"a delivery receipt is text or bytes, not {type(raw).__name__}"
    )


def _field_name(key: str) -> str:
    """``Submit Date`` → ``submit_date``; ``ID`` → ``id``; vendor keys lower-cased."""
    name = _BLANKS.sub("_", key.strip()).lower()
    if name in ("submitdate", "submit_date"):
        return "submit_date"
    if name in ("donedate", "done_date"):
        return "done_date"
    return name


def _first_word(span: str) -> str:
    words = span.split()
    return words[0] if words else ""


def parse_receipt(text: str | bytes) -> Receipt:
    """Parse a delivery receipt text; raise :class:`ReceiptFormatError` if it is not one."""
    body = _decode(text).rstrip("\x00")
    common = _APPENDIX_B.fullmatch(body)
    if common is not None:
        rid, sub, dlvrd, submit_date, done_date, stat, err, tail = common.groups()
        return Receipt(id=rid, stat=stat, sub=sub, dlvrd=dlvrd, submit_date=submit_date,
                       done_date=done_date, err=err, text=tail)
    return parse_general(body)


def parse_general(body: str) -> Receipt:
    """:func:`parse_receipt` for any layout (``body`` decoded, trailing NULs removed)."""
    matches = list(_KEY.finditer(body))
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    i = 0
    while i < len(matches):
        match = matches[i]
        name = _field_name(match.group(1))
        start = match.end()
        if name == "text":
            if "stat" in values:
                values.setdefault("text", body[start:])
                break
            # fields out of order: the text runs to the next standard key only
            j = i + 1
            while j < len(matches) and _field_name(matches[j].group(1)) not in STANDARD_FIELDS:
                j += 1
            end = matches[j].start() if j < len(matches) else len(body)
            values.setdefault("text", body[start:end].rstrip())
            i = j
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        span = body[start:end]
        if name in STANDARD_FIELDS:
            values.setdefault(name, _first_word(span))
        else:
            extra.setdefault(match.group(1), span.strip())
        i += 1

    receipt_id = values.get("id")
    stat = values.get("stat")
    if receipt_id is None:
        raise ReceiptFormatError("not a delivery receipt: it has no 'id:' field")
    if not receipt_id:
        raise ReceiptFormatError("not a delivery receipt: its 'id:' field is empty")
    if stat is None:
        raise ReceiptFormatError("not a delivery receipt: it has no 'stat:' field")
    return Receipt(
        id=receipt_id,
        stat=stat,
        sub=values.get("sub"),
        dlvrd=values.get("dlvrd"),
        submit_date=values.get("submit_date"),
        done_date=values.get("done_date"),
        err=values.get("err"),
        text=values.get("text"),
        extra=extra,
    )
