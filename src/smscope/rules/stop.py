"""STOP replies: which inbound texts unsubscribe a number.

A reply unsubscribes (blacklists the number) when its whole text, or its first word,
is one of the STOP keywords (STOP, ARRET, STOPP, BAJA…, configurable) once
punctuation is trimmed and case and accents are folded (CONTRACTS §9). Recipients
type "Stop!", "stop.", "« STOP »", "Arrêt" or "STOP 🙏", and every one of those must
work: failing to honour an opt-out is a legal problem. Matching only the whole text or
the first word is what keeps "Don't stop" or "please stop the music" from
unsubscribing anybody.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from smscope.config import DEFAULT_STOP_KEYWORDS

#: Unicode general categories trimmed from the ends of the text and of its first word:
#: punctuation (P*), symbols such as emoji (S*), separators (Z*), controls and format
#: characters such as zero-width joiners (C*), and stray marks such as emoji variation
#: selectors (M*).
_TRIMMED_CATEGORIES = frozenset("PSZCM")


def fold(text: str) -> str:
    """Text compared without case or accents: NFKD, combining marks dropped, casefold.

    NFKD also turns compatibility forms into plain letters (full-width ``ＳＴＯＰ``,
    ligatures, no-break spaces), which phones and keyboards produce more than people
    think.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _trim(text: str) -> str:
    """Strip whitespace, punctuation and symbols from both ends."""
    start, end = 0, len(text)
    while start < end and _is_trimmed(text[start]):
        start += 1
    while end > start and _is_trimmed(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_trimmed(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in _TRIMMED_CATEGORIES


def _normalize(text: str) -> str:
    """Folded, trimmed, inner whitespace collapsed to single spaces."""
    return " ".join(_trim(fold(text)).split())


class StopMatcher:
    """Decides whether a reply is an unsubscribe request, for a set of keywords.

    Keywords may contain spaces (``STOP SMS``); those match the whole text only.
    """

    def __init__(self, keywords: Iterable[str] = DEFAULT_STOP_KEYWORDS) -> None:
        self._keywords = frozenset(k for k in (_normalize(w) for w in keywords) if k)
        if not self._keywords:
            raise ValueError("give at least one STOP keyword")

    @property
    def keywords(self) -> frozenset[str]:
        """The keywords as compared (folded and trimmed)."""
        return self._keywords

    def matches(self, text: str) -> bool:
        """Whether ``text`` — its whole, or its first word — is a STOP keyword."""
        whole = _normalize(text)
        if not whole:
            return False
        if whole in self._keywords:
            return True
        first_word = _trim(whole.split(" ", 1)[0])
        return first_word in self._keywords
