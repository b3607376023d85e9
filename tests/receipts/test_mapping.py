"""Tests for the receipt → status mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscope.receipts import DEFAULT_MAPPING, StatusMapping, canonical_stat
from smscope.receipts.mapping import DEFAULT_BY_ERR, DEFAULT_BY_STAT, parse_error_code
from smscope.statuses import Status

S = Status


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("DELIVRD", S.RECEIVED),
        ("UNDELIV", S.OTHER_ERROR),
        ("REJECTD", S.REJECTED),
        ("EXPIRED", S.EXPIRED),
        ("DELETED", S.OTHER_ERROR),
        ("ACCEPTD", S.DELIVERED_TO_OPERATOR),
        ("ENROUTE", S.DELIVERED_TO_OPERATOR),
        ("UNKNOWN", S.UNDEFINED),
        ("SKIPPED", S.OTHER_ERROR),
        # unrecognised and empty
        ("BADSTAT", S.UNDEFINED),
        ("", S.UNDEFINED),
        (None, S.UNDEFINED),
    ],
)
def test_every_stat_default(stat: str | None, expected: Status) -> None:
    assert DEFAULT_MAPPING.map(stat) is expected
    assert DEFAULT_MAPPING.map(stat, "000") is expected


def test_stat_table_is_fully_tested() -> None:
    assert set(DEFAULT_BY_STAT) == {
        "DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "ACCEPTD", "ENROUTE",
        "UNKNOWN", "SKIPPED",
    }


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("delivrd", "DELIVRD"), ("Delivered", "DELIVRD"), ("DELIVERED", "DELIVRD"),
        ("UNDELIVERABLE", "UNDELIV"), ("undeliv", "UNDELIV"), ("Undelivered", "UNDELIV"),
        ("REJECTED", "REJECTD"), ("expired", "EXPIRED"), ("ACCEPTED", "ACCEPTD"),
        (" enroute ", "ENROUTE"), ("deleted", "DELETED"), ("unknown", "UNKNOWN"),
        # message_state TLV values
        ("1", "ENROUTE"), ("2", "DELIVRD"), ("3", "EXPIRED"), ("4", "DELETED"),
        ("5", "UNDELIV"), ("6", "ACCEPTD"), ("7", "UNKNOWN"), ("8", "REJECTD"),
        ("9", "SKIPPED"), ("02", "DELIVRD"), ("0", "0"), ("10", "10"),
        ("weird", "WEIRD"),
    ],
)
def test_stat_variants(variant: str, canonical: str) -> None:
    assert canonical_stat(variant) == canonical


# (code, status, meaning) — every row of the default error table
ERR_ROWS = [
    (1, S.PERMANENT_ERROR_ABSENCE, "unknown subscriber"),
    (5, S.PERMANENT_ERROR_ABSENCE, "unidentified subscriber"),
    (6, S.TEMPORARY_ERROR_ABSENCE, "absent subscriber SM"),
    (9, S.PERMANENT_ERROR_PHONE, "illegal subscriber"),
    (11, S.PERMANENT_ERROR_PHONE, "teleservice not provisioned"),
    (12, S.PERMANENT_ERROR_PHONE, "illegal equipment"),
    (13, S.REJECTED, "call barred"),
    (21, S.REJECTED, "facility not supported"),
    (27, S.TEMPORARY_ERROR_ABSENCE, "absent subscriber"),
    (31, S.TEMPORARY_ERROR_PHONE, "subscriber busy for MT-SMS"),
    (32, S.TEMPORARY_ERROR_PHONE, "SM delivery failure"),
    (33, S.TEMPORARY_ERROR_ABSENCE, "message waiting list full"),
    (34, S.TEMPORARY_ERROR_OPERATOR, "system failure"),
    (35, S.OTHER_ERROR, "data missing"),
    (36, S.OTHER_ERROR, "unexpected data value"),
    (0xD0, S.TEMPORARY_ERROR_PHONE, "SIM SMS storage full"),
    (0xD3, S.TEMPORARY_ERROR_PHONE, "memory capacity exceeded"),
]


def test_err_table_is_fully_tested() -> None:
    assert {code: status for code, status, _ in ERR_ROWS} == dict(DEFAULT_BY_ERR)


@pytest.mark.parametrize(("code", "expected", "meaning"), ERR_ROWS, ids=[r[2] for r in ERR_ROWS])
def test_every_err_default(code: int, expected: Status, meaning: str) -> None:
    for stat in ("UNDELIV", "undeliverable", "5", "REJECTD"):
        assert DEFAULT_MAPPING.map(stat, f"{code:03d}") is expected, meaning
        assert DEFAULT_MAPPING.map(stat, str(code)) is expected, meaning
        assert DEFAULT_MAPPING.map(stat, f"0x{code:08X}") is expected, meaning
        # the network_error_code TLV, GSM
        assert DEFAULT_MAPPING.map(stat, None, (3, code)) is expected, meaning
        assert DEFAULT_MAPPING.map(stat, "000", bytes([3, code >> 8, code & 0xFF])) is expected


def test_err_only_read_for_failed_messages() -> None:
    # receipts like "stat:DELIVRD err:012" are real (cloudhopper's own example)
    assert DEFAULT_MAPPING.map("DELIVRD", "012") is S.RECEIVED
    assert DEFAULT_MAPPING.map("EXPIRED", "027") is S.EXPIRED
    assert DEFAULT_MAPPING.map("ENROUTE", "054") is S.DELIVERED_TO_OPERATOR
    assert DEFAULT_MAPPING.map("ACCEPTD", "001", (3, 1)) is S.DELIVERED_TO_OPERATOR


def test_unknown_err_falls_back_to_stat() -> None:
    assert DEFAULT_MAPPING.map("UNDELIV", "000") is S.OTHER_ERROR
    assert DEFAULT_MAPPING.map("UNDELIV", "999") is S.OTHER_ERROR
    assert DEFAULT_MAPPING.map("UNDELIV", "garbage") is S.OTHER_ERROR
    assert DEFAULT_MAPPING.map("REJECTD", "") is S.REJECTED
    assert DEFAULT_MAPPING.map("REJECTD", None) is S.REJECTED


def test_hex_err() -> None:
    # "err:00B" is hex 11: teleservice not provisioned
    assert DEFAULT_MAPPING.map("REJECTD", "00B") is S.PERMANENT_ERROR_PHONE


def test_network_error_beats_err_and_non_gsm_is_ignored() -> None:
    assert DEFAULT_MAPPING.map("UNDELIV", "001", (3, 27)) is S.TEMPORARY_ERROR_ABSENCE
    # ANSI-136 and IS-95 codes have no default table: err decides
    assert DEFAULT_MAPPING.map("UNDELIV", "001", (1, 27)) is S.PERMANENT_ERROR_ABSENCE
    assert DEFAULT_MAPPING.map("UNDELIV", "001", (2, 27)) is S.PERMANENT_ERROR_ABSENCE
    # an unknown GSM code lets err decide
    assert DEFAULT_MAPPING.map("UNDELIV", "001", (3, 999)) is S.PERMANENT_ERROR_ABSENCE
    # malformed TLV bytes are ignored
    assert DEFAULT_MAPPING.map("UNDELIV", "001", b"\x03\x00") is S.PERMANENT_ERROR_ABSENCE


@pytest.mark.parametrize(
    ("err", "code"),
    [("000", 0), ("001", 1), ("27", 27), ("00B", 11), ("0x0000000B", 11), ("0XD3", 0xD3),
     ("", None), (None, None), ("abc-", None), ("0x", None), ("１", None), ("-1", None),
     ("1" * 11, None)],
)
def test_parse_error_code(err: str | None, code: int | None) -> None:
    assert parse_error_code(err) == code


def test_override_precedence() -> None:
    mapping = StatusMapping.from_overrides({
        "UNDELIV:001": "temporary_error_absence",
        "UNDELIV": Status.ROUTING_ERROR,
        "DELIVRD": "received",
        "REJECTD:*": "BLACKLISTED",
        "ENROUTE:054": "temporary_error_operator",
    })
    # exact STAT:ERR beats everything, matched numerically and via stat variants
    assert mapping.map("UNDELIV", "001", (3, 1)) is S.TEMPORARY_ERROR_ABSENCE
    assert mapping.map("undeliverable", "1") is S.TEMPORARY_ERROR_ABSENCE
    assert mapping.map("5", "0x01") is S.TEMPORARY_ERROR_ABSENCE
    # STAT beats the default tables (network error and err)
    assert mapping.map("UNDELIV", "027", (3, 27)) is S.ROUTING_ERROR
    assert mapping.map("UNDELIV", None) is S.ROUTING_ERROR
    # STAT:* is a STAT override
    assert mapping.map("REJECTD", "013") is S.BLACKLISTED
    # overrides may use err on any stat
    assert mapping.map("ENROUTE", "054") is S.TEMPORARY_ERROR_OPERATOR
    assert mapping.map("ENROUTE", "055") is S.DELIVERED_TO_OPERATOR
    # what is not overridden keeps the defaults
    assert mapping.map("EXPIRED", "000") is S.EXPIRED
    assert mapping.map("NOPE") is S.UNDEFINED


def test_override_vendor_stat_and_text_err() -> None:
    mapping = StatusMapping.from_overrides({"FAILED": "other_error", "UNDELIV:abc-": "blacklisted"})
    assert mapping.map("failed") is S.OTHER_ERROR
    assert mapping.map("UNDELIV", "ABC-") is S.BLACKLISTED


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"": "received"}, "''"),
        ({"UNDELIV:": "received"}, "'UNDELIV:'"),
        ({":001": "received"}, "':001'"),
        ({"UN DELIV": "received"}, "'UN DELIV'"),
        ({"UNDELIV:0:1": "received"}, "'UNDELIV:0:1'"),
        ({"DELIVRD": "delivered"}, "'delivered'"),
        ({"DELIVRD": "nope"}, "'nope'"),
        ({"UNDELIV": "received", "undeliverable": "rejected"}, "'undeliverable'"),
        ({"UNDELIV": "received", "UNDELIV:*": "rejected"}, "'UNDELIV:\\*'"),
        ({"UNDELIV:001": "received", "UNDELIV:1": "rejected"}, "'UNDELIV:1'"),
        ({1: "received"}, "1"),
    ],
)
def test_bad_overrides(overrides: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        StatusMapping.from_overrides(overrides)


def test_empty_overrides_equal_defaults() -> None:
    assert StatusMapping.from_overrides({}).map("UNDELIV", "027") is S.TEMPORARY_ERROR_ABSENCE


@given(st.text(), st.one_of(st.none(), st.text()),
       st.one_of(st.none(), st.binary(max_size=4),
                 st.tuples(st.integers(0, 255), st.integers(0, 65535))))
def test_map_always_returns_a_status(stat: str, err: str | None, net: object) -> None:
    assert isinstance(DEFAULT_MAPPING.map(stat, err, net), Status)  # type: ignore[arg-type]
