"""Message text in short_message, the concatenation header, and splitting for submit_sm.

The part counts are checked against :func:`smscope.text.measure`, which is what the
customer was shown and billed; the header bytes against TS 23.040 §9.2.3.24.1 / .8.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import PDUError
from smscope.smpp import (
    Concat,
    SubmitPart,
    SubmitSM,
    Tag,
    build_concat_udh,
    decode,
    decode_text,
    encode,
    encode_text,
    parse_udh,
    split_for_submit,
)
from smscope.text import GSM7_BASIC, measure

EMOJI = "\U0001f600"  # outside the BMP: a UTF-16 surrogate pair
HEADER_OCTETS = {"udh8": 6, "udh16": 7, "sar": 0}

# --------------------------------------------------------------------------------------
# data_coding
# --------------------------------------------------------------------------------------


def test_encode_text() -> None:
    assert encode_text("Hi €[", 0) == b"Hi \x1b\x65\x1b\x3c"
    assert encode_text("@£", 0) == b"\x00\x01"
    assert encode_text("Ж" + EMOJI, 8) == bytes.fromhex("0416" "d83d" "de00")
    assert encode_text("café", 3) == b"caf\xe9"
    assert encode_text("abc", 1) == b"abc"


@pytest.mark.parametrize(
    ("text", "data_coding"),
    [("Ж", 0), ("€", 3), ("é", 1), ("\ud800", 8), ("x", 4), ("x", 2)],
)
def test_encode_text_refuses(text: str, data_coding: int) -> None:
    with pytest.raises(PDUError):
        encode_text(text, data_coding)


def test_decode_text() -> None:
    assert decode_text(b"Hi \x1b\x65", 0) == "Hi €"
    assert decode_text(b"\x00\x01", 0xF1) == "@£"
    assert decode_text(bytes.fromhex("0416d83dde00"), 8) == "Ж" + EMOJI
    assert decode_text(b"caf\xe9", 3) == "café"


def test_decode_text_replaces_instead_of_raising() -> None:
    assert decode_text(b"a\x80", 0) == "a\ufffd"
    assert decode_text(b"\x00\x41\x00", 8) == "A\ufffd"  # odd length
    assert decode_text(bytes.fromhex("d83d0041"), 8) == "\ufffdA"  # lone surrogate
    assert decode_text(b"\xff", 1) == "\ufffd"
    assert decode_text(b"\xff", 4) == "\xff"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60), st.integers(0, 255))
def test_decode_text_never_raises(data: bytes, data_coding: int) -> None:
    assert isinstance(decode_text(data, data_coding), str)


# --------------------------------------------------------------------------------------
# User data header
# --------------------------------------------------------------------------------------


def test_concat_udh_bytes() -> None:
    assert build_concat_udh(0x42, 3, 1) == bytes.fromhex("05" "00" "03" "42" "03" "01")
    assert build_concat_udh(0x1234, 3, 2, ref16=True) == bytes.fromhex(
        "06" "08" "04" "1234" "03" "02"
    )


@pytest.mark.parametrize(
    ("reference", "total", "seqnum", "ref16"),
    [(256, 2, 1, False), (-1, 2, 1, False), (0x10000, 2, 1, True), (1, 2, 3, False),
     (1, 0, 0, False), (1, 256, 1, True)],
)
def test_concat_udh_refuses(reference: int, total: int, seqnum: int, ref16: bool) -> None:
    with pytest.raises(PDUError):
        build_concat_udh(reference, total, seqnum, ref16=ref16)


def test_parse_udh() -> None:
    assert parse_udh(bytes.fromhex("050003420301") + b"abc") == (Concat(0x42, 3, 1), b"abc")
    assert parse_udh(bytes.fromhex("06080412340302") + b"x") == (Concat(0x1234, 3, 2), b"x")
    # application port addressing (IEI 0x05) first, then concatenation
    ports = bytes.fromhex("0b" "05" "04" "0b84" "23f0" "00" "03" "07" "02" "02") + b"z"
    assert parse_udh(ports) == (Concat(7, 2, 2), b"z")
    assert parse_udh(bytes.fromhex("00") + b"q") == (None, b"q")
    assert parse_udh(bytes.fromhex("050003070000")) == (None, b"")  # zero total: ignored


@pytest.mark.parametrize(
    "raw",
    [
        "",  # no header length at all
        "06000342",  # header length 6, 3 octets follow
        "03000342",  # element of 3 octets in a header of 3 (with its IEI and length)
        "0100",  # header ends between an IEI and its length
        "020004",  # element runs past the header
    ],
)
def test_parse_udh_refuses(raw: str) -> None:
    with pytest.raises(PDUError):
        parse_udh(bytes.fromhex(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_parse_udh_garbage(data: bytes) -> None:
    try:
        _, rest = parse_udh(data)
    except PDUError:
        return
    assert data.endswith(rest)


# --------------------------------------------------------------------------------------
# split_for_submit
# --------------------------------------------------------------------------------------

TEXTS = {
    "gsm 160": "a" * 160,
    "gsm 161": "a" * 161,
    "gsm ext 80": "€" * 80,
    "gsm ext 81": "€" * 81,
    "gsm 306": "b" * 306,
    "gsm 307": "b" * 307,
    "ucs2 70": "Ж" * 70,
    "ucs2 71": "Ж" * 71,
    "ucs2 134": "Ж" * 134,
    "ucs2 135": "Ж" * 135,
    "emoji 35": EMOJI * 35,
    "emoji 36": EMOJI * 36,
    "emoji mixed": "x" + EMOJI * 40,
    "one": "x",
}


def reassemble(parts: list[SubmitPart]) -> str:
    text = []
    for short_message, esm_class, data_coding, _ in parts:
        payload = short_message
        if esm_class & 0x40:
            _, payload = parse_udh(short_message)
        text.append(decode_text(payload, data_coding))
    return "".join(text)


def septets_with_header(short_message: bytes, udh: bool) -> int:
    """Septets a GSM part fills on the air: header padded to a septet boundary + text."""
    if not udh:
        return len(short_message)
    header = short_message[0] + 1
    return math.ceil(header * 8 / 7) + len(short_message) - header


@pytest.mark.parametrize("mode", ["udh8", "udh16", "sar"])
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_parts_equal_measure(name: str, mode: str) -> None:
    text = TEXTS[name]
    parts = split_for_submit(text, mode, ref=200)  # type: ignore[arg-type]
    expected = measure(text, HEADER_OCTETS[mode])
    assert len(parts) == expected.segments
    assert reassemble(parts) == text
    gsm = expected.encoding == "GSM-7"
    for seqnum, (short_message, esm_class, data_coding, tlvs) in enumerate(parts, 1):
        assert data_coding == (0 if gsm else 8)
        udh = bool(esm_class & 0x40)
        assert udh == (mode != "sar" and len(parts) > 1)
        if gsm:
            assert septets_with_header(short_message, udh) <= 160
        else:
            assert len(short_message) <= 140
            if udh:
                assert "\ufffd" not in decode_text(parse_udh(short_message)[1], 8)
        if udh:
            assert parse_udh(short_message)[0] == Concat(200, len(parts), seqnum)
        if mode == "sar" and len(parts) > 1:
            assert tlvs == {0x020C: 200, 0x020E: len(parts), 0x020F: seqnum}
        else:
            assert tlvs == {}


def test_boundaries_by_hand() -> None:
    assert [p.short_message for p in split_for_submit("a" * 160)] == [b"a" * 160]
    first, second = split_for_submit("a" * 161, "udh8", ref=7)
    assert first.short_message == bytes.fromhex("050003070201") + b"a" * 153
    assert second.short_message == bytes.fromhex("050003070202") + b"a" * 8
    assert first.esm_class == 0x40
    first16, _ = split_for_submit("a" * 161, "udh16", ref=0x0102)
    assert first16.short_message == bytes.fromhex("06080401020201") + b"a" * 152
    assert len(split_for_submit("Ж" * 70)) == 1
    assert [len(p.short_message) for p in split_for_submit("Ж" * 71)] == [6 + 134, 6 + 8]
    # 33 emoji fill 66 of 67 units; the 34th would be cut in two, so it moves on
    assert [len(p.short_message) for p in split_for_submit(EMOJI * 36)] == [6 + 132, 6 + 12]


def test_sar_parts_travel_in_submit_sm() -> None:
    parts = split_for_submit("c" * 200, "sar", ref=0xBEEF)
    assert len(parts) == 2
    for part in parts:
        pdu = SubmitSM(
            short_message=part.short_message,
            esm_class=part.esm_class,
            data_coding=part.data_coding,
            tlvs=part.tlvs,
        )
        assert decode(encode(pdu)) == pdu
    assert parts[1].tlvs == {
        Tag.SAR_MSG_REF_NUM: 0xBEEF,
        Tag.SAR_TOTAL_SEGMENTS: 2,
        Tag.SAR_SEGMENT_SEQNUM: 2,
    }


def test_payload_mode() -> None:
    text = "Ж" * 500 + EMOJI
    (part,) = split_for_submit(text, "payload")
    assert part.short_message == b""
    assert part.esm_class == 0
    assert part.data_coding == 8
    assert part.tlvs == {Tag.MESSAGE_PAYLOAD: text.encode("utf-16-be")}
    pdu = SubmitSM(data_coding=8, tlvs=part.tlvs)
    assert decode(encode(pdu)) == pdu
    (short,) = split_for_submit("hi", "payload")
    assert short.tlvs == {Tag.MESSAGE_PAYLOAD: b"hi"}


def test_split_for_submit_edge_cases() -> None:
    assert split_for_submit("") == []
    assert split_for_submit("", "payload") == []
    with pytest.raises(PDUError):
        split_for_submit("x", "udh8", ref=256)
    with pytest.raises(PDUError):
        split_for_submit("x", "udh16", ref=0x10000)
    with pytest.raises(PDUError):
        split_for_submit("x", "udh", ref=1)  # type: ignore[arg-type]
    with pytest.raises(PDUError, match="255"):
        split_for_submit("a" * 153 * 256, "udh8")


gsm_chars = st.sampled_from([c for i, c in enumerate(GSM7_BASIC) if i != 0x1B] + list("€[]{}"))
any_chars = st.one_of(gsm_chars, st.sampled_from(["Ж", "é", EMOJI, "\u4e2d"]))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.text(gsm_chars, max_size=500), st.text(any_chars, max_size=300)),
    st.sampled_from(["udh8", "udh16", "sar"]),
)
def test_any_text_splits_as_measured(text: str, mode: str) -> None:
    parts = split_for_submit(text, mode, ref=1)  # type: ignore[arg-type]
    assert len(parts) == measure(text, HEADER_OCTETS[mode]).segments
    assert reassemble(parts) == text
