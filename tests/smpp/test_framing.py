"""Cutting a byte stream into PDUs, and refusing a command_length that lies."""

from __future__ import annotations

import struct

import pytest

from smscope.errors import PDUError
from smscope.smpp import (
    CommandStatus,
    EnquireLink,
    InvalidPDUError,
    PDUReader,
    SubmitSM,
    encode,
    split_frames,
)


def test_complete_and_partial_frames() -> None:
    one = encode(EnquireLink(sequence_number=1))
    two = encode(SubmitSM(sequence_number=2, short_message=b"hi"))
    buffer = bytearray(one + two[:10])
    assert split_frames(buffer) == [one]
    assert buffer == two[:10]
    buffer += two[10:]
    assert split_frames(buffer) == [two]
    assert buffer == b""
    assert split_frames(bytearray(b"\x00\x00")) == []


@pytest.mark.parametrize("length", [0, 15, 2**31, 0xFFFFFFFF, 64 * 1024 + 1])
def test_lying_command_length(length: int) -> None:
    with pytest.raises(InvalidPDUError) as info:
        split_frames(bytearray(struct.pack(">I", length)))  # known after 4 octets
    assert info.value.command_status == CommandStatus.ESME_RINVCMDLEN
    assert info.value.sequence_number is None
    with pytest.raises(PDUError):
        PDUReader().feed(struct.pack(">IIII", length, 0x15, 0, 1))


def test_good_frames_before_a_lie_are_returned_first() -> None:
    good = encode(EnquireLink(sequence_number=1))
    buffer = bytearray(good + struct.pack(">I", 15) + b"\0" * 11)
    assert split_frames(buffer) == [good]
    with pytest.raises(PDUError):
        split_frames(buffer)


def test_max_length_is_configurable() -> None:
    frame = encode(SubmitSM(short_message=b"x" * 100))
    with pytest.raises(PDUError):
        PDUReader(max_length=64).feed(frame)
    assert PDUReader(max_length=len(frame)).feed(frame) == [frame]
