"""Tests for the delivery receipt parser."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import ReceiptFormatError
from smscope.receipts import Receipt, parse_receipt
from smscope.receipts.parser import parse_general
from tests.receipts.corpus import CORPUS

SPEC = (
    "id:0123456789 sub:001 dlvrd:001 submit date:1005232039 done date:1005242339 "
    "stat:DELIVRD err:000 text:Hello world"
)


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 25


@pytest.mark.parametrize(("source", "raw", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(source: str, raw: str | bytes, expected: dict[str, Any]) -> None:
    receipt = parse_receipt(raw)
    assert receipt.id and receipt.stat is not None
    for name, value in expected.items():
        assert getattr(receipt, name) == value, (source, name)


def test_all_fields() -> None:
    assert parse_receipt(SPEC) == Receipt(
        id="0123456789", sub="001", dlvrd="001", submit_date="1005232039",
        done_date="1005242339", stat="DELIVRD", err="000", text="Hello world",
    )


def test_key_case_and_underscores() -> None:
    r = parse_receipt(
        "ID:42 SUB:001 Dlvrd:001 Submit_Date:2401010000 DONE_DATE:240101000000 "
        "Stat:delivrd ERR:0 TEXT:Hi"
    )
    assert (r.id, r.sub, r.dlvrd, r.submit_date, r.done_date, r.stat, r.err, r.text) == (
        "42", "001", "001", "2401010000", "240101000000", "delivrd", "0", "Hi"
    )


def test_odd_spacing() -> None:
    r = parse_receipt("  id: 42\tsub:001   dlvrd:\t001 submit  date:2401010000  stat: DELIVRD ")
    assert (r.id, r.sub, r.dlvrd, r.submit_date, r.stat) == (
        "42", "001", "001", "2401010000", "DELIVRD"
    )


def test_text_keeps_colons_keys_and_spaces() -> None:
    r = parse_receipt("id:1 stat:DELIVRD text: code: 1234 stat:X id:9 ")
    assert r.text == " code: 1234 stat:X id:9 "
    assert (r.id, r.stat) == ("1", "DELIVRD")


def test_value_with_colon() -> None:
    assert parse_receipt("id:abc:def stat:DELIVRD").id == "abc:def"


def test_absent_vs_empty() -> None:
    r = parse_receipt("id:1 sub: dlvrd:001 stat:UNDELIV err:")
    assert r.sub == "" and r.err == "" and r.text is None and r.done_date is None


def test_empty_stat_is_a_receipt() -> None:
    assert parse_receipt("id:1 stat:").stat == ""


def test_first_occurrence_wins() -> None:
    r = parse_receipt("id:1 stat:DELIVRD id:2 stat:UNDELIV")
    assert (r.id, r.stat) == ("1", "DELIVRD")


def test_trailing_nuls_and_encodings() -> None:
    assert parse_receipt(SPEC.encode("ascii") + b"\x00\x00").text == "Hello world"
    latin = parse_receipt(b"id:1 stat:DELIVRD text:caf\xe9")
    assert latin.text == "café"
    utf8 = parse_receipt("id:1 stat:DELIVRD text:café €".encode())
    assert utf8.text == "café €"
    assert parse_receipt(bytearray(b"id:1 stat:DELIVRD")).id == "1"  # type: ignore[arg-type]


def test_extra_fields_kept_but_not_compared() -> None:
    a = parse_receipt("id:1 stat:DELIVRD IMSI:123 MCCMNC:21910 text:x")
    b = parse_receipt("id:1 stat:DELIVRD text:x")
    assert a.extra == {"IMSI": "123", "MCCMNC": "21910"}
    assert a == b
    assert hash(a) == hash(b)


def test_receipt_is_frozen() -> None:
    r = parse_receipt(SPEC)
    with pytest.raises(AttributeError):
        r.id = "2"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no 'id:'"),
        ("hello world", "no 'id:'"),
        ("stat:DELIVRD err:000", "no 'id:'"),
        ("id: stat:DELIVRD", "'id:' field is empty"),
        ("id:123 sub:001 dlvrd:001 err:000 text:x", "no 'stat:'"),
        ("xid:1 stat:DELIVRD", "no 'id:'"),
        ("id:1 text:stat:DELIVRD", "no 'stat:'"),
        ("i:0123456789 sub:002 stat:DELIVRD", "no 'id:'"),
        (b"\xff\xfe\x00", "no 'id:'"),
    ],
)
def test_not_a_receipt(text: str | bytes, why: str) -> None:
    with pytest.raises(ReceiptFormatError, match=why):
        parse_receipt(text)


def test_wrong_type_is_a_receipt_format_error() -> None:
    with pytest.raises(ReceiptFormatError, match="not int"):
        parse_receipt(42)  # type: ignore[arg-type]


def _check_never_crashes(raw: str | bytes) -> None:
    try:
        receipt = parse_receipt(raw)
    except ReceiptFormatError as exc:
        assert str(exc)
    else:
        assert receipt.id and receipt.stat is not None


_KEYS = st.sampled_from(
    ["id:", "ID:", "stat:", "Stat:", "err:", "text:", "Text:", "sub:", "submit date:",
     "done_date:", "x:", ":", " ", "\t", "\x00", "0A1B", "DELIVRD", "é", "€"]
)


@settings(max_examples=300)
@given(st.text())
def test_random_text_never_raises_anything_else(raw: str) -> None:
    _check_never_crashes(raw)


@settings(max_examples=300)
@given(st.binary())
def test_random_bytes_never_raise_anything_else(raw: bytes) -> None:
    _check_never_crashes(raw)


@settings(max_examples=300)
@given(st.lists(st.one_of(_KEYS, st.text(max_size=5)), max_size=20).map("".join))
def test_receipt_like_text_never_raises_anything_else(raw: str) -> None:
    _check_never_crashes(raw)
    _check_never_crashes(raw.encode("utf-8"))


@settings(max_examples=200)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Z", "C")), min_size=1).filter(
        lambda s: ":" not in s
    ),
    st.sampled_from(["DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", ""]),
    st.text(),
)
def test_roundtrip_fields(rid: str, stat: str, text: str) -> None:
    r = parse_receipt(f"id:{rid} sub:001 stat:{stat} err:000 text:{text}".rstrip("\x00"))
    assert (r.id, r.stat, r.err) == (rid, stat, "000")
    assert r.text == text.rstrip("\x00")


_VALUE = st.lists(st.one_of(_KEYS, st.text(max_size=4)), max_size=4).map("".join)


@settings(max_examples=500)
@given(st.lists(_VALUE, min_size=8, max_size=8), st.sampled_from(["text:", "Text:"]))
def test_appendix_b_shortcut_reads_what_the_general_rules_read(
        values: list[str], text_key: str) -> None:
    """The one-regex reading of Appendix B's layout gives what the general parser gives,
    whatever the values hold (blanks, colons, key-like words, NULs)."""
    rid, sub, dlvrd, submitted, done, stat, err, text = values
    raw = (f"id:{rid} sub:{sub} dlvrd:{dlvrd} submit date:{submitted} done date:{done} "
           f"stat:{stat} err:{err} {text_key}{text}")
    body = raw.rstrip("\x00")
    try:
        expected: Receipt | str = parse_general(body)
    except ReceiptFormatError as exc:
        expected = str(exc)
    try:
        got: Receipt | str = parse_receipt(raw)
    except ReceiptFormatError as exc:
        got = str(exc)
    assert got == expected
    if isinstance(got, Receipt) and isinstance(expected, Receipt):
        assert got.extra == expected.extra


def test_appendix_b_shortcut_takes_the_common_layout() -> None:
    assert parse_receipt(SPEC) == parse_general(SPEC)
    assert parse_receipt(SPEC).extra == {}
