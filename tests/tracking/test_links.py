"""Finding links and rewriting them as tracked links (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscope.text import measure, render
from smscope.tracking.links import (
    MAX_LINKS,
    find_links,
    is_tracked_url,
    preview,
    rewrite,
    split_links,
    tracked_urls_in,
)
from smscope.tracking.tokens import TOKEN_LENGTH

BASE = "http://127.0.0.1:8000"
TRACKED_RX = re.compile(r"http://127\.0\.0\.1:8000/c/[0-9A-Za-z]{12}")


def urls(text: str) -> list[str]:
    return [link.url for link in find_links(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Soldes: https://shop.example/sale?x=1.", ["https://shop.example/sale?x=1"]),
    ("voir (https://x.example/a_(b)), vite", ["https://x.example/a_(b)"]),
    ("Go shop.example.com/soldes!", ["http://shop.example.com/soldes"]),
    ("Go www.example.fr.", ["http://www.example.fr"]),
    ("Go boutique.com?", ["http://boutique.com"]),
    ("Go example.fr/x, ok", ["http://example.fr/x"]),
    ("HTTP://X.EXAMPLE et http://y.example/?q=1", ["HTTP://X.EXAMPLE", "http://y.example/?q=1"]),
    ("https://exemple.fr/été !", ["https://exemple.fr/été"]),
])
def test_links_are_found_without_the_punctuation_after_them(text: str,
                                                            expected: list[str]) -> None:
    assert urls(text) == expected


@pytest.mark.parametrize("text", [
    "Bonjour.ca va ? ok.je viens",  # missing spaces, not links
    "Reply STOP to opt out. Call 0800-123.",
    "écrivez à contact@example.com",
    "ftp://files.example.com/a et //cdn.example.com/x et mailto:a@example.com",
    "-20 % ce week-end à Lyon ! STOP au 36180",
])
def test_what_is_not_a_link_is_left_alone(text: str) -> None:
    assert urls(text) == []
    assert rewrite(text, lambda url: "X") == text


@pytest.mark.parametrize("text", [
    "Bonjour https://x.example/?u={number} !",
    "Bonjour {site|https://x.example} !",
    "Bonjour https://x.example/{{a}} !",
])
def test_a_link_that_touches_a_placeholder_is_sent_as_written(text: str) -> None:
    assert urls(text) == []


def test_the_pieces_around_links_render_like_the_whole_template() -> None:
    template = "Bonjour {first_name|toi}, shop.example.com/x {{promo}} {city}!"
    tracked = split_links(template)
    values = {"first_name": "Léa", "city": "Lyon"}
    pieces = [render(piece, values) for piece in tracked.pieces]
    assert tracked.join(pieces, [link.written for link in tracked.links]) == render(
        template, values)


def test_the_same_url_twice_is_one_link_number() -> None:
    tracked = split_links("a.example.com/x b.example.com/y a.example.com/x")
    assert tracked.urls == ("http://a.example.com/x", "http://b.example.com/y")
    assert tracked.slots == (0, 1, 0)


def test_at_most_max_links_distinct_urls_are_tracked() -> None:
    text = " ".join(f"https://x.example/{i}" for i in range(MAX_LINKS + 3))
    tracked = split_links(text)
    assert len(tracked.urls) == MAX_LINKS
    assert tracked.pieces[-1].strip().split() == [
        f"https://x.example/{i}" for i in range(MAX_LINKS, MAX_LINKS + 3)]


def test_preview_counts_the_tracked_link_not_the_long_one() -> None:
    long = "Soldes: https://shop.example.com/" + "a" * 200
    shown = preview(long, BASE + "/")
    assert shown == f"Soldes: {BASE}/c/" + "0" * TOKEN_LENGTH
    assert measure(shown).segments == 1 and measure(long).segments == 2


def test_only_tracked_links_of_the_public_url_are_recognised() -> None:
    token = "0" * 11 + "Z"
    assert is_tracked_url(f"{BASE}/c/{token}", BASE)
    assert not is_tracked_url(f"{BASE}/c/{token}x", BASE)
    assert not is_tracked_url(f"http://evil.example/c/{token}", BASE)
    assert not is_tracked_url(f"{BASE}/x/{token}", BASE)
    text = f"Hi {BASE}/c/{token}. and http://evil.example/c/{token} {BASE}/c/short"
    assert tracked_urls_in(text, BASE) == [f"{BASE}/c/{token}"]


# text made of words, separators and link-like pieces, to rewrite
_piece = st.one_of(
    st.text(alphabet="abcdefghij éà!?.,;:()-%€'", max_size=8),
    st.sampled_from([" ", "\n", ". ", ", ", "(", ")", "!"]),
    st.builds(lambda host, path: f"https://{host}.example/{path}",
              st.from_regex(r"[a-z]{1,8}", fullmatch=True),
              st.from_regex(r"[a-z0-9_\-]{0,8}", fullmatch=True)),
    st.builds(lambda host: f"www.{host}.com", st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
    st.builds(lambda host, path: f"{host}.shop/{path}",
              st.from_regex(r"[a-z]{1,8}", fullmatch=True),
              st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True)),
)


@given(st.lists(_piece, max_size=12).map("".join))
def test_rewriting_replaces_every_link_and_nothing_else(text: str) -> None:
    links = find_links(text)
    counter = iter(range(10**6))
    rewritten = rewrite(text, lambda url: f"{BASE}/c/{next(counter):012d}")
    # no original URL is left: the only links in the result are tracked links (a
    # finder may take the punctuation after one as part of it: the endpoint copes)
    assert all(TRACKED_RX.match(link.written) for link in find_links(rewritten))
    # every tracked link has the fixed form, one per link found
    assert len(TRACKED_RX.findall(rewritten)) == len(links)
    # the text between links is unchanged
    outside, previous = [], 0
    for link in links:
        outside.append(text[previous:link.start])
        previous = link.end
    outside.append(text[previous:])
    assert TRACKED_RX.split(rewritten) == outside
