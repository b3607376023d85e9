"""Click tokens: short, unguessable, and checked without a stored row per recipient.

A token is 12 base62 characters (``0-9A-Za-z``, all in GSM 03.38's basic table, so
one septet each), 71 bits in all:

* 36 bits: the message's id (ids up to 68,719,476,735);
* 5 bits: the link's number within its campaign (:data:`~smscope.tracking.links.
  MAX_LINKS` = 32 distinct URLs);
* 30 bits: a MAC, the first 30 bits of keyed BLAKE2b (RFC 7693's MAC mode, which
  Python's documentation offers in place of HMAC, at a third of HMAC-SHA256's cost per
  token) under the account's tracking secret (32 random bytes made once and kept in
  the ``settings`` table) of the message id, its campaign id and the link number.

Fan-out therefore writes no row per recipient: the message id is allocated before the
message is written (see :func:`smscope.tracking.store.allocate_message_ids`), and a
click is checked by recomputing the MAC. A forged or mistyped token matches with odds
of 1 in 2^30 (about 1 in a billion): enumerating tokens at 1,000 requests a second
finds one valid token every 12 days, and a valid token only ever redirects to its own
campaign's URL. The campaign id in the MAC means a token still never fits another
message if a message id is used again after a deletion.

Everything here is pure (the secret is an argument).
"""

from __future__ import annotations

import hashlib
import hmac
import string
import struct
from typing import Final, NamedTuple

__all__ = ["MAX_MESSAGE_ID", "TOKEN_LENGTH", "Token", "encode", "new_secret", "parse", "valid"]

ALPHABET: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase
TOKEN_LENGTH: Final = 12
ID_BITS: Final = 36
POSITION_BITS: Final = 5
MAC_BITS: Final = 30
MAX_MESSAGE_ID: Final = (1 << ID_BITS) - 1
_TOTAL_BITS: Final = ID_BITS + POSITION_BITS + MAC_BITS
assert 62**TOKEN_LENGTH >= 1 << _TOTAL_BITS and TOKEN_LENGTH == 12

_VALUE: Final = {c: i for i, c in enumerate(ALPHABET)}
# two characters per division: half the Python-level steps on the fan-out's hot path
_PAIRS: Final = [a + b for a in ALPHABET for b in ALPHABET]
_SQUARE: Final = 3844**2
_CUBE: Final = 3844**3
_MAC_INPUT: Final = struct.Struct(">QQB")
_PERSON: Final = b"smscope click v1"  # BLAKE2's domain separation, 16 bytes at most


class Token(NamedTuple):
    """What a token says: which message, which link, and its MAC (unchecked)."""

    message_id: int
    position: int
    mac: int


def new_secret() -> bytes:
    """A new tracking secret."""
    import secrets

    return secrets.token_bytes(32)


def _mac(secret: bytes, message_id: int, campaign_id: int | None, position: int) -> int:
    digest = hashlib.blake2b(_MAC_INPUT.pack(message_id, campaign_id or 0, position),
                             key=secret, digest_size=4, person=_PERSON).digest()
    return int.from_bytes(digest, "big") >> (32 - MAC_BITS)


def encode(secret: bytes, message_id: int, campaign_id: int | None, position: int) -> str:
    """The token of link ``position`` of message ``message_id`` (of ``campaign_id``)."""
    if not 0 < message_id <= MAX_MESSAGE_ID:
        raise ValueError(f"message id {message_id} does not fit a click token")
    if not 0 <= position < 1 << POSITION_BITS:
        raise ValueError(f"link number {position} does not fit a click token")
    value = (((message_id << POSITION_BITS) | position) << MAC_BITS) | _mac(
        secret, message_id, campaign_id, position)
    # six base-3844 digits (two characters each), unrolled: this runs per recipient
    high, low = divmod(value, _CUBE)
    a, rest = divmod(high, _SQUARE)
    b, c = divmod(rest, 3844)
    d, rest = divmod(low, _SQUARE)
    e, f = divmod(rest, 3844)
    pairs = _PAIRS
    return pairs[a] + pairs[b] + pairs[c] + pairs[d] + pairs[e] + pairs[f]


def parse(token: str) -> Token | None:
    """What ``token`` says, or None if it cannot be a token (length, characters,
    range). The MAC is not checked here: see :func:`valid`."""
    if len(token) != TOKEN_LENGTH:
        return None
    value = 0
    for char in token:
        digit = _VALUE.get(char)
        if digit is None:
            return None
        value = value * 62 + digit
    if value >> _TOTAL_BITS:
        return None
    mac = value & ((1 << MAC_BITS) - 1)
    value >>= MAC_BITS
    position = value & ((1 << POSITION_BITS) - 1)
    message_id = value >> POSITION_BITS
    if message_id == 0:
        return None
    return Token(message_id, position, mac)


def valid(secret: bytes, token: Token, campaign_id: int | None) -> bool:
    """True if ``token``'s MAC is right for its message of ``campaign_id``."""
    expected = _mac(secret, token.message_id, campaign_id, token.position)
    return hmac.compare_digest(expected.to_bytes(4, "big"), token.mac.to_bytes(4, "big"))
