"""Match the message id of a delivery receipt with the id a submit returned.

SMSCs are inconsistent about ids: the ``submit_sm_resp`` may give ``"0A1B"`` (hex)
while the receipt says ``id:2587`` (the same number in decimal), or the reverse;
leading zeros come and go (``"000123"`` vs ``"123"``); HTTP providers use opaque
tokens or UUIDs that must match exactly.

Key scheme
----------
Keys are strings of two kinds:

* ``"s:<id>"`` — the id exactly as written (blanks around it removed). String
  comparison is **case-sensitive**: opaque tokens and UUIDs are compared as
  given, because a provider that changes their case is not something to guess at;
* ``"n:<decimal>"`` — the numeric value of the id under one reading (as hex or
  as decimal), written in decimal without leading zeros. Different renderings of
  the same number share this key.

To find parts by receipt id, store for each submitted id every key of
:func:`id_keys` (or just :func:`index_key` when one column is all there is), and
look the receipt id up with the keys of :func:`lookup_keys`, in their order, taking
the first key that finds something.

Modes (one per connector)
-------------------------
``string``
    exact, case-sensitive match only. For HTTP providers and UUIDs.
``hex``
    the submit ids are hex numbers; a receipt id may be the same number in hex
    (any case, any leading zeros) or in decimal.
``dec``
    the submit ids are decimal numbers; a receipt id may be the same number in
    decimal (any leading zeros) or in hex.
``auto``
    nothing is known: a submitted id is stored under every reading that is valid
    for it (an id like ``"12"`` is both hex 0x12 = 18 and decimal 12).

In every mode, an id that is not valid in the mode's base (a UUID in ``hex`` mode)
falls back to the exact string key, so nothing is ever unmatchable.

The ambiguity, and how it is resolved
-------------------------------------
Digits-only ids are valid hex *and* decimal, so two different submitted ids can
share a numeric key (in ``auto`` mode ``"12"`` and ``"18"`` both have ``n:18``: the
first read as hex, the second as decimal), and one receipt id can reach either.
:func:`lookup_keys` therefore orders the candidate keys from the most to the least
likely: the exact string first, then the reading in the connector's own base
(``hex`` mode: hex; ``dec`` and ``auto`` modes: decimal, since digit-only ids are
decimal far more often), then the other base. A caller that finds several parts
under the first key that finds any should treat the receipt as ambiguous rather
than pick one. :func:`ids_match` answers whether two ids *can* be the same message;
it says yes to both of the pairs above.

Numbers of more than :data:`MAX_NUMERIC_DIGITS` significant digits are not read as
numbers (only their exact string is used): real message ids are at most 128-bit
values (32 hex digits).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ID_MODES", "MAX_NUMERIC_DIGITS", "IdMode", "id_keys", "ids_match", "index_key",
           "keys_and_index", "lookup_keys"]

IdMode = Literal["auto", "hex", "dec", "string"]

#: the modes a connector can use
ID_MODES: tuple[str, ...] = ("auto", "hex", "dec", "string")

#: ids longer than this are matched as strings only (decimal of a 128-bit value: 39)
MAX_NUMERIC_DIGITS = 40

_HEX_DIGITS = "0123456789abcdefABCDEF"
_DEC_DIGITS = "0123456789"


def _check_mode(mode: str) -> str:
    if mode not in ID_MODES:
        raise ValueError(f"unknown id mode {mode!r}: use one of {', '.join(ID_MODES)}")
    return mode


def _as_number(value: str, digits: str, base: int) -> int | None:
    # strip() of the allowed characters leaves nothing when there is no other: one C
    # loop, where a set of the characters cost a fifth of reading a receipt
    if not value or value.strip(digits):
        return None
    significant = value.lstrip("0")
    if len(significant) > MAX_NUMERIC_DIGITS:
        return None
    return int(significant or "0", base)


def _as_dec(value: str) -> int | None:
    return _as_number(value, _DEC_DIGITS, 10)


def _as_hex(value: str) -> int | None:
    return _as_number(value, _HEX_DIGITS, 16)


def _num_key(value: int) -> str:
    return f"n:{value}"


def _str_key(value: str) -> str:
    return f"s:{value}"


def _readings(value: str, order: tuple[str, ...]) -> list[str]:
    keys: list[str] = []
    for base in order:
        number = _as_hex(value) if base == "hex" else _as_dec(value)
        if number is not None and _num_key(number) not in keys:
            keys.append(_num_key(number))
    return keys


def id_keys(operator_id: str, mode: str = "auto") -> frozenset[str]:
    """Every key under which to store a submitted id (empty for an empty id)."""
    _check_mode(mode)
    value = operator_id.strip()
    if not value:
        return frozenset()
    keys = {_str_key(value)}
    if mode == "hex":
        keys.update(_readings(value, ("hex",)))
    elif mode == "dec":
        keys.update(_readings(value, ("dec",)))
    elif mode == "auto":
        keys.update(_readings(value, ("dec", "hex")))
    return frozenset(keys)


def lookup_keys(receipt_id: str, mode: str = "auto") -> tuple[str, ...]:
    """The keys to try, most likely first, to find the part a receipt id belongs to."""
    _check_mode(mode)
    value = receipt_id.strip()
    if not value:
        return ()
    keys = [_str_key(value)]
    if mode == "hex":
        keys.extend(_readings(value, ("hex", "dec")))
    elif mode in ("dec", "auto"):
        keys.extend(_readings(value, ("dec", "hex")))
    return tuple(keys)


def index_key(operator_id: str, mode: str = "auto") -> str | None:
    """The one key that best identifies an id, for a single indexed column.

    ``hex`` mode: the hex value; ``dec`` mode: the decimal value; ``auto`` mode: the
    decimal value for digits-only ids, the hex value for ids with letters a–f; the
    exact string otherwise (and in ``string`` mode). ``None`` for an empty id.
    With one key per id, a receipt id is found by trying :func:`lookup_keys`.
    """
    _check_mode(mode)
    value = operator_id.strip()
    if not value:
        return None
    if mode == "string":
        return _str_key(value)
    order = ("hex",) if mode == "hex" else ("dec",) if mode == "dec" else ("dec", "hex")
    readings = _readings(value, order)
    return readings[0] if readings else _str_key(value)


def keys_and_index(receipt_id: str, mode: str = "auto") -> tuple[tuple[str, ...], str | None]:
    """``(lookup_keys(receipt_id, mode), index_key(receipt_id, mode))``, reading the
    id once in each base (what a receipt needs: the keys to find its part by, and the
    key it is stored under)."""
    _check_mode(mode)
    value = receipt_id.strip()
    if not value:
        return (), None
    exact = _str_key(value)
    if mode == "string":
        return (exact,), exact
    as_hex, as_dec = _as_hex(value), _as_dec(value)
    first, second = (as_hex, as_dec) if mode == "hex" else (as_dec, as_hex)
    keys = [exact]
    for number in (first, second):
        if number is not None and _num_key(number) not in keys:
            keys.append(_num_key(number))
    own = (as_dec if as_dec is not None else as_hex) if mode == "auto" else first
    return tuple(keys), exact if own is None else _num_key(own)


def ids_match(submit_id: str, receipt_id: str, mode: str = "auto") -> bool:
    """Whether a receipt id can designate the message a submit returned ``submit_id`` for.

    Empty ids never match. See the module documentation for the modes.
    """
    stored = id_keys(submit_id, mode)
    return any(key in stored for key in lookup_keys(receipt_id, mode))
