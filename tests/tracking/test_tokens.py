"""Click tokens: fixed length, base62, signed; anything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscope.tracking import tokens
from smscope.tracking.tokens import ALPHABET, MAX_MESSAGE_ID, TOKEN_LENGTH, encode, parse, valid

SECRET = bytes(range(32))


@given(st.integers(1, MAX_MESSAGE_ID), st.integers(0, 31), st.integers(0, 2**31))
def test_a_token_says_its_message_and_link_and_checks(message_id: int, position: int,
                                                      campaign_id: int) -> None:
    token = encode(SECRET, message_id, campaign_id, position)
    assert len(token) == TOKEN_LENGTH and set(token) <= set(ALPHABET)
    parsed = parse(token)
    assert parsed is not None
    assert (parsed.message_id, parsed.position) == (message_id, position)
    assert valid(SECRET, parsed, campaign_id)
    assert not valid(SECRET, parsed, campaign_id + 1)
    assert not valid(bytes(32), parsed, campaign_id)


def test_a_flipped_character_is_refused() -> None:
    token = encode(SECRET, 123_456, 7, 0)
    refused = 0
    for i in range(TOKEN_LENGTH):
        for replacement in "0aZ9":
            if token[i] == replacement:
                continue
            tampered = token[:i] + replacement + token[i + 1:]
            parsed = parse(tampered)
            if parsed is None or not valid(SECRET, parsed, 7):
                refused += 1
    assert refused == sum(1 for i in range(TOKEN_LENGTH) for r in "0aZ9" if token[i] != r)


@pytest.mark.parametrize("token", ["", "abc", "0" * 11, "0" * 13, "0" * 12, "00000000000-",
                                   "00000000000é", "zzzzzzzzzzzz", "0000 0000000"])
def test_malformed_tokens_are_refused_before_any_lookup(token: str) -> None:
    assert parse(token) is None


def test_ids_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError):
        encode(SECRET, MAX_MESSAGE_ID + 1, 1, 0)
    with pytest.raises(ValueError):
        encode(SECRET, 1, 1, 32)


def test_the_token_has_room_for_its_fields() -> None:
    assert tokens.ID_BITS + tokens.POSITION_BITS + tokens.MAC_BITS <= 71
    assert 62**TOKEN_LENGTH >= 2**71
