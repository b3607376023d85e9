"""Tests for receipt id matching and the index key scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscope.receipts import ID_MODES, id_keys, ids_match, index_key, lookup_keys
from smscope.receipts.ids import keys_and_index

UUID = "74e02ee1-4e2f-4a6e-a78b-4b247d756a22"
U64_MAX = 2**64 - 1


@pytest.mark.parametrize(
    ("submit", "receipt", "mode", "expected"),
    [
        # hex in submit_sm_resp, decimal in the receipt, and the reverse
        ("0A1B", "2587", "auto", True),
        ("0A1B", "2587", "hex", True),
        ("2587", "0A1B", "auto", True),
        ("2587", "a1b", "dec", True),
        ("38601fa", "59113978", "hex", True),
        # case and leading zeros of hex do not matter
        ("0a1b", "A1B", "hex", True),
        ("0a1b", "000A1B", "auto", True),
        # leading zeros of decimal do not matter
        ("000123", "123", "auto", True),
        ("000123", "123", "dec", True),
        ("123", "0000000123", "dec", True),
        # decimal 123 is hex 7B
        ("000123", "7b", "dec", True),
        ("000123", "7B", "auto", True),
        # hex 123 is decimal 291
        ("123", "291", "hex", True),
        ("123", "291", "dec", False),
        ("123", "291", "auto", True),
        # different numbers
        ("0A1B", "2588", "auto", False),
        ("0A1B", "0A1C", "hex", False),
        ("000123", "124", "dec", False),
        # long 64-bit values
        (str(U64_MAX), format(U64_MAX, "X"), "dec", True),
        (format(U64_MAX, "x"), str(U64_MAX), "hex", True),
        (format(U64_MAX, "016x"), str(U64_MAX), "auto", True),
        ("16fee0e525", "98765432101", "hex", True),
        ("98765432101", "16FEE0E525", "auto", True),
        # 128-bit hex ids
        ("2E179B310EDE971B2760C72B7F026E1B", "2e179b310ede971b2760c72b7f026e1b", "hex", True),
        # UUIDs and other opaque ids: exact, case-sensitive
        (UUID, UUID, "string", True),
        (UUID, UUID, "auto", True),
        (UUID, UUID, "hex", True),
        (UUID, UUID.upper(), "string", False),
        (UUID, UUID.upper(), "auto", False),
        (UUID, UUID.replace("-", ""), "auto", False),
        ("MSG-12345", "MSG-12345", "auto", True),
        ("MSG-12345", "msg-12345", "string", False),
        # string mode never converts
        ("0A1B", "2587", "string", False),
        ("000123", "123", "string", False),
        ("123", "123", "string", True),
        # blanks around ids are not part of them
        (" 123 ", "123", "string", True),
        # empty ids never match
        ("", "", "auto", False),
        ("", "", "string", False),
        ("  ", "0", "auto", False),
        ("0", "", "hex", False),
        # zero
        ("0", "000", "auto", True),
        ("0", "0x0", "hex", False),
    ],
)
def test_ids_match(submit: str, receipt: str, mode: str, expected: bool) -> None:
    assert ids_match(submit, receipt, mode) is expected


def test_ambiguous_digits_are_read_both_ways_in_auto() -> None:
    # "12" is hex 0x12 = 18 and decimal 12
    assert id_keys("12") == {"s:12", "n:12", "n:18"}
    assert ids_match("12", "18") and ids_match("12", "12") and ids_match("12", "C")
    # so two submitted ids can share a key: lookup order says which is likelier
    assert id_keys("12") & id_keys("18") == {"n:18"}
    assert lookup_keys("18") == ("s:18", "n:18", "n:24")


def test_lookup_order_prefers_exact_then_mode_base() -> None:
    assert lookup_keys("0A1B") == ("s:0A1B", "n:2587")
    assert lookup_keys("123", "hex") == ("s:123", "n:291", "n:123")
    assert lookup_keys("123", "dec") == ("s:123", "n:123", "n:291")
    assert lookup_keys("123", "string") == ("s:123",)
    assert lookup_keys(UUID) == (f"s:{UUID}",)
    assert lookup_keys("") == ()


def test_id_keys_per_mode() -> None:
    assert id_keys("0A1B", "hex") == {"s:0A1B", "n:2587"}
    assert id_keys("0A1B", "dec") == {"s:0A1B"}  # not decimal: exact string only
    assert id_keys("000123", "dec") == {"s:000123", "n:123"}
    assert id_keys("000123", "string") == {"s:000123"}
    assert id_keys(UUID, "hex") == {f"s:{UUID}"}
    assert id_keys("") == frozenset()


def test_index_key() -> None:
    assert index_key("0A1B") == "n:2587"
    assert index_key("000123") == "n:123"
    assert index_key("000123", "hex") == "n:291"
    assert index_key("0A1B", "dec") == "s:0A1B"
    assert index_key(UUID) == f"s:{UUID}"
    assert index_key("abc", "string") == "s:abc"
    assert index_key("") is None


def test_single_index_key_is_found_by_lookup() -> None:
    # storing only index_key still finds the part by trying lookup_keys in order
    for submit, receipt, mode in [
        ("0A1B", "2587", "auto"), ("2587", "A1B", "auto"), ("000123", "123", "dec"),
        ("7B", "123", "hex"), (UUID, UUID, "auto"), ("12", "18", "hex"),
    ]:
        assert index_key(submit, mode) in lookup_keys(receipt, mode)


def test_very_long_numeric_ids_are_strings_only() -> None:
    long_id = "9" * 5000
    assert id_keys(long_id) == {f"s:{long_id}"}
    assert ids_match(long_id, long_id)
    assert not ids_match(long_id, "0" + long_id)


def test_unknown_mode() -> None:
    for fn in (id_keys, lookup_keys, index_key):
        with pytest.raises(ValueError, match="unknown id mode 'octal'"):
            fn("1", "octal")
    with pytest.raises(ValueError, match="unknown id mode"):
        ids_match("1", "1", "HEX")


@given(st.integers(min_value=0, max_value=2**128), st.integers(min_value=0, max_value=8))
def test_same_number_any_rendering_matches(value: int, zeros: int) -> None:
    hex_id, dec_id = "0" * zeros + format(value, "X"), "0" * zeros + str(value)
    assert ids_match(hex_id, dec_id, "hex")
    assert ids_match(dec_id, hex_id.lower(), "dec")
    assert ids_match(hex_id, dec_id, "auto")
    assert ids_match(dec_id, hex_id, "auto")


@given(st.text(max_size=30), st.sampled_from(ID_MODES))
def test_an_id_always_matches_itself(value: str, mode: str) -> None:
    assert ids_match(value, value, mode) is bool(value.strip())
    assert (index_key(value, mode) is None) is (not value.strip())


def test_leading_zeros_do_not_count_towards_the_length_limit() -> None:
    zeros = "0" * 5000
    assert ids_match(zeros + "1A", "26", "hex")
    assert ids_match(zeros, "0", "auto")


@given(st.one_of(st.text(max_size=12), st.text("0123456789abcdefABCDEF xyz", max_size=45),
                 st.integers(0, 2**130).map(str), st.integers(0, 2**130).map(hex)),
       st.sampled_from(ID_MODES))
def test_keys_and_index_is_lookup_keys_and_index_key(value: str, mode: str) -> None:
    assert keys_and_index(value, mode) == (lookup_keys(value, mode), index_key(value, mode))
