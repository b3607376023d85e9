"""Phone numbers: turn what people type into E.164, and refuse what cannot receive SMS.

Everything here is pure (no I/O) and built on the ``phonenumbers`` library. The design
goals, in order:

* **Never guess.** Input may contain digits, spaces (including the no-break spaces that
  word processors and French typography insert), dots, dashes, slashes, parentheses and
  one leading ``+``. Anything else (letters, ``#``, ``*``, ``;``, ``ext.``…) is refused
  rather than silently stripped, because ``phonenumbers.parse`` is deliberately lenient:
  it skips leading text, reads vanity letters as digits and splits off extensions, so a
  typo could otherwise become somebody else's valid number.
* **Say why.** Every refusal is an :class:`~smscope.errors.InvalidNumberError` whose
  ``reason`` lets reports group rejections (``not_a_number``, ``no_region``, ``invalid``,
  ``line_type``) and whose message tells a person what is wrong.
* **Be as fast as phonenumbers itself.** Contact imports run :func:`normalize` on
  millions of rows, so the happy path is: one precompiled regex, one ``parse``, one
  type computation. ``number_type`` returns ``UNKNOWN`` exactly when ``is_valid_number``
  is false (both resolve the region from the number itself, which keeps shared country
  codes such as +1 and +7 right), so validity and line type cost a single lookup; the
  slower work of explaining a refusal is only done when a number is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)

from smscope.errors import InvalidNumberError

__all__ = [
    "NumberInfo",
    "describe",
    "format_international",
    "format_national",
    "normalize",
    "region_of",
]

# Bound once: these run millions of times during an import.
_parse = phonenumbers.parse
_number_type = phonenumbers.number_type
_national_significant_number = phonenumbers.national_significant_number

#: The whole accepted alphabet, anchored: an optional leading "+", then digits and the
#: separators people really use. ASCII digits only: phonenumbers would also read
#: full-width or Arabic-Indic digits, but in a contact file they more likely mean an
#: encoding problem than a number. U+00A0 is the no-break space, U+202F the narrow
#: no-break space.
_ALLOWED: Final = re.compile(r"\+?[0-9 \u00a0\u202f.\-/()]*")

#: The characters accepted after the optional leading "+", to name the first bad one.
_ALLOWED_CHARS: Final = frozenset("0123456789 \u00a0\u202f.-/()")

#: "00" written as an international prefix, possibly split by separators ("00 33…").
#: "00" is the ITU-recommended international call prefix, used across Europe and
#: most of the world.
_DOUBLE_ZERO: Final = re.compile(r"[ \u00a0\u202f.\-/()]*0[ \u00a0\u202f.\-/()]*0")

#: Any ASCII digit.
_DIGIT: Final = re.compile(r"[0-9]")

#: A strict E.164 string, as :func:`normalize` returns: "+", then up to 15 digits.
_E164: Final = re.compile(r"\+([1-9][0-9]{1,14})")

#: Every region phonenumbers has metadata for, keyed by its upper- and lower-case
#: spelling. ``phonenumbers.parse`` only knows upper case ("fr" is refused as a
#: "missing or invalid default region"), and a dict lookup is cheaper than ``.upper()``
#: plus a set lookup on every call.
_REGIONS: Final[dict[str, str]] = {
    spelling: code
    for code in phonenumbers.SUPPORTED_REGIONS
    for spelling in {code, code.lower(), code.capitalize(), code[0].lower() + code[1:]}
}

#: phonenumbers' ``region_code_for_number`` answer for non-geographic numbers (+800…).
_NON_GEOGRAPHIC: Final = "001"

#: Line types that can receive SMS. FIXED_LINE_OR_MOBILE is what phonenumbers answers
#: for countries that do not tell the two apart (US, CA and the rest of +1…), where
#: refusing it would refuse every number. VOIP, PAGER and PERSONAL_NUMBER ranges
#: commonly do receive SMS; refusing them would drop real recipients, while a failed
#: send is reported anyway.
_SMS_TYPES: Final = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.VOIP,
        PhoneNumberType.PAGER,
    }
)

#: Refused line types, in words for the error message.
_REFUSED_TYPE_WORDS: Final[dict[int, str]] = {
    PhoneNumberType.FIXED_LINE: "a fixed line",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.UAN: "a universal access number (UAN)",
}

#: PhoneNumberType value -> lower-case name ("mobile", "fixed_line_or_mobile"…).
_TYPE_NAMES: Final[dict[int, str]] = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}

_HOW_TO_SET_REGION: Final = (
    "set default_region in smscope.toml (or SMSCOPE_DEFAULT_REGION), "
    "pass --default-region, or write the number with its +country code "
    "(for example +33 6 12 34 56 78)"
)


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What phonenumbers knows about a number, for reports and the UI.

    ``region`` is the ISO 3166 alpha-2 code, or None for non-geographic numbers (+800,
    +882…) and numbers whose region cannot be told. ``line_type`` is the lower-case name
    of phonenumbers' ``PhoneNumberType`` ("mobile", "fixed_line", "unknown"…).
    ``carrier_name`` is the carrier the range was originally allocated to (numbers can
    be ported since), or None when phonenumbers does not know it.
    """

    region: str | None
    line_type: str
    carrier_name: str | None


def normalize(raw: str, default_region: str | None) -> str:
    """Return ``raw`` as an E.164 string (``+33612345678``) if it can receive SMS.

    ``default_region`` (ISO 3166 alpha-2, any case) is how national numbers such as
    ``06 12 34 56 78`` are read; numbers written with ``+`` or ``00`` and a country
    code are read as such whatever it is, so a file of French contacts may hold a few
    foreign numbers. Raises :class:`InvalidNumberError` (``reason`` ``not_a_number``,
    ``no_region``, ``invalid`` or ``line_type``) for anything else.

    Idempotent: an E.164 string it returned is returned unchanged.
    """
    if default_region is None:
        region = None
    else:
        region = _REGIONS.get(default_region)
        if region is None:
            raise _unknown_region_error(default_region)

    text = raw.strip()
    if _ALLOWED.fullmatch(text) is None:
        raise _character_error(raw, text)
    if "\u202f" in text:
        # phonenumbers knows U+00A0 but not the narrow no-break space, and would call
        # "06 12 34 56 78" typed with French typography "not a number".
        text = text.replace("\u202f", " ")

    if region is None and text[:1] != "+":
        # Without a default region only an international number can be read; "00" is
        # the international prefix almost everywhere, so read it as "+".
        match = _DOUBLE_ZERO.match(text)
        if match is None:
            raise _no_digits_error(raw, text) or InvalidNumberError(
                f"{_show(raw)} is written in national format and no default region is "
                f"set: {_HOW_TO_SET_REGION}",
                reason="no_region",
            )
        text = "+" + text[match.end() :]

    # No special case for the "+33 (0)6 12 34 56 78" / "+44 (0)7911 123456" style:
    # phonenumbers strips a national prefix that follows the country code when what
    # remains is valid, and keeps the 0 where it belongs to the number (Italy).
    try:
        number = _parse(text, region)
    except NumberParseException as exc:
        retried = _retry_as_international(text, region)
        if retried is None:
            raise _parse_error(raw, text, exc) from None
        number, line_type = retried, _number_type(retried)
    else:
        line_type = _number_type(number)
        if line_type == PhoneNumberType.UNKNOWN:
            retried = _retry_as_international(text, region)
            if retried is None:
                raise _invalid_error(raw, text, number, region)
            number, line_type = retried, _number_type(retried)

    if line_type in _SMS_TYPES:
        return f"+{number.country_code}{_national_significant_number(number)}"
    raise _line_type_error(number, line_type)


def describe(e164: str) -> NumberInfo:
    """Region, line type and original carrier of an international number.

    Meant for numbers :func:`normalize` accepted earlier, so it does not refuse line
    types and reports a number that the installed phonenumbers metadata no longer
    recognises (ranges are re-allocated between releases) as ``"unknown"`` instead of
    failing a whole report. Raises :class:`InvalidNumberError` if ``e164`` is not an
    international phone number at all.
    """
    from phonenumbers import carrier  # its data is only needed here

    number = _parse_international(e164)
    line_type = _number_type(number)
    region = phonenumbers.region_code_for_number(number)
    if region == _NON_GEOGRAPHIC:
        region = None
    return NumberInfo(
        region=region,
        line_type=_TYPE_NAMES.get(line_type, "unknown"),
        carrier_name=carrier.name_for_number(number, "en") or None,
    )


def region_of(e164: str) -> str | None:
    """The ISO 3166 alpha-2 region of an E.164 number, as used for pricing and windows.

    Cheaper than a full parse: the country code is read off the string, and only shared
    country codes (+1, +7, +44…) look at the rest of the number. Returns None for
    non-geographic numbers (+800, +882…) and for numbers of a shared country code that
    match none of its regions. Raises :class:`InvalidNumberError` if ``e164`` is not a
    strict E.164 string with a known country code, because guessing a country there
    would mean charging or scheduling for the wrong one.
    """
    match = _E164.fullmatch(e164)
    if match is None:
        raise InvalidNumberError(
            f"{_show(e164)} is not an E.164 number (a + followed by up to 15 digits)",
            reason="invalid",
        )
    digits = match.group(1)
    # Country codes are prefix-free, so at most one of these lengths matches.
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
        if regions is not None:
            break
    else:
        raise InvalidNumberError(
            f"{_show(e164)} starts with an unknown country code", reason="invalid"
        )

    region: str | None
    if len(regions) == 1:
        region = regions[0]
    else:
        region = phonenumbers.region_code_for_number(_phone_number(country_code, digits[size:]))
    return None if region == _NON_GEOGRAPHIC else region


def format_national(e164: str) -> str:
    """The number as people of its own country write it (``06 12 34 56 78``)."""
    return phonenumbers.format_number(_parse_international(e164), PhoneNumberFormat.NATIONAL)


def format_international(e164: str) -> str:
    """The number grouped for reading by anyone (``+33 6 12 34 56 78``)."""
    return phonenumbers.format_number(_parse_international(e164), PhoneNumberFormat.INTERNATIONAL)


# --- helpers ---------------------------------------------------------------------------


def _parse_international(value: str) -> PhoneNumber:
    """Parse a number written with its +country code, refusing what normalize refuses."""
    text = value.strip()
    if _ALLOWED.fullmatch(text) is None:
        raise _character_error(value, text)
    if text[:1] != "+":
        raise _no_digits_error(value, text) or InvalidNumberError(
            f"{_show(value)} is not an international number: it should start with "
            "+ and the country code",
            reason="invalid",
        )
    try:
        return _parse(text.replace("\u202f", " "), None)
    except NumberParseException as exc:
        raise _parse_error(value, text, exc) from None


def _phone_number(country_code: int, nsn: str) -> PhoneNumber:
    """Build a PhoneNumber from digits without parsing, keeping "leading zeros".

    Some countries (Italy…) have national significant numbers that start with 0;
    phonenumbers stores them as an int plus a leading-zero count, set the same way as
    its own parser does.
    """
    number = PhoneNumber(country_code=country_code, national_number=int(nsn or "0"))
    if len(nsn) > 1 and nsn[0] == "0":
        zeros = 1
        while zeros < len(nsn) - 1 and nsn[zeros] == "0":
            zeros += 1
        number.italian_leading_zero = True
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


def _retry_as_international(text: str, region: str | None) -> PhoneNumber | None:
    """Read a failed "00…" number as "+…", if that gives a valid number.

    "00" is the international prefix in most of the world but not everywhere (the US
    dials 011), so with ``default_region="US"`` phonenumbers reads "0033 6 12 34 56 78"
    as a (hopeless) national number. Only called once a number has already failed, so
    it costs nothing on the usual path.
    """
    if region is None or text[:1] == "+":
        return None
    match = _DOUBLE_ZERO.match(text)
    if match is None:
        return None
    try:
        number = _parse("+" + text[match.end() :], region)
    except NumberParseException:
        return None
    return None if _number_type(number) == PhoneNumberType.UNKNOWN else number


def _show(value: str) -> str:
    """Quote user input for a message: one short line, special spaces made plain."""
    shown = value.replace("\u00a0", " ").replace("\u202f", " ")
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"'{shown}'" if shown.isprintable() else repr(shown)


def _unknown_region_error(default_region: object) -> InvalidNumberError:
    return InvalidNumberError(
        f"unknown default region {default_region!r}: use a two-letter ISO 3166 country "
        "code such as 'FR', 'BE' or 'US'",
        reason="invalid",
    )


def _character_error(raw: str, text: str) -> InvalidNumberError:
    """Name the first character that is not allowed (text already failed _ALLOWED)."""
    if not text:  # pragma: no cover - the empty string is allowed by _ALLOWED
        return InvalidNumberError("an empty value is not a phone number", reason="not_a_number")
    start = 1 if text[0] == "+" else 0
    bad = next(char for char in text[start:] if char not in _ALLOWED_CHARS)
    if bad == "+":
        detail = "a + is only allowed at the start"
    else:
        shown = bad if bad.isprintable() and not bad.isspace() else ""
        name = f"{shown!r} (U+{ord(bad):04X})" if shown else f"U+{ord(bad):04X}"
        detail = (
            f"the character {name} is not allowed (only digits, spaces, dots, dashes, "
            "slashes, parentheses and a leading + are)"
        )
    return InvalidNumberError(
        f"{_show(raw)} is not a phone number: {detail}", reason="not_a_number"
    )


def _no_digits_error(raw: str, text: str) -> InvalidNumberError | None:
    """The error for input that is empty, punctuation only, or a bare "+" / "00"."""
    if not text:
        return InvalidNumberError("an empty value is not a phone number", reason="not_a_number")
    digits = "".join(_DIGIT.findall(text))
    if not digits:
        if "+" in text:
            return InvalidNumberError(
                f"{_show(raw)} is only an international prefix: the number is missing",
                reason="not_a_number",
            )
        return InvalidNumberError(
            f"{_show(raw)} is not a phone number: it has no digits", reason="not_a_number"
        )
    if digits == "00" and text[0] != "+":
        return InvalidNumberError(
            f"{_show(raw)} is only an international prefix: the number is missing",
            reason="not_a_number",
        )
    return None


def _parse_error(raw: str, text: str, exc: NumberParseException) -> InvalidNumberError:
    """Translate phonenumbers' parse failure into one of our reasons and sentences."""
    no_digits = _no_digits_error(raw, text)
    if no_digits is not None:
        return no_digits
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        message = f"{_show(raw)} starts with an unknown country code"
    elif kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        message = f"{_show(raw)} is too short to be a phone number"
    elif kind == NumberParseException.TOO_LONG:
        message = f"{_show(raw)} is too long to be a phone number"
    else:
        # NOT_A_NUMBER although there are digits: fewer than phonenumbers' minimum
        # ("1", "+33").
        message = f"{_show(raw)} is too short to be a phone number"
    return InvalidNumberError(message, reason="invalid")


def _where(number: PhoneNumber, region: str | None) -> str:
    """Where a number was judged: the default region, a country, or a shared code."""
    code = number.country_code or 0
    if region is not None and phonenumbers.country_code_for_region(region) == code:
        return region
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if len(regions) == 1 and regions[0] != _NON_GEOGRAPHIC:
        return regions[0]
    return f"country code +{code}"


def _invalid_error(
    raw: str, text: str, number: PhoneNumber, region: str | None
) -> InvalidNumberError:
    """Explain why a parsed number is not valid, as precisely as phonenumbers can."""
    no_digits = _no_digits_error(raw, text)
    if no_digits is not None:
        return no_digits
    where = _where(number, region)
    why = phonenumbers.is_possible_number_with_reason(number)
    if why == ValidationResult.INVALID_COUNTRY_CODE:
        message = f"{_show(raw)} starts with an unknown country code"
    elif why == ValidationResult.TOO_SHORT:
        message = f"{_show(raw)} is too short for a phone number of {where}"
    elif why == ValidationResult.TOO_LONG:
        message = f"{_show(raw)} is too long for a phone number of {where}"
    elif why == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        message = (
            f"{_show(raw)} is too short for a phone number of {where} (is the area code missing?)"
        )
    elif why == ValidationResult.INVALID_LENGTH:
        message = f"{_show(raw)} has a length no phone number of {where} has"
    else:
        message = f"{_show(raw)} is not a valid phone number for {where}"
    short = why in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY)
    if text[:1] != "+" and region is not None and not short:
        message += " (a number from another country must be written with its +country code)"
    return InvalidNumberError(message, reason="invalid")


def _line_type_error(number: PhoneNumber, line_type: int) -> InvalidNumberError:
    """Name the refused line type in words, with the number as people read it."""
    shown = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    region = phonenumbers.region_code_for_number(number)
    where = f" ({region})" if region and region != _NON_GEOGRAPHIC else ""
    words = _REFUSED_TYPE_WORDS.get(line_type, f"a {_TYPE_NAMES.get(line_type, 'unknown')} number")
    return InvalidNumberError(
        f"{shown} is {words}{where} and cannot receive SMS", reason="line_type"
    )
