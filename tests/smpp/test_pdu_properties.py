"""Property tests of the codec: round trips for every PDU type, and garbage in, PDUError out.

Field limits are written out here from SMPP 3.4 section 4 (not imported from the code),
so a wrong limit in the codec fails these tests.
"""

from __future__ import annotations

import contextlib
import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.errors import PDUError
from smscope.smpp import (
    PDU,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DataSM,
    DataSMResp,
    DeliverSM,
    DeliverSMResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    NetworkErrorCode,
    Outbind,
    PDUReader,
    SubmitSM,
    SubmitSMResp,
    Unbind,
    UnbindResp,
    decode,
    encode,
    split_frames,
)
from smscope.smpp.tlv import TLV_KINDS

PROPERTY = settings(max_examples=300, deadline=None)
FEWER = settings(max_examples=100, deadline=None)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def cstr(limit: int) -> st.SearchStrategy[str]:
    """A C-octet string value that fits ``limit`` octets with its NUL."""
    return st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=limit - 1)


# tag -> strategy of a valid typed value, per SMPP 3.4 §5.3.2
KNOWN_TLVS: dict[int, st.SearchStrategy[Any]] = {
    0x001E: cstr(65),  # receipted_message_id
    0x001D: cstr(256),  # additional_status_info_text
    0x0427: u8,  # message_state
    0x0423: st.builds(NetworkErrorCode, u8, u16),  # network_error_code
    0x0424: st.binary(max_size=300),  # message_payload
    0x020C: u16,  # sar_msg_ref_num
    0x020E: u8,  # sar_total_segments
    0x020F: u8,  # sar_segment_seqnum
    0x0204: u16,  # user_message_reference
    0x020A: u16,  # source_port
    0x020B: u16,  # destination_port
    0x0210: u8,  # sc_interface_version
    0x0426: u8,  # more_messages_to_send
    0x0019: u8,  # payload_type
    0x1204: u8,  # ms_validity
    0x0017: u32,  # qos_time_to_live
    0x0381: st.binary(max_size=19),  # callback_num
}
unknown_tag = u16.filter(lambda tag: tag not in TLV_KINDS)

tlv_entry = st.one_of(
    st.sampled_from(sorted(KNOWN_TLVS)).flatmap(
        lambda tag: st.tuples(st.just(tag), KNOWN_TLVS[tag])
    ),
    st.tuples(unknown_tag, st.binary(max_size=40)),
)
tlvs = st.lists(tlv_entry, max_size=5).map(dict)

BIND = {
    "system_id": cstr(16),
    "password": cstr(9),
    "system_type": cstr(13),
    "interface_version": u8,
    "addr_ton": u8,
    "addr_npi": u8,
    "address_range": cstr(41),
}
SHORT_MESSAGE = {
    "service_type": cstr(6),
    "source_addr_ton": u8,
    "source_addr_npi": u8,
    "source_addr": cstr(21),
    "dest_addr_ton": u8,
    "dest_addr_npi": u8,
    "destination_addr": cstr(21),
    "esm_class": u8,
    "protocol_id": u8,
    "priority_flag": u8,
    "schedule_delivery_time": cstr(17),
    "validity_period": cstr(17),
    "registered_delivery": u8,
    "replace_if_present_flag": u8,
    "data_coding": u8,
    "sm_default_msg_id": u8,
    "short_message": st.binary(max_size=254),
}
DATA_SM = {
    "service_type": cstr(6),
    "source_addr_ton": u8,
    "source_addr_npi": u8,
    "source_addr": cstr(65),
    "dest_addr_ton": u8,
    "dest_addr_npi": u8,
    "destination_addr": cstr(65),
    "esm_class": u8,
    "registered_delivery": u8,
    "data_coding": u8,
}
MESSAGE_ID = {"message_id": cstr(65)}
BIND_RESP = {"system_id": cstr(16)}

# class, its command_id from SMPP 3.4 §5.1.2.1, its mandatory fields
TYPES: list[tuple[type[PDU], int, dict[str, st.SearchStrategy[Any]]]] = [
    (BindReceiver, 0x00000001, BIND),
    (BindReceiverResp, 0x80000001, BIND_RESP),
    (BindTransmitter, 0x00000002, BIND),
    (BindTransmitterResp, 0x80000002, BIND_RESP),
    (SubmitSM, 0x00000004, SHORT_MESSAGE),
    (SubmitSMResp, 0x80000004, MESSAGE_ID),
    (DeliverSM, 0x00000005, SHORT_MESSAGE),
    (DeliverSMResp, 0x80000005, MESSAGE_ID),
    (Unbind, 0x00000006, {}),
    (UnbindResp, 0x80000006, {}),
    (BindTransceiver, 0x00000009, BIND),
    (BindTransceiverResp, 0x80000009, BIND_RESP),
    (Outbind, 0x0000000B, {"system_id": cstr(16), "password": cstr(9)}),
    (EnquireLink, 0x00000015, {}),
    (EnquireLinkResp, 0x80000015, {}),
    (GenericNack, 0x80000000, {}),
    (DataSM, 0x00000103, DATA_SM),
    (DataSMResp, 0x80000103, MESSAGE_ID),
]


def pdu_of(cls: type[PDU], fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[PDU]:
    return st.builds(cls, sequence_number=u32, command_status=u32, tlvs=tlvs, **fields)


any_pdu = st.one_of(*(pdu_of(cls, fields) for cls, _, fields in TYPES))
command_ids = [command_id for _, command_id, _ in TYPES]


def test_every_type_is_covered() -> None:
    from smscope.smpp import PDU_CLASSES

    assert {command_id: cls for cls, command_id, _ in TYPES} == dict(PDU_CLASSES)


@PROPERTY
@given(any_pdu)
def test_round_trip(pdu: PDU) -> None:
    raw = encode(pdu)
    length, command_id, status, seq = struct.unpack(">IIII", raw[:16])
    assert length == len(raw)
    assert (command_id, status, seq) == (
        dict((cls, cid) for cls, cid, _ in TYPES)[type(pdu)],
        pdu.command_status,
        pdu.sequence_number,
    )
    again = decode(raw)
    assert type(again) is type(pdu)
    assert again == pdu
    assert encode(again) == raw


def check_garbage(data: bytes) -> None:
    """decode either raises PDUError or returns a PDU that round-trips."""
    try:
        pdu = decode(data)
    except PDUError:
        return
    assert decode(encode(pdu)) == pdu


@PROPERTY
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    check_garbage(data)
    buffer = bytearray(data)
    try:
        frames = split_frames(buffer)
    except PDUError:
        return
    assert b"".join(frames) + buffer == data


@PROPERTY
@given(st.sampled_from(command_ids), u32, u32, st.binary(max_size=200))
def test_random_bodies(command_id: int, status: int, seq: int, body: bytes) -> None:
    check_garbage(struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(encode(draw(any_pdu)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[at] = draw(u8)
        elif action == "cut":
            del raw[at:]
        elif action == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=4))
        else:
            del raw[at]
    if len(raw) >= 4 and draw(st.booleans()):
        raw[:4] = struct.pack(">I", len(raw))  # a length that tells the truth
    return bytes(raw)


@PROPERTY
@given(mutated())
def test_mutated_pdus(data: bytes) -> None:
    check_garbage(data)
    with contextlib.suppress(PDUError):
        split_frames(bytearray(data))


@FEWER
@given(st.lists(any_pdu, max_size=6), st.lists(st.integers(1, 80), max_size=20))
def test_reader_reassembles_any_chunking(pdus: list[PDU], cuts: list[int]) -> None:
    stream = b"".join(encode(pdu) for pdu in pdus)
    reader = PDUReader()
    frames: list[bytes] = []
    pos = 0
    for size in cuts:
        frames += reader.feed(stream[pos : pos + size])
        pos += size
    frames += reader.feed(stream[pos:])
    assert reader.pending == 0
    assert [decode(frame) for frame in frames] == pdus
