"""SMPP 3.4 PDUs against bytes written out by hand from the spec's layouts (section 4).

The hex strings are spelled field by field so that a reviewer can check them against the
spec without running anything; none of them is produced by the code under test.
"""

from __future__ import annotations

import struct

import pytest

from smscope.errors import PDUError
from smscope.smpp import (
    BindTransceiver,
    BindTransceiverResp,
    CommandStatus,
    DeliverSM,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    InvalidPDUError,
    MessageState,
    NetworkErrorCode,
    SubmitSM,
    SubmitSMResp,
    Tag,
    UnknownCommandError,
    decode,
    encode,
    status_name,
)


def h(*fields: str) -> bytes:
    return bytes.fromhex("".join(fields))


BIND_TRANSCEIVER = h(
    "0000002a",  # command_length 42
    "00000009",  # bind_transceiver
    "00000000",  # command_status
    "00000001",  # sequence_number
    "736d7070636c69656e743100",  # system_id "smppclient1"
    "70617373776f726400",  # password "password"
    "00",  # system_type ""
    "34",  # interface_version 3.4
    "00",  # addr_ton
    "00",  # addr_npi
    "00",  # address_range ""
)

BIND_TRANSCEIVER_RESP = h(
    "0000001a",  # 26
    "80000009",  # bind_transceiver_resp
    "00000000",
    "00000001",
    "534d534300",  # system_id "SMSC"
    "0210" "0001" "34",  # sc_interface_version = 0x34
)

SUBMIT_SM = h(
    "0000003e",  # command_length 62
    "00000004",  # submit_sm
    "00000000",
    "00000002",
    "00",  # service_type ""
    "01",  # source_addr_ton international
    "01",  # source_addr_npi E.164
    "34343730303031323331323300",  # source_addr "447000123123"
    "01",  # dest_addr_ton
    "01",  # dest_addr_npi
    "34343730303034353634353600",  # destination_addr "447000456456"
    "00",  # esm_class
    "00",  # protocol_id
    "00",  # priority_flag
    "00",  # schedule_delivery_time ""
    "00",  # validity_period ""
    "01",  # registered_delivery: receipt on final outcome
    "00",  # replace_if_present_flag
    "00",  # data_coding SMSC default
    "00",  # sm_default_msg_id
    "05",  # sm_length
    "48656c6c6f",  # short_message "Hello"
)

DELIVER_SM_RECEIPT = h(
    "00000064",  # command_length 100
    "00000005",  # deliver_sm
    "00000000",
    "00000003",
    "00",  # service_type
    "01",
    "01",
    "34343730303034353634353600",  # source_addr "447000456456" (the handset)
    "05",  # dest_addr_ton alphanumeric
    "00",
    "41636d6500",  # destination_addr "Acme"
    "04",  # esm_class: delivery receipt
    "00",
    "00",
    "00",
    "00",
    "00",
    "00",
    "00",
    "00",
    "16",  # sm_length 22
    "69643a616263313233207374617" "43a44454c49565244",  # "id:abc123 stat:DELIVRD"
    "001e" "0007" "61626331323300",  # receipted_message_id "abc123"
    "0427" "0001" "02",  # message_state DELIVERED
    "0423" "0003" "03" "0000",  # network_error_code GSM, 0
    "1401" "0002" "abcd",  # a vendor TLV the codec does not know
)


def test_bind_transceiver_bytes() -> None:
    pdu = BindTransceiver(sequence_number=1, system_id="smppclient1", password="password")
    assert encode(pdu) == BIND_TRANSCEIVER
    assert decode(BIND_TRANSCEIVER) == pdu


def test_bind_transceiver_resp_bytes() -> None:
    pdu = BindTransceiverResp(
        sequence_number=1, system_id="SMSC", tlvs={Tag.SC_INTERFACE_VERSION: 0x34}
    )
    assert encode(pdu) == BIND_TRANSCEIVER_RESP
    assert decode(BIND_TRANSCEIVER_RESP) == pdu


def test_submit_sm_bytes() -> None:
    pdu = SubmitSM(
        sequence_number=2,
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr="447000123123",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="447000456456",
        registered_delivery=1,
        short_message=b"Hello",
    )
    assert encode(pdu) == SUBMIT_SM
    assert decode(SUBMIT_SM) == pdu


def test_deliver_sm_receipt_bytes() -> None:
    pdu = decode(DELIVER_SM_RECEIPT)
    assert isinstance(pdu, DeliverSM)
    assert pdu.sequence_number == 3
    assert pdu.esm_class == 0x04
    assert pdu.source_addr == "447000456456"
    assert pdu.destination_addr == "Acme"
    assert pdu.short_message == b"id:abc123 stat:DELIVRD"
    assert pdu.tlvs == {
        0x001E: "abc123",
        0x0427: MessageState.DELIVERED,
        0x0423: NetworkErrorCode(network_type=3, error_code=0),
        0x1401: b"\xab\xcd",
    }
    assert list(pdu.tlvs) == [0x001E, 0x0427, 0x0423, 0x1401]  # arrival order kept
    assert encode(pdu) == DELIVER_SM_RECEIPT  # unknown TLV sent back unchanged


def test_header_only_pdus_bytes() -> None:
    assert encode(EnquireLink(sequence_number=7)) == h("00000010", "00000015", "0" * 8, "00000007")
    assert encode(EnquireLinkResp(sequence_number=7)) == h(
        "00000010", "80000015", "00000000", "00000007"
    )
    nack = GenericNack(sequence_number=9, command_status=CommandStatus.ESME_RINVCMDID)
    raw = h("00000010", "80000000", "00000003", "00000009")
    assert encode(nack) == raw
    assert decode(raw) == nack


def test_submit_sm_resp_with_and_without_body() -> None:
    raw = h("00000013", "80000004", "00000000", "00000002", "6d3100")
    assert decode(raw) == SubmitSMResp(sequence_number=2, message_id="m1")
    assert encode(SubmitSMResp(sequence_number=2, message_id="m1")) == raw
    # SMPP 3.4 §4.4.2: an error response may have no body at all
    throttled = decode(h("00000010", "80000004", "00000058", "00000002"))
    assert throttled == SubmitSMResp(sequence_number=2, command_status=0x58)
    assert status_name(throttled.command_status) == "ESME_RTHROTTLED"


def test_status_names() -> None:
    assert CommandStatus.ESME_RX_T_APPN == 0x64
    assert CommandStatus.ESME_RINVDSTTON == 0x50
    assert status_name(0) == "ESME_ROK"
    assert status_name(0xFF) == "ESME_RUNKNOWNERR"
    assert status_name(0x401) == "0x00000401"


# --------------------------------------------------------------------------------------
# Encoding refuses what cannot be sent
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"),
    [("system_id", 16), ("password", 9), ("system_type", 13), ("address_range", 41)],
)
def test_bind_field_limits(field: str, limit: int) -> None:
    encode(BindTransceiver(**{field: "x" * (limit - 1)}))  # type: ignore[arg-type]
    with pytest.raises(PDUError, match=field):
        encode(BindTransceiver(**{field: "x" * limit}))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("service_type", 6),
        ("source_addr", 21),
        ("destination_addr", 21),
        ("schedule_delivery_time", 17),
        ("validity_period", 17),
    ],
)
def test_submit_sm_field_limits(field: str, limit: int) -> None:
    encode(SubmitSM(**{field: "1" * (limit - 1)}))  # type: ignore[arg-type]
    with pytest.raises(PDUError, match=field):
        encode(SubmitSM(**{field: "1" * limit}))  # type: ignore[arg-type]


def test_other_unsendable_values() -> None:
    encode(SubmitSM(short_message=b"x" * 254))
    with pytest.raises(PDUError, match="254"):
        encode(SubmitSM(short_message=b"x" * 255))
    with pytest.raises(PDUError):
        encode(SubmitSMResp(message_id="x" * 65))
    with pytest.raises(PDUError):
        encode(SubmitSM(esm_class=256))
    with pytest.raises(PDUError):
        encode(SubmitSM(sequence_number=2**32))
    with pytest.raises(PDUError):
        encode(SubmitSM(source_addr="a\0b"))
    with pytest.raises(PDUError):
        encode(SubmitSM(source_addr="\u20ac"))  # not one octet
    with pytest.raises(PDUError):
        encode(SubmitSM(tlvs={Tag.MESSAGE_STATE: 256}))
    with pytest.raises(PDUError):
        encode(SubmitSM(tlvs={Tag.RECEIPTED_MESSAGE_ID: b"bytes"}))
    with pytest.raises(PDUError):
        encode(SubmitSM(tlvs={Tag.NETWORK_ERROR_CODE: NetworkErrorCode(3, 70000)}))
    with pytest.raises(PDUError):
        encode(SubmitSM(tlvs={0x1401: "not bytes"}))
    with pytest.raises(PDUError):
        encode(SubmitSM(tlvs={0x10000: b""}))
    with pytest.raises(PDUError, match="limit"):
        encode(SubmitSM(tlvs={Tag.MESSAGE_PAYLOAD: b"x" * 65535}))


# --------------------------------------------------------------------------------------
# Decoding garbage: PDUError with what a session needs to answer
# --------------------------------------------------------------------------------------


def with_length(raw: bytes) -> bytes:
    return struct.pack(">I", len(raw)) + raw[4:]


def test_unknown_command_id_tells_how_to_nack() -> None:
    query_sm = h("00000010", "00000003", "00000000", "0000002a")
    with pytest.raises(UnknownCommandError) as info:
        decode(query_sm)
    assert isinstance(info.value, PDUError)
    assert info.value.command_id == 0x00000003
    assert info.value.sequence_number == 42
    assert info.value.command_status == CommandStatus.ESME_RINVCMDID


def test_truncated_body() -> None:
    raw = with_length(SUBMIT_SM[:30])
    with pytest.raises(InvalidPDUError) as info:
        decode(raw)
    assert info.value.command_status == CommandStatus.ESME_RINVCMDLEN
    assert info.value.sequence_number == 2
    assert info.value.command_id == 0x00000004


def test_missing_nul() -> None:
    # source_addr of 21 octets and no NUL within its limit
    raw = with_length(SUBMIT_SM[:19] + b"1" * 21 + SUBMIT_SM[32:])
    with pytest.raises(InvalidPDUError) as info:
        decode(raw)
    assert info.value.command_status == CommandStatus.ESME_RINVSRCADR


def test_sm_length_past_end() -> None:
    raw = with_length(SUBMIT_SM[:-6] + b"\x06" + SUBMIT_SM[-5:])
    with pytest.raises(InvalidPDUError) as info:
        decode(raw)
    assert info.value.command_status == CommandStatus.ESME_RINVMSGLEN


def test_tlv_length_past_end() -> None:
    raw = with_length(SUBMIT_SM + h("1401", "0005", "abcd"))
    with pytest.raises(InvalidPDUError) as info:
        decode(raw)
    assert info.value.command_status == CommandStatus.ESME_RINVOPTPARSTREAM
    with pytest.raises(InvalidPDUError):
        decode(with_length(SUBMIT_SM + h("14")))  # stray octet


def test_known_tlv_with_wrong_length() -> None:
    with pytest.raises(InvalidPDUError) as info:
        decode(with_length(SUBMIT_SM + h("0427", "0002", "0002")))
    assert info.value.command_status == CommandStatus.ESME_RINVPARLEN


def test_receipted_message_id_without_nul_is_accepted() -> None:
    pdu = decode(with_length(SUBMIT_SM + h("001e", "0003", "616263")))
    assert pdu.tlvs == {Tag.RECEIPTED_MESSAGE_ID: "abc"}


@pytest.mark.parametrize("length", [0, 15, 17, 2**31])
def test_command_length_must_match(length: int) -> None:
    with pytest.raises(InvalidPDUError) as info:
        decode(struct.pack(">I", length) + encode(EnquireLink(sequence_number=5))[4:])
    assert info.value.command_status == CommandStatus.ESME_RINVCMDLEN
    assert info.value.sequence_number == 5


def test_header_only_pdu_with_short_header() -> None:
    with pytest.raises(PDUError):
        decode(b"\x00\x00\x00\x0c" + b"\0" * 8)
