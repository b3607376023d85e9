"""Which parts of a campaign's text are links, and the text with them rewritten as
short tracked links ``{public_url}/c/{token}`` (pure: no I/O, no configuration).

Links are found by linkify-it-py (the maintained Python port of the linkify-it library
behind markdown-it), not by a home-made expression: it knows where a URL ends before
sentence punctuation and unbalanced brackets (``(see https://x.example/a_(b)).``), the
whole Unicode range of international domain names, and scheme-less host names with a
known top-level domain.

What counts as a link (SPEC §5.3; documented in the README):

* an ``http://`` or ``https://`` URL, any host;
* a host name written without a scheme (``shop.example.com/soldes``) when it starts
  with ``www.``, is followed by a path or query, or ends in a generic top-level domain
  (``.com``, ``.shop``, ``.info``…). A bare ``word.xx`` with a two-letter country code
  is not: SMS texts are full of missing spaces (``Bonjour.ca va``, ``ok.je viens``).
  A scheme-less link redirects to ``http://`` + what was written;
* never an e-mail address, ``mailto:``, ``ftp:`` or a protocol-relative ``//host``;
* never a URL that touches a placeholder (``https://x.example/?u={number}``) or sits
  inside one: its text differs per recipient, so it is sent as written, untracked
  (tracking it would need a stored row per recipient);
* at most :data:`MAX_LINKS` distinct URLs per campaign are tracked; the next ones are
  sent as written.

Links are found in the campaign's *template*, so the values of placeholders (contact
data) are never rewritten. The text is cut into pieces around its links; each piece
is rendered for the recipient, and the links become tracked links whose token is the
same length for every recipient, so a campaign's segment count is known before it is
sent and is the same in the composer, the cost estimate and the SMSC.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from linkify_it import LinkifyIt

from smscope.tracking.tokens import TOKEN_LENGTH

__all__ = ["MAX_LINKS", "PATH", "FoundLink", "TrackedText", "find_links", "is_tracked_url",
           "preview", "rewrite", "split_links", "tracked_base", "tracked_urls_in"]

#: the path of the redirect endpoint, before the token
PATH: Final = "/c/"
#: distinct URLs tracked per campaign (the token has room for this many link numbers)
MAX_LINKS: Final = 32

# Newer generic top-level domains, on top of linkify-it's own list (com, net, org, shop,
# info…) and every two-letter country code.
_MORE_TLDS: Final = ["app", "dev", "store", "online", "site", "xyz", "club", "blog", "tech",
                     "live", "top", "sale", "promo", "page", "link"]
_PLACEHOLDER_RX: Final = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
_PATH_RX: Final = re.compile(r"[/?#]")
_TRACKED_RX: Final = re.compile(
    r"https?://[^\s/?#]+" + re.escape(PATH) + f"[0-9A-Za-z]{{{TOKEN_LENGTH}}}(?![0-9A-Za-z])")


def _linkify() -> LinkifyIt:
    finder = LinkifyIt(options={"fuzzy_email": False, "fuzzy_ip": False})
    finder.tlds(_MORE_TLDS, True)
    return finder


# LinkifyIt keeps the state of its last scan on the instance: one scan at a time.
_FINDER: Final = _linkify()
_FINDER_LOCK: Final = threading.Lock()


@dataclass(frozen=True, slots=True)
class FoundLink:
    """One link of a text: ``text[start:end]`` as written, and the URL it leads to."""

    start: int
    end: int
    written: str
    url: str


def _scheme_less_counts(written: str) -> bool:
    if written.lower().startswith("www.") or _PATH_RX.search(written):
        return True
    tld = written.split(":", 1)[0].rsplit(".", 1)[-1]
    return len(tld) > 2


def _placeholder_spans(template: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PLACEHOLDER_RX.finditer(template)
            if m.group() not in ("{{", "}}")]


@lru_cache(maxsize=256)
def find_links(template: str) -> tuple[FoundLink, ...]:
    """The links of ``template`` that are tracked, in order (see the module's rules)."""
    with _FINDER_LOCK:
        matches = _FINDER.match(template) or []
        found = [(m.schema.lower(), m.index, m.last_index, m.raw, m.url) for m in matches]
    spans = _placeholder_spans(template)
    links: list[FoundLink] = []
    for schema, start, end, written, url in found:
        if schema not in ("http:", "https:", ""):
            continue
        if schema == "" and not _scheme_less_counts(written):
            continue
        if "{" in written or "}" in written or template[end:end + 1] == "{":
            continue
        if any(s < end and start < e for s, e in spans):
            continue
        links.append(FoundLink(start, end, written, url))
    return tuple(links)


@dataclass(frozen=True, slots=True)
class TrackedText:
    """A template cut around its links: ``pieces[0] + link 0 + pieces[1] + … +
    pieces[-1]``. Each piece is itself a template (a link never cuts a placeholder)."""

    pieces: tuple[str, ...]
    links: tuple[FoundLink, ...]
    #: the distinct URLs in order of first appearance; ``slots[i]`` is the index there
    #: of link ``i``
    urls: tuple[str, ...]
    slots: tuple[int, ...]

    def join(self, pieces: Sequence[str], links: Sequence[str]) -> str:
        """``pieces`` (rendered) with ``links[i]`` in place of link ``i``."""
        out = [pieces[0]]
        for link, piece in zip(links, pieces[1:], strict=True):
            out.append(link)
            out.append(piece)
        return "".join(out)


@lru_cache(maxsize=256)
def split_links(template: str) -> TrackedText:
    """``template`` cut around its tracked links (at most :data:`MAX_LINKS` distinct
    URLs; later new ones stay in the pieces, untracked)."""
    pieces: list[str] = []
    links: list[FoundLink] = []
    urls: dict[str, int] = {}
    slots: list[int] = []
    previous = 0
    for link in find_links(template):
        slot = urls.get(link.url)
        if slot is None:
            if len(urls) == MAX_LINKS:
                continue
            slot = urls[link.url] = len(urls)
        pieces.append(template[previous:link.start])
        links.append(link)
        slots.append(slot)
        previous = link.end
    pieces.append(template[previous:])
    return TrackedText(tuple(pieces), tuple(links), tuple(urls), tuple(slots))


def tracked_base(public_url: str) -> str:
    """What every tracked link starts with: ``{public_url}/c/``."""
    return public_url.rstrip("/") + PATH


def rewrite(template: str, url_for: Callable[[str], str]) -> str:
    """``template`` with each tracked link replaced by ``url_for(original_url)``; the
    rest of the text is left exactly as it was."""
    tracked = split_links(template)
    return tracked.join(tracked.pieces, [url_for(link.url) for link in tracked.links])


def preview(template: str, public_url: str) -> str:
    """``template`` as it will be sent, for counting: every tracked link replaced by a
    tracked link of ``public_url`` (tokens all have the same length, so the count is
    exact for every recipient)."""
    stand_in = tracked_base(public_url) + "0" * TOKEN_LENGTH
    return rewrite(template, lambda _url: stand_in)


def is_tracked_url(url: str, public_url: str) -> bool:
    """True if ``url`` is a tracked link of ``public_url`` (what the simulator may
    fetch: nothing else)."""
    base = tracked_base(public_url)
    return (url.startswith(base) and _TRACKED_RX.fullmatch(url) is not None
            and len(url) == len(base) + TOKEN_LENGTH)


def tracked_urls_in(text: str, public_url: str) -> list[str]:
    """The tracked links of ``public_url`` in a message as it was sent."""
    return [m.group() for m in _TRACKED_RX.finditer(text) if is_tracked_url(m.group(),
                                                                           public_url)]
