"""Tests for smscope.text: GSM 03.38 tables, segment arithmetic, placeholders, links.

Reference values are written out by hand (or computed by a deliberately naive reference
in this file), never by calling the code under test twice.
"""

from __future__ import annotations

import unicodedata
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import TemplateError
from smscope.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Measure,
    Placeholder,
    check_template,
    decode_gsm7,
    encode_gsm7,
    is_gsm7,
    measure,
    placeholders,
    render,
    split,
)

EXTENSION_CHARS = "\x0c^{}\\[~]|€"
PRINTABLE_EXTENSION_CHARS = "€^{}\\[~]|"
EMOJI = "\U0001f600"  # grinning face, outside the BMP: a UTF-16 surrogate pair

# --------------------------------------------------------------------------------------
# The tables, against TS 23.038 §6.2.1 written as Unicode names (an independent spelling)
# --------------------------------------------------------------------------------------

# Positions where the GSM septet is NOT the same code point as ASCII.
NON_ASCII_POSITIONS = {
    0x00: "COMMERCIAL AT",
    0x01: "POUND SIGN",
    0x02: "DOLLAR SIGN",
    0x03: "YEN SIGN",
    0x04: "LATIN SMALL LETTER E WITH GRAVE",
    0x05: "LATIN SMALL LETTER E WITH ACUTE",
    0x06: "LATIN SMALL LETTER U WITH GRAVE",
    0x07: "LATIN SMALL LETTER I WITH GRAVE",
    0x08: "LATIN SMALL LETTER O WITH GRAVE",
    0x09: "LATIN CAPITAL LETTER C WITH CEDILLA",
    0x0B: "LATIN CAPITAL LETTER O WITH STROKE",
    0x0C: "LATIN SMALL LETTER O WITH STROKE",
    0x0E: "LATIN CAPITAL LETTER A WITH RING ABOVE",
    0x0F: "LATIN SMALL LETTER A WITH RING ABOVE",
    0x10: "GREEK CAPITAL LETTER DELTA",
    0x11: "LOW LINE",
    0x12: "GREEK CAPITAL LETTER PHI",
    0x13: "GREEK CAPITAL LETTER GAMMA",
    0x14: "GREEK CAPITAL LETTER LAMDA",
    0x15: "GREEK CAPITAL LETTER OMEGA",
    0x16: "GREEK CAPITAL LETTER PI",
    0x17: "GREEK CAPITAL LETTER PSI",
    0x18: "GREEK CAPITAL LETTER SIGMA",
    0x19: "GREEK CAPITAL LETTER THETA",
    0x1A: "GREEK CAPITAL LETTER XI",
    0x1C: "LATIN CAPITAL LETTER AE",
    0x1D: "LATIN SMALL LETTER AE",
    0x1E: "LATIN SMALL LETTER SHARP S",
    0x1F: "LATIN CAPITAL LETTER E WITH ACUTE",
    0x24: "CURRENCY SIGN",
    0x40: "INVERTED EXCLAMATION MARK",
    0x5B: "LATIN CAPITAL LETTER A WITH DIAERESIS",
    0x5C: "LATIN CAPITAL LETTER O WITH DIAERESIS",
    0x5D: "LATIN CAPITAL LETTER N WITH TILDE",
    0x5E: "LATIN CAPITAL LETTER U WITH DIAERESIS",
    0x5F: "SECTION SIGN",
    0x60: "INVERTED QUESTION MARK",
    0x7B: "LATIN SMALL LETTER A WITH DIAERESIS",
    0x7C: "LATIN SMALL LETTER O WITH DIAERESIS",
    0x7D: "LATIN SMALL LETTER N WITH TILDE",
    0x7E: "LATIN SMALL LETTER U WITH DIAERESIS",
    0x7F: "LATIN SMALL LETTER A WITH GRAVE",
}
ESCAPE = 0x1B


def test_basic_table_matches_the_standard_septet_by_septet() -> None:
    assert len(GSM7_BASIC) == 128
    for septet, char in enumerate(GSM7_BASIC):
        if septet == ESCAPE:
            continue
        if septet in NON_ASCII_POSITIONS:
            assert unicodedata.name(char) == NON_ASCII_POSITIONS[septet], hex(septet)
        else:
            assert char == chr(septet), hex(septet)


def test_extension_table_matches_the_standard() -> None:
    assert dict(GSM7_EXTENSION) == {
        "\x0c": 0x0A,
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "\N{EURO SIGN}": 0x65,
    }


def test_capital_c_cedilla_is_gsm_at_0x09() -> None:
    assert encode_gsm7("Ç") == b"\x09"
    assert measure("Ç").encoding == "GSM-7"


def test_lowercase_c_cedilla_switches_the_whole_message_to_ucs2() -> None:
    m = measure("Garçon, " + "a" * 100)
    assert m.encoding == "UCS-2"
    assert m.units == 108
    assert m.segments == 2  # 108 > 70


def test_escape_character_itself_is_not_a_gsm_character() -> None:
    assert not is_gsm7("\x1b")
    assert measure("a\x1b").encoding == "UCS-2"
    with pytest.raises(UnicodeEncodeError):
        encode_gsm7("\x1b")


def test_dollar_is_0x02_and_currency_sign_is_0x24() -> None:
    assert encode_gsm7("$¤@") == b"\x02\x24\x00"


# --------------------------------------------------------------------------------------
# Septet encoding and decoding
# --------------------------------------------------------------------------------------


def test_extension_characters_encode_as_escape_pairs() -> None:
    assert encode_gsm7("€") == b"\x1b\x65"
    assert encode_gsm7("a{b}") == b"\x61\x1b\x28\x62\x1b\x29"
    assert encode_gsm7("\x0c") == b"\x1b\x0a"
    assert encode_gsm7("\n") == b"\x0a"


def test_encoding_a_non_gsm_character_raises_a_value_error_naming_its_position() -> None:
    with pytest.raises(ValueError) as info:
        encode_gsm7("ab😀")
    assert isinstance(info.value, UnicodeEncodeError)
    assert info.value.start == 2


def test_encode_replace_sends_a_question_mark() -> None:
    assert encode_gsm7("aç", errors="replace") == b"a?"


def test_every_gsm_character_round_trips() -> None:
    text = "".join(c for i, c in enumerate(GSM7_BASIC) if i != ESCAPE) + EXTENSION_CHARS
    assert decode_gsm7(encode_gsm7(text)) == text


def test_decode_reads_escape_pairs() -> None:
    assert decode_gsm7(b"\x1b\x65 \x09\x1b\x0a") == "€ Ç\x0c"


@pytest.mark.parametrize(
    "data",
    [b"a\x1b", b"\x1b\x41", b"\x1b\x1b\x41", b"\x80", b"ab\xff"],
    ids=["trailing-escape", "undefined-escape", "escape-escape", "high-bit", "high-byte"],
)
def test_decode_strict_rejects_what_is_not_gsm(data: bytes) -> None:
    with pytest.raises(UnicodeDecodeError):
        decode_gsm7(data)


def test_decode_replace_degrades_like_a_handset() -> None:
    # undefined escape -> basic character, escape-escape -> space, trailing escape dropped
    assert decode_gsm7(b"\x1b\x41x", errors="replace") == "Ax"
    assert decode_gsm7(b"\x1b\x1bA", errors="replace") == " A"
    assert decode_gsm7(b"ok\x1b", errors="replace") == "ok"
    assert decode_gsm7(b"a\x80", errors="replace") == "a\ufffd"


# --------------------------------------------------------------------------------------
# measure(): hand-computed boundaries
# --------------------------------------------------------------------------------------


def test_empty_text_is_gsm_with_no_segments() -> None:
    assert measure("") == Measure(
        encoding="GSM-7", units=0, segments=0, characters=0, per_segment=160, remaining=160
    )
    assert split("") == []


def test_160_gsm_characters_fit_one_segment() -> None:
    assert measure("a" * 160) == Measure("GSM-7", 160, 1, 160, 160, 0)


def test_161_gsm_characters_take_two_segments() -> None:
    m = measure("a" * 161)
    assert (m.segments, m.per_segment, m.remaining) == (2, 153, 153 - 8)


def test_306_gsm_characters_take_two_segments_and_307_take_three() -> None:
    assert measure("a" * 306).segments == 2
    assert measure("a" * 306).remaining == 0
    assert measure("a" * 307).segments == 3


def test_70_ucs2_characters_fit_one_segment_and_71_take_two() -> None:
    assert measure("ж" * 70) == Measure("UCS-2", 70, 1, 70, 70, 0)
    m = measure("ж" * 71)
    assert (m.encoding, m.segments, m.per_segment, m.remaining) == ("UCS-2", 2, 67, 63)


def test_134_ucs2_units_take_two_segments_and_135_take_three() -> None:
    assert measure("ж" * 134).segments == 2
    assert measure("ж" * 135).segments == 3


def test_cr_and_lf_are_gsm_single_septets() -> None:
    m = measure("line one\r\nline two\n")
    assert (m.encoding, m.units, m.characters) == ("GSM-7", 19, 19)


@pytest.mark.parametrize("char", list(EXTENSION_CHARS))
def test_extension_character_counts_two_septets_at_the_160_boundary(char: str) -> None:
    assert measure("a" * 158 + char) == Measure("GSM-7", 160, 1, 159, 160, 0)
    m = measure("a" * 159 + char)
    assert (m.units, m.segments, m.characters) == (161, 2, 160)


@pytest.mark.parametrize("char", list(PRINTABLE_EXTENSION_CHARS))
def test_escape_pair_straddling_the_153_border_moves_to_the_next_segment(char: str) -> None:
    # 152 + 2 + 151 = 305 septets: would fit 2 x 153 anyway, the pair starts part 2
    parts = split("a" * 152 + char + "a" * 151)
    assert parts == ["a" * 152, char + "a" * 151]
    # 152 + 2 + 152 = 306 septets = 2 x 153, but the moved pair costs a third segment
    text = "a" * 152 + char + "a" * 152
    m = measure(text)
    assert (m.units, m.segments, m.remaining) == (306, 3, 152)
    assert split(text) == ["a" * 152, char + "a" * 151, "a"]


@pytest.mark.parametrize("char", list(PRINTABLE_EXTENSION_CHARS))
def test_escape_pair_ending_exactly_at_153_stays_in_the_first_segment(char: str) -> None:
    assert split("a" * 151 + char + "a" * 10) == ["a" * 151 + char, "a" * 10]


def test_emoji_counts_two_ucs2_units() -> None:
    m = measure(EMOJI)
    assert (m.encoding, m.units, m.characters, m.segments) == ("UCS-2", 2, 1, 1)
    assert measure(EMOJI * 35).segments == 1
    assert measure(EMOJI * 35 + "a").segments == 2


def test_one_emoji_switches_the_whole_message_to_ucs2() -> None:
    m = measure("a" * 100 + EMOJI)
    assert (m.encoding, m.units, m.segments) == ("UCS-2", 102, 2)


def test_emoji_is_never_split_at_the_67_border() -> None:
    text = "ж" * 66 + EMOJI + "ж" * 66  # 134 units = 2 x 67, but the pair straddles
    assert measure(text).segments == 3
    assert split(text) == ["ж" * 66, EMOJI + "ж" * 65, "ж"]


def test_header_octets_7_gives_152_septets_and_66_units_per_part() -> None:
    assert measure("a" * 304, header_octets=7).segments == 2
    assert measure("a" * 305, header_octets=7).segments == 3
    assert measure("a" * 305, header_octets=7).per_segment == 152
    assert measure("ж" * 132, header_octets=7).segments == 2
    assert measure("ж" * 133, header_octets=7).per_segment == 66
    assert measure("ж" * 133, header_octets=7).segments == 3
    # a single segment never carries a header
    assert measure("a" * 160, header_octets=7).segments == 1


def test_header_octets_0_models_sar_tlvs_with_full_160_and_70_unit_parts() -> None:
    assert measure("a" * 320, header_octets=0).segments == 2
    assert measure("a" * 321, header_octets=0) == Measure("GSM-7", 321, 3, 321, 160, 159)
    assert measure("ж" * 140, header_octets=0).segments == 2
    assert measure("ж" * 141, header_octets=0).per_segment == 70


@pytest.mark.parametrize("bad", [-1, 137, 140])
def test_impossible_header_size_is_rejected(bad: int) -> None:
    with pytest.raises(ValueError, match="header_octets"):
        measure("hello", header_octets=bad)


def test_mixed_gsm_text_hand_counted() -> None:
    # P-r-i-c-e-: =6, space, 5, €, space, [, p-r-o-m-o, ], space, ^, _, ^  -> 21 chars;
    # €, [, ], ^, ^ are extension characters: 21 + 5 = 26 septets
    m = measure("Price: 5€ [promo] ^_^")
    assert (m.encoding, m.characters, m.units, m.segments, m.remaining) == (
        "GSM-7",
        21,
        26,
        1,
        134,
    )


def test_german_text_with_an_emoji_hand_counted() -> None:
    # ü, ß, ö are in the GSM table but 👋 is not: UCS-2, 16 code points, 17 UTF-16 units
    m = measure("Grüße aus Köln 👋")
    assert (m.encoding, m.characters, m.units) == ("UCS-2", 16, 17)


def test_greek_capitals_in_the_gsm_table_stay_gsm_but_lowercase_do_not() -> None:
    assert measure("ΔΦΓΛΩΠΨΣΘΞ").encoding == "GSM-7"
    assert measure("α").encoding == "UCS-2"


# --------------------------------------------------------------------------------------
# Properties: split() and measure() always agree
# --------------------------------------------------------------------------------------

GSM_SAMPLE = list("aZ0 .,\n\r@£Ç") + list(EXTENSION_CHARS)
OTHER_SAMPLE = ["ç", "ж", "é", EMOJI, "\U0001f44b", "中"]


def reference_units(text: str, encoding: str) -> int:
    """Naive per-character cost, written independently of the module's tables."""
    if encoding == "GSM-7":
        return sum(2 if c in EXTENSION_CHARS else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def reference_segments(text: str, header_octets: int) -> int:
    """Walk the characters one by one, opening a new segment when the next one won't fit."""
    gsm = all(c in GSM7_BASIC or c in EXTENSION_CHARS for c in text) and "\x1b" not in text
    encoding = "GSM-7" if gsm else "UCS-2"
    total = reference_units(text, encoding)
    if total == 0:
        return 0
    single = 160 if gsm else 70
    if total <= single:
        return 1
    capacity = (140 - header_octets) * 8 // 7 if gsm else (140 - header_octets) // 2
    segments, used = 1, 0
    for char in text:
        cost = reference_units(char, encoding)
        if used + cost > capacity:
            segments, used = segments + 1, 0
        used += cost
    return segments


texts = st.one_of(
    st.text(alphabet=st.sampled_from(GSM_SAMPLE), max_size=700),
    st.text(alphabet=st.sampled_from(GSM_SAMPLE + OTHER_SAMPLE), max_size=400),
    st.text(max_size=300),
)
headers = st.sampled_from([0, 6, 7])


@settings(max_examples=200)
@given(texts, headers)
def test_split_parts_join_back_to_the_text_and_match_the_segment_count(
    text: str, header_octets: int
) -> None:
    parts = split(text, header_octets)
    m = measure(text, header_octets)
    assert "".join(parts) == text
    assert len(parts) == m.segments
    assert all(parts)
    assert m.characters == len(text)


@settings(max_examples=200)
@given(texts, headers)
def test_every_part_fits_its_segment_and_is_filled_greedily(text: str, header_octets: int) -> None:
    m = measure(text, header_octets)
    parts = split(text, header_octets)
    sizes = [reference_units(p, m.encoding) for p in parts]
    assert sum(sizes) == m.units
    assert all(size <= m.per_segment for size in sizes)
    for part, following in pairwise(parts):
        assert reference_units(part + following[0], m.encoding) > m.per_segment
    if parts:
        assert m.remaining == m.per_segment - sizes[-1]


@settings(max_examples=200)
@given(texts, headers)
def test_measure_agrees_with_a_naive_character_walk(text: str, header_octets: int) -> None:
    m = measure(text, header_octets)
    assert m.segments == reference_segments(text, header_octets)
    assert m.units == reference_units(text, m.encoding)


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(GSM_SAMPLE), max_size=300))
def test_gsm_text_round_trips_through_septets(text: str) -> None:
    assert decode_gsm7(encode_gsm7(text)) == text
    assert len(encode_gsm7(text)) == measure(text).units


# --------------------------------------------------------------------------------------
# Placeholders
# --------------------------------------------------------------------------------------


def test_render_replaces_placeholders_with_values() -> None:
    values = {"first_name": "Anna", "city": "Oslo"}
    assert render("Hi {first_name}, see you in {city}.", values) == "Hi Anna, see you in Oslo."


def test_render_uses_the_default_when_the_key_is_missing() -> None:
    assert render("Hi {first_name|there}!", {}) == "Hi there!"


@pytest.mark.parametrize("empty", [None, ""])
def test_render_uses_the_default_for_an_empty_value(empty: object) -> None:
    assert render("Hi {first_name|there}!", {"first_name": empty}) == "Hi there!"


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_value_without_default_renders_nothing(empty: object) -> None:
    assert render("Hi {first_name}!", {"first_name": empty}) == "Hi !"


def test_empty_default_renders_nothing_when_missing() -> None:
    assert render("Hi{first_name|}!", {}) == "Hi!"


def test_zero_and_false_are_values_not_empty_fields() -> None:
    assert render("{n|none} {b|none}", {"n": 0, "b": False}) == "0 False"


def test_number_placeholder_renders_non_string_values_with_str() -> None:
    assert render("Your number: {number}", {"number": 31612345678}) == "Your number: 31612345678"
    assert render("{price} EUR", {"price": 9.5}) == "9.5 EUR"


def test_double_braces_are_literal_braces() -> None:
    assert render("{{not a field}} {{{x}}}", {"x": 1}) == "{not a field} {1}"
    assert render("{{}}", {}) == "{}"
    assert placeholders("{{x}}") == []


def test_spaces_around_the_name_are_tolerated_and_the_default_is_kept_verbatim() -> None:
    assert render("Hi { first_name }!", {"first_name": "Bo"}) == "Hi Bo!"
    assert render("Hi {first_name | my friend}!", {}) == "Hi  my friend!"


def test_default_may_contain_any_character_but_a_closing_brace() -> None:
    assert render("{a|x|y: {z, 1€}", {}) == "x|y: {z, 1€"


def test_unicode_and_digit_names_are_valid() -> None:
    assert render("{prénom} {名前} {1}", {"prénom": "Zoé", "名前": "Kenji", "1": "one"}) == (
        "Zoé Kenji one"
    )


def test_text_without_placeholders_renders_unchanged() -> None:
    assert render("Plain text, € 5", {}) == "Plain text, € 5"
    assert render("", {}) == ""


def test_unknown_placeholder_error_says_how_to_fix_it() -> None:
    with pytest.raises(TemplateError) as info:
        render("See you in {city}", {"first_name": "Anna"})
    message = str(info.value)
    assert "{city}" in message
    assert "'city' column" in message
    assert "{city|...}" in message


def test_render_is_correct_when_the_same_template_is_reused() -> None:
    template = "Hi {name|you}"
    assert [render(template, {"name": n}) for n in ("A", None, "B")] == ["Hi A", "Hi you", "Hi B"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name", r"'\{' at character 4 is never closed: end the placeholder "
                           r"with '\}' or write '\{\{' for a literal '\{'$"),
        ("Hi }", r"'\}' at character 4 has no matching '\{': write '\}\}'"),
        ("a {} b", r"empty placeholder \{\} at character 3"),
        ("{ }", r"empty placeholder \{ \} at character 1"),
        ("{|x}", r"empty placeholder"),
        ("{first name}", r"invalid placeholder name 'first name' at character 1"),
        ("x {a-b}", r"invalid placeholder name 'a-b' at character 3"),
        ("{a {b}", r"'\{' at character 1 is not closed before the next '\{' at character 4"),
        ("{{x}", r"'\}' at character 4 has no matching"),
    ],
)
def test_malformed_templates_say_where_the_problem_is(template: str, expected: str) -> None:
    with pytest.raises(TemplateError, match=expected):
        render(template, {"a": 1, "b": 2, "x": 3, "first_name": "A"})
    with pytest.raises(TemplateError, match=expected):
        placeholders(template)


def test_placeholders_are_listed_in_order_with_their_defaults() -> None:
    assert placeholders("{b} {a|x} {{c}} { b |}") == [
        Placeholder("b", None),
        Placeholder("a", "x"),
        Placeholder("b", ""),
    ]


def test_check_template_accepts_known_fields_and_placeholders_with_defaults() -> None:
    check_template("Hi {first_name}, {city|your town}", ["first_name", "phone"])


def test_check_template_names_the_first_unknown_field() -> None:
    with pytest.raises(TemplateError, match=r"unknown placeholder \{city\}"):
        check_template("{first_name} {city} {zip}", iter(["first_name"]))


def test_template_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        placeholders("}")
