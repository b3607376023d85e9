"""Behaviour of smscope.numbers: what is accepted, what is refused and why."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import InvalidNumberError
from smscope.numbers import (
    NumberInfo,
    describe,
    format_international,
    format_national,
    normalize,
    region_of,
)

FR_MOBILE = "+33612345678"


# --- accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "06/12/34/56/78",
        "(06) 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033612345678",
        "00 33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "  06 12 34 56 78\n",
    ],
)
def test_french_mobile_in_every_common_format_gives_the_same_e164(raw: str) -> None:
    assert normalize(raw, "FR") == FR_MOBILE


@pytest.mark.parametrize(
    "raw",
    [
        "06\u00a012\u00a034\u00a056\u00a078",  # no-break spaces
        "06\u202f12\u202f34\u202f56\u202f78",  # narrow no-break spaces (French typography)
        "+33\u202f6\u202f12\u202f34\u202f56\u202f78",
        "\u00a006 12 34 56 78\u202f",
    ],
)
def test_no_break_spaces_are_separators(raw: str) -> None:
    assert normalize(raw, "FR") == FR_MOBILE


def test_default_region_is_case_insensitive() -> None:
    assert normalize("06 12 34 56 78", "fr") == FR_MOBILE


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0470 12 34 56", "BE", "+32470123456"),
        ("+32 470 12 34 56", "BE", "+32470123456"),
        ("01512 3456789", "DE", "+4915123456789"),
        ("0151/23456789", "DE", "+4915123456789"),
        ("07400 123456", "GB", "+447400123456"),
        ("+44 (0)7400 123456", "GB", "+447400123456"),
        ("612 34 56 78", "ES", "+34612345678"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("201.555.0123", "US", "+12015550123"),
    ],
)
def test_national_and_international_formats_of_other_regions(
    raw: str, region: str, expected: str
) -> None:
    assert normalize(raw, region) == expected


def test_us_fixed_line_or_mobile_is_accepted() -> None:
    assert normalize("(201) 555-0123", "US") == "+12015550123"
    assert describe("+12015550123").line_type == "fixed_line_or_mobile"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+32 470 12 34 56", "FR", "+32470123456"),
        ("0032 470 12 34 56", "FR", "+32470123456"),
        ("+1 613 555 0123", "FR", "+16135550123"),  # Canada, found from the number
        ("+7 701 123 4567", "FR", "+77011234567"),  # Kazakhstan shares +7 with Russia
        ("+33 6 12 34 56 78", "US", FR_MOBILE),
    ],
)
def test_international_number_from_another_country_than_default_region(
    raw: str, region: str, expected: str
) -> None:
    assert normalize(raw, region) == expected


def test_double_zero_prefix_is_understood_even_where_the_international_prefix_differs() -> None:
    # The US dials 011 abroad; phonenumbers alone reads "0033…" as a US national number.
    assert normalize("0033 6 12 34 56 78", "US") == FR_MOBILE


@pytest.mark.parametrize("raw", ["+33 6 12 34 56 78", "0033 6 12 34 56 78", "+1 201 555 0123"])
def test_international_number_needs_no_default_region(raw: str) -> None:
    assert normalize(raw, None).startswith("+")


def test_italian_leading_zero_after_country_code_is_kept() -> None:
    # In Italy the 0 is part of the number, not a trunk prefix.
    assert normalize("+39 312 345 6789", None) == "+393123456789"
    with pytest.raises(InvalidNumberError) as err:
        normalize("+39 (0)6 1234 5678", None)
    assert "+39 06 1234 5678" in str(err.value)


# --- refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "reason", "fragment"),
    [
        ("", "FR", "not_a_number", "empty"),
        ("   ", "FR", "not_a_number", "empty"),
        ("+", "FR", "not_a_number", "international prefix"),
        ("+", None, "not_a_number", "international prefix"),
        ("00", "FR", "not_a_number", "international prefix"),
        ("00", None, "not_a_number", "international prefix"),
        ("().-", "FR", "not_a_number", "no digits"),
        ("abc", "FR", "not_a_number", "'a'"),
        ("06 12 34 56 7a", "FR", "not_a_number", "'a'"),
        ("06 12 34 56 78 😀", "FR", "not_a_number", "U+1F600"),
        ("06 12 34 56 78 ext. 12", "FR", "not_a_number", "'e'"),
        ("06 12 34 56 78#", "FR", "not_a_number", "'#'"),
        ("*123#", "FR", "not_a_number", "'*'"),
        ("06 12 34 56 78; 07 12 34 56 78", "FR", "not_a_number", "';'"),
        ("+33 6 12 +34 56 78", "FR", "not_a_number", "only allowed at the start"),
        ("++33 6 12 34 56 78", "FR", "not_a_number", "only allowed at the start"),
        ("06\t12 34 56 78", "FR", "not_a_number", "U+0009"),
        ("０６１２３４５６７８", "FR", "not_a_number", "U+FF10"),  # full-width digits
        ("123", "FR", "invalid", "too short"),
        ("1", "FR", "invalid", "too short"),
        ("06 12 34 56 78 90", "FR", "invalid", "too long"),
        ("0612345678901234567890", "FR", "invalid", "too long"),
        ("+999 123456", None, "invalid", "unknown country code"),
        ("0612345678", "BE", "invalid", "not a valid phone number for BE"),
        ("+1 999 555 0123", None, "invalid", "country code +1"),
        ("06 12 34 56 78", None, "no_region", "default_region"),
        ("33612345678", None, "no_region", "+country code"),
        ("+33 1 42 68 53 00", "FR", "line_type", "+33 1 42 68 53 00 is a fixed line (FR)"),
        ("01 42 68 53 00", "FR", "line_type", "fixed line"),
        ("0800 12 34 56", "FR", "line_type", "toll-free"),
        ("0891 23 45 67", "FR", "line_type", "premium-rate"),
        ("+800 1234 5678", None, "line_type", "toll-free"),
    ],
)
def test_refusals_have_a_reason_code_and_a_helpful_message(
    raw: str, region: str | None, reason: str, fragment: str
) -> None:
    with pytest.raises(InvalidNumberError) as err:
        normalize(raw, region)
    assert err.value.reason == reason
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_no_region_message_says_every_way_to_fix_it() -> None:
    with pytest.raises(InvalidNumberError) as err:
        normalize("06 12 34 56 78", None)
    message = str(err.value)
    for fix in ("smscope.toml", "SMSCOPE_DEFAULT_REGION", "--default-region", "+country code"):
        assert fix in message


@pytest.mark.parametrize("region", ["ZZ", "XX", "zz", "FRA", "", "001"])
def test_unknown_default_region_is_a_clear_error(region: str) -> None:
    with pytest.raises(InvalidNumberError) as err:
        normalize("06 12 34 56 78", region)
    assert err.value.reason == "invalid"
    assert "unknown default region" in str(err.value)


def test_unknown_default_region_is_refused_even_for_international_numbers() -> None:
    # A configuration mistake must show on the first row, not only on national ones.
    with pytest.raises(InvalidNumberError, match="unknown default region"):
        normalize("+33 6 12 34 56 78", "XX")


def test_national_number_of_another_country_hints_at_the_country_code() -> None:
    with pytest.raises(InvalidNumberError, match=r"\+country code"):
        normalize("0470 12 34 56 78", "FR")


# --- properties ------------------------------------------------------------------------

REGIONS = st.sampled_from([None, "FR", "fr", "BE", "DE", "GB", "US", "ES"])
PHONEISH = st.text(alphabet="0123456789 +()-./\u00a0\u202f", max_size=25)
E164ISH = st.from_regex(r"\+[1-9][0-9]{5,14}", fullmatch=True)


@settings(max_examples=200)
@given(raw=st.text(), region=REGIONS)
def test_any_text_raises_nothing_but_invalid_number_error(raw: str, region: str | None) -> None:
    try:
        result = normalize(raw, region)
    except InvalidNumberError as err:
        assert err.reason in {"not_a_number", "no_region", "invalid", "line_type"}
        assert str(err)
    else:
        assert result.startswith("+")


@settings(max_examples=200)
@given(raw=st.one_of(PHONEISH, E164ISH), region=REGIONS)
def test_normalize_is_idempotent_for_accepted_numbers(raw: str, region: str | None) -> None:
    try:
        once = normalize(raw, region)
    except InvalidNumberError:
        return
    assert normalize(once, region) == once
    assert normalize(once, None) == once


@settings(max_examples=200)
@given(raw=E164ISH)
def test_validity_agrees_with_phonenumbers_is_valid_number(raw: str) -> None:
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        valid = False
    try:
        normalize(raw, "FR")
    except InvalidNumberError as err:
        assert valid == (err.reason == "line_type")
    else:
        assert valid


@settings(max_examples=200)
@given(raw=E164ISH)
def test_region_of_agrees_with_describe(raw: str) -> None:
    try:
        e164 = normalize(raw, None)
    except InvalidNumberError:
        return
    assert region_of(e164) == describe(e164).region


# --- describe, region_of, formatting ----------------------------------------------------


def test_describe_mobile_with_its_original_carrier() -> None:
    # 06 12… was allocated to SFR in phonenumbers' carrier data.
    assert describe(FR_MOBILE) == NumberInfo(region="FR", line_type="mobile", carrier_name="SFR")


def test_describe_fixed_line_has_no_carrier() -> None:
    assert describe("+33142685300") == NumberInfo(
        region="FR", line_type="fixed_line", carrier_name=None
    )


def test_describe_accepts_formatted_international_numbers() -> None:
    assert describe("+33 6 12 34 56 78") == describe(FR_MOBILE)


def test_describe_reports_a_number_unknown_to_current_metadata_as_unknown() -> None:
    # Stored numbers can fall out of phonenumbers' ranges after an upgrade; reports on
    # them must not fail.
    assert describe("+19995550123") == NumberInfo(
        region=None, line_type="unknown", carrier_name=None
    )


@pytest.mark.parametrize("value", ["", "06 12 34 56 78", "abc", "+", "+999 123456", "+33 6a"])
def test_describe_refuses_what_is_not_an_international_number(value: str) -> None:
    with pytest.raises(InvalidNumberError):
        describe(value)


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        (FR_MOBILE, "FR"),
        ("+32470123456", "BE"),
        ("+12015550123", "US"),
        ("+16135550123", "CA"),  # +1 is shared: the area code decides
        ("+77011234567", "KZ"),  # +7 is shared with Russia
        ("+79121234567", "RU"),
        ("+447400123456", "GB"),
        ("+447911123456", "GG"),  # 07911 is a Guernsey range, not mainland GB
        ("+390612345678", "IT"),
        ("+80012345678", None),  # non-geographic
        ("+19995550123", None),  # +1 number matching no NANP region
    ],
)
def test_region_of_reads_the_country_including_shared_country_codes(
    e164: str, region: str | None
) -> None:
    assert region_of(e164) == region


@pytest.mark.parametrize("value", ["", "+", "33612345678", "+33 6 12 34 56 78", "+999123456"])
def test_region_of_refuses_what_is_not_strict_e164(value: str) -> None:
    with pytest.raises(InvalidNumberError):
        region_of(value)


def test_formatting_for_display() -> None:
    assert format_national(FR_MOBILE) == "06 12 34 56 78"
    assert format_international(FR_MOBILE) == "+33 6 12 34 56 78"
    assert format_national("+12015550123") == "(201) 555-0123"
    with pytest.raises(InvalidNumberError):
        format_national("06 12 34 56 78")
