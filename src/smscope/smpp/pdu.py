"""SMPP 3.4 PDU codec: bytes to typed PDUs and back, framing, message text and UDH.

Why this is our own code and not a library: the Python SMPP libraries on PyPI were
measured and none fits. The synchronous ones reach a few thousand PDUs per second; the
Rust-backed one acknowledges delivery receipts before Python has seen them, which breaks
our rule that a receipt is durable before it is acknowledged; the asyncio one falls over
at ten thousand messages. A plain codec driven by asyncio reaches about 100k submit_sm per
second on loopback. Being our own, it must be proven against an independent
implementation, the npm ``smpp`` package: interop tests do that (they come with the
session layer; the tests here check it against the spec's byte layouts).

What is here, all pure functions of their arguments (no I/O):

* :func:`encode` / :func:`decode` for one whole PDU, with one dataclass per PDU type
  (mandatory parameters of SMPP 3.4 section 4, optional ones in ``pdu.tlvs``);
* :func:`split_frames` / :class:`PDUReader` to cut a byte stream into PDUs;
* :func:`encode_text` / :func:`decode_text` for the data_coding values 0, 1, 3 and 8;
* :func:`build_concat_udh` / :func:`parse_udh` / :func:`split_for_submit` for long
  messages, cut exactly where :func:`smscope.text.split` cuts, so that the parts sent are
  the parts :func:`smscope.text.measure` counted and the customer was shown.

Errors: decoding bytes never raises anything but :class:`~smscope.errors.PDUError`
(in practice its subclass :class:`InvalidPDUError`, which tells a session how to answer;
see there). Encoding a PDU whose fields cannot be sent (a C-octet string at or over its
limit, an integer out of range, a short_message over 254 octets) raises ``PDUError`` too.

C-octet strings are ``str`` and travel as Latin-1, one octet per character, so every
octet string an SMSC sends decodes and re-encodes unchanged. The limits given per field
are the spec's, and count the terminating NUL (system_id 16 = 15 characters).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Final, Literal, NamedTuple

from smscope.errors import PDUError
from smscope.smpp.constants import (
    HEADER_LENGTH,
    MAX_PDU_LENGTH,
    CommandId,
    CommandStatus,
    DataCoding,
    EsmClass,
)
from smscope.smpp.tlv import TLV_KINDS, NetworkErrorCode, Tag, TLVKind, TLVValue
from smscope.text import decode_gsm7, encode_gsm7, is_gsm7, split

__all__ = [
    "PDU",
    "PDU_CLASSES",
    "BindReceiver",
    "BindReceiverResp",
    "BindTransceiver",
    "BindTransceiverResp",
    "BindTransmitter",
    "BindTransmitterResp",
    "Concat",
    "DataSM",
    "DataSMResp",
    "DeliverSM",
    "DeliverSMResp",
    "EnquireLink",
    "EnquireLinkResp",
    "GenericNack",
    "InvalidPDUError",
    "Outbind",
    "PDUReader",
    "SplitMode",
    "SubmitPart",
    "SubmitSM",
    "SubmitSMResp",
    "Unbind",
    "UnbindResp",
    "UnknownCommandError",
    "build_concat_udh",
    "decode",
    "decode_text",
    "encode",
    "encode_text",
    "parse_udh",
    "split_for_submit",
    "split_frames",
]

_HEADER: Final = struct.Struct(">IIII")
_U32: Final = struct.Struct(">I")
_TL: Final = struct.Struct(">HH")
_B2: Final = struct.Struct(">BB")
_B3: Final = struct.Struct(">BBB")
_B5: Final = struct.Struct(">BBBBB")
_U16: Final = struct.Struct(">H")
_U8: Final = struct.Struct(">B")
_NETERR: Final = struct.Struct(">BH")

_S = CommandStatus
_ROK: Final = int(_S.ESME_ROK)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class InvalidPDUError(PDUError):
    """Bytes that are not a valid PDU, with what a session needs to answer them.

    * ``command_id`` / ``sequence_number``: from the header, or None when not even the
      header could be read (a lying command_length: the stream cannot be resynchronised
      and the connection should be closed).
    * ``command_status``: the ``ESME_R*`` error to answer with, chosen from the fault
      (ESME_RINVCMDLEN for a bad length or a truncated body, ESME_RINVMSGLEN for an
      sm_length past the end, ESME_RINVOPTPARSTREAM for a broken TLV, ESME_RINVSRCADR for
      an unterminated source_addr, ...).

    How to answer: for an unknown command_id (:class:`UnknownCommandError`) send a
    generic_nack with ``command_status`` and ``sequence_number``; for a known request with
    a bad body send its ``*_resp`` with that status and sequence number; for a bad
    response send nothing (log it).
    """

    def __init__(
        self,
        message: str,
        command_status: int = _S.ESME_RINVCMDLEN,
        *,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        super().__init__(message)
        self.command_status = int(command_status)
        self.command_id = command_id
        self.sequence_number = sequence_number


class UnknownCommandError(InvalidPDUError):
    """A well-framed PDU whose command_id this codec does not know: answer generic_nack
    (ESME_RINVCMDID) with ``sequence_number``; the connection stays usable."""


# --------------------------------------------------------------------------------------
# Field codecs
# --------------------------------------------------------------------------------------

#: status to answer when a C-octet string field is not terminated within its limit
_FIELD_STATUS: Final[dict[str, int]] = {
    "system_id": _S.ESME_RINVSYSID,
    "password": _S.ESME_RINVPASWD,
    "system_type": _S.ESME_RINVSYSTYP,
    "service_type": _S.ESME_RINVSERTYP,
    "source_addr": _S.ESME_RINVSRCADR,
    "destination_addr": _S.ESME_RINVDSTADR,
    "schedule_delivery_time": _S.ESME_RINVSCHED,
    "validity_period": _S.ESME_RINVEXPIRY,
    "message_id": _S.ESME_RINVMSGID,
}


def _cstr(data: bytes, pos: int, limit: int, name: str) -> tuple[str, int]:
    """The C-octet string at ``pos`` (at most ``limit`` octets with its NUL), next pos."""
    nul = data.find(b"\0", pos, pos + limit)
    if nul < 0:
        if data.find(b"\0", pos) < 0 or pos >= len(data):
            raise InvalidPDUError(f"{name}: PDU ends before its NUL terminator")
        raise InvalidPDUError(
            f"{name}: no NUL terminator within {limit} octets",
            _FIELD_STATUS.get(name, _S.ESME_RINVPARLEN),
        )
    return data[pos:nul].decode("latin-1"), nul + 1


def _cenc(value: str, limit: int, name: str) -> bytes:
    """``value`` as a C-octet string of at most ``limit`` octets including the NUL."""
    try:
        raw = value.encode("latin-1")
    except (AttributeError, UnicodeEncodeError):
        raise PDUError(f"{name} must be a str of Latin-1 characters, got {value!r}") from None
    if len(raw) >= limit or b"\0" in raw:
        raise PDUError(f"{name} {value!r} does not fit: at most {limit - 1} characters, no NUL")
    return raw + b"\0"


_KINDS: Final[dict[int, tuple[int, int]]] = {
    int(tag): (int(kind), limit) for tag, (kind, limit) in TLV_KINDS.items()
}
_K_U8: Final = int(TLVKind.U8)
_K_U16: Final = int(TLVKind.U16)
_K_U32: Final = int(TLVKind.U32)
_K_CSTR: Final = int(TLVKind.CSTR)
_K_NETERR: Final = int(TLVKind.NETWORK_ERROR)
_K_OCTETS: Final = int(TLVKind.OCTETS)
_INT_SIZES: Final = {_K_U8: 1, _K_U16: 2, _K_U32: 4}


def _tlv_name(tag: int) -> str:
    try:
        return Tag(tag).name.lower()
    except ValueError:
        return f"TLV 0x{tag:04X}"


def _decode_tlv(tag: int, kind: int, limit: int, raw: bytes) -> TLVValue:
    size = len(raw)
    int_size = _INT_SIZES.get(kind)
    if int_size is not None:
        if size != int_size:
            raise InvalidPDUError(
                f"{_tlv_name(tag)}: length {size}, must be {int_size}", _S.ESME_RINVPARLEN
            )
        return int.from_bytes(raw, "big")
    if kind == _K_CSTR:
        nul = raw.find(b"\0")
        # Some SMSCs leave out the NUL of receipted_message_id; the value is still clear.
        if nul >= 0:
            if nul != size - 1:
                raise InvalidPDUError(
                    f"{_tlv_name(tag)}: NUL inside the value", _S.ESME_RINVOPTPARAMVAL
                )
            raw = raw[:nul]
        if len(raw) >= limit:
            raise InvalidPDUError(
                f"{_tlv_name(tag)}: longer than {limit - 1} characters", _S.ESME_RINVPARLEN
            )
        return raw.decode("latin-1")
    if kind == _K_NETERR:
        if size != 3:
            raise InvalidPDUError(f"{_tlv_name(tag)}: length {size}, must be 3", _S.ESME_RINVPARLEN)
        network_type, error_code = _NETERR.unpack(raw)
        return NetworkErrorCode(network_type, error_code)
    return raw


def _decode_tlvs(data: bytes, pos: int) -> dict[int, TLVValue]:
    """TLVs from ``pos`` to the end of ``data``; a repeated tag keeps its last value."""
    tlvs: dict[int, TLVValue] = {}
    end = len(data)
    kinds = _KINDS
    while pos < end:
        if pos + 4 > end:
            raise InvalidPDUError(
                f"{end - pos} stray octets where a TLV header (4) should be",
                _S.ESME_RINVOPTPARSTREAM,
            )
        tag, length = _TL.unpack_from(data, pos)
        pos += 4
        value_end = pos + length
        if value_end > end:
            raise InvalidPDUError(
                f"{_tlv_name(tag)}: length {length} runs past the end of the PDU",
                _S.ESME_RINVOPTPARSTREAM,
            )
        raw = data[pos:value_end]
        pos = value_end
        kind = kinds.get(tag)
        tlvs[tag] = raw if kind is None else _decode_tlv(tag, kind[0], kind[1], raw)
    return tlvs


def _encode_tlv(tag: int, value: object) -> bytes:
    kind = _KINDS.get(tag)
    code, limit = (_K_OCTETS, 0) if kind is None else kind
    if code == _K_OCTETS:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise PDUError(f"{_tlv_name(tag)}: value must be bytes, got {value!r}")
        return bytes(value)
    if code == _K_CSTR:
        if not isinstance(value, str):
            raise PDUError(f"{_tlv_name(tag)}: value must be a str, got {value!r}")
        return _cenc(value, limit, _tlv_name(tag))
    if code == _K_NETERR:
        try:
            if not isinstance(value, tuple) or len(value) != 2:
                raise TypeError
            return _NETERR.pack(*value)
        except (TypeError, struct.error):
            raise PDUError(
                f"{_tlv_name(tag)}: value must be (network_type 0..255, error_code 0..65535)"
                f", got {value!r}"
            ) from None
    size = _INT_SIZES[code]
    if not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
        raise PDUError(f"{_tlv_name(tag)}: value must be an int of {size} octets, got {value!r}")
    return value.to_bytes(size, "big")


def _encode_tlvs(tlvs: Mapping[int, TLVValue]) -> bytes:
    out: list[bytes] = []
    for tag, value in tlvs.items():
        if not isinstance(tag, int) or not 0 <= tag <= 0xFFFF:
            raise PDUError(f"TLV tag must be an int 0..0xFFFF, got {tag!r}")
        raw = _encode_tlv(tag, value)
        if len(raw) > 0xFFFF:
            raise PDUError(f"{_tlv_name(tag)}: {len(raw)} octets, a TLV holds at most 65535")
        out.append(_TL.pack(tag, len(raw)))
        out.append(raw)
    return b"".join(out)


# --------------------------------------------------------------------------------------
# PDU classes
# --------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PDU:
    """Base of every PDU: the header fields (command_length is computed) and the TLVs.

    ``tlvs`` maps a tag (see :class:`smscope.smpp.tlv.Tag`) to its value, typed for the
    tags the codec knows and raw ``bytes`` for the others, which are sent back unchanged.
    """

    command_id: ClassVar[int]
    sequence_number: int = 0
    command_status: int = _ROK
    tlvs: dict[int, TLVValue] = field(default_factory=dict)

    def _body(self) -> bytes:
        return _encode_tlvs(self.tlvs) if self.tlvs else b""

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        tlvs = _decode_tlvs(data, HEADER_LENGTH) if len(data) > HEADER_LENGTH else {}
        return cls(sequence_number=seq, command_status=status, tlvs=tlvs)


@dataclass(slots=True, kw_only=True)
class _Bind(PDU):
    system_id: str = ""  # max 16
    password: str = ""  # max 9
    system_type: str = ""  # max 13
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""  # max 41

    def _body(self) -> bytes:
        return b"".join(
            (
                _cenc(self.system_id, 16, "system_id"),
                _cenc(self.password, 9, "password"),
                _cenc(self.system_type, 13, "system_type"),
                _B3.pack(self.interface_version, self.addr_ton, self.addr_npi),
                _cenc(self.address_range, 41, "address_range"),
                _encode_tlvs(self.tlvs) if self.tlvs else b"",
            )
        )

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        system_id, pos = _cstr(data, HEADER_LENGTH, 16, "system_id")
        password, pos = _cstr(data, pos, 9, "password")
        system_type, pos = _cstr(data, pos, 13, "system_type")
        version, ton, npi = _B3.unpack_from(data, pos)
        address_range, pos = _cstr(data, pos + 3, 41, "address_range")
        return cls(
            sequence_number=seq,
            command_status=status,
            tlvs=_decode_tlvs(data, pos) if pos < len(data) else {},
            system_id=system_id,
            password=password,
            system_type=system_type,
            interface_version=version,
            addr_ton=ton,
            addr_npi=npi,
            address_range=address_range,
        )


@dataclass(slots=True, kw_only=True)
class BindReceiver(_Bind):
    command_id: ClassVar[int] = CommandId.BIND_RECEIVER


@dataclass(slots=True, kw_only=True)
class BindTransmitter(_Bind):
    command_id: ClassVar[int] = CommandId.BIND_TRANSMITTER


@dataclass(slots=True, kw_only=True)
class BindTransceiver(_Bind):
    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER


@dataclass(slots=True, kw_only=True)
class _OneStringResp(PDU):
    """A response whose body is one C-octet string, then optional TLVs.

    An error response may come with no body at all (SMPP 3.4 §4.4.2): it decodes with
    the string empty.
    """

    _FIELD: ClassVar[str]
    _MAX: ClassVar[int]

    def _body(self) -> bytes:
        body = _cenc(getattr(self, self._FIELD), self._MAX, self._FIELD)
        return body + _encode_tlvs(self.tlvs) if self.tlvs else body

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        if len(data) == HEADER_LENGTH:
            return cls(sequence_number=seq, command_status=status)
        value, pos = _cstr(data, HEADER_LENGTH, cls._MAX, cls._FIELD)
        tlvs = _decode_tlvs(data, pos) if pos < len(data) else {}
        return cls(sequence_number=seq, command_status=status, tlvs=tlvs,
                   **{cls._FIELD: value})


@dataclass(slots=True, kw_only=True)
class _BindResp(_OneStringResp):
    """bind_*_resp: system_id (max 16)."""

    _FIELD: ClassVar[str] = "system_id"
    _MAX: ClassVar[int] = 16
    system_id: str = ""


@dataclass(slots=True, kw_only=True)
class BindReceiverResp(_BindResp):
    command_id: ClassVar[int] = CommandId.BIND_RECEIVER_RESP


@dataclass(slots=True, kw_only=True)
class BindTransmitterResp(_BindResp):
    command_id: ClassVar[int] = CommandId.BIND_TRANSMITTER_RESP


@dataclass(slots=True, kw_only=True)
class BindTransceiverResp(_BindResp):
    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(slots=True, kw_only=True)
class Outbind(PDU):
    command_id: ClassVar[int] = CommandId.OUTBIND
    system_id: str = ""  # max 16
    password: str = ""  # max 9

    def _body(self) -> bytes:
        body = _cenc(self.system_id, 16, "system_id") + _cenc(self.password, 9, "password")
        return body + _encode_tlvs(self.tlvs) if self.tlvs else body

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        system_id, pos = _cstr(data, HEADER_LENGTH, 16, "system_id")
        password, pos = _cstr(data, pos, 9, "password")
        tlvs = _decode_tlvs(data, pos) if pos < len(data) else {}
        return cls(
            sequence_number=seq,
            command_status=status,
            tlvs=tlvs,
            system_id=system_id,
            password=password,
        )


@dataclass(slots=True, kw_only=True)
class Unbind(PDU):
    command_id: ClassVar[int] = CommandId.UNBIND


@dataclass(slots=True, kw_only=True)
class UnbindResp(PDU):
    command_id: ClassVar[int] = CommandId.UNBIND_RESP


@dataclass(slots=True, kw_only=True)
class EnquireLink(PDU):
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK


@dataclass(slots=True, kw_only=True)
class EnquireLinkResp(PDU):
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK_RESP


@dataclass(slots=True, kw_only=True)
class GenericNack(PDU):
    command_id: ClassVar[int] = CommandId.GENERIC_NACK


@dataclass(slots=True, kw_only=True)
class _ShortMessage(PDU):
    """submit_sm and deliver_sm share one body layout (SMPP 3.4 §4.4.1 and §4.6.1)."""

    service_type: str = ""  # max 6
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""  # max 21
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""  # max 21
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""  # max 17
    validity_period: str = ""  # max 17
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    #: 0..254 octets; sm_length is its length (use the message_payload TLV for more)
    short_message: bytes = b""

    def _body(self) -> bytes:
        short_message = self.short_message
        length = len(short_message)
        if length > 254:
            raise PDUError(
                f"short_message is {length} octets, at most 254 fit (use message_payload)"
            )
        body = b"".join(
            (
                _cenc(self.service_type, 6, "service_type"),
                _B2.pack(self.source_addr_ton, self.source_addr_npi),
                _cenc(self.source_addr, 21, "source_addr"),
                _B2.pack(self.dest_addr_ton, self.dest_addr_npi),
                _cenc(self.destination_addr, 21, "destination_addr"),
                _B3.pack(self.esm_class, self.protocol_id, self.priority_flag),
                _cenc(self.schedule_delivery_time, 17, "schedule_delivery_time"),
                _cenc(self.validity_period, 17, "validity_period"),
                _B5.pack(
                    self.registered_delivery,
                    self.replace_if_present_flag,
                    self.data_coding,
                    self.sm_default_msg_id,
                    length,
                ),
                short_message,
            )
        )
        if self.tlvs:
            return body + _encode_tlvs(self.tlvs)
        return body

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        service_type, pos = _cstr(data, HEADER_LENGTH, 6, "service_type")
        source_ton, source_npi = _B2.unpack_from(data, pos)
        source_addr, pos = _cstr(data, pos + 2, 21, "source_addr")
        dest_ton, dest_npi = _B2.unpack_from(data, pos)
        destination_addr, pos = _cstr(data, pos + 2, 21, "destination_addr")
        esm_class, protocol_id, priority_flag = _B3.unpack_from(data, pos)
        schedule, pos = _cstr(data, pos + 3, 17, "schedule_delivery_time")
        validity, pos = _cstr(data, pos, 17, "validity_period")
        registered, replace, data_coding, default_msg_id, sm_length = _B5.unpack_from(data, pos)
        pos += 5
        end = pos + sm_length
        if end > len(data):
            raise InvalidPDUError(
                f"sm_length {sm_length} runs past the end of the PDU", _S.ESME_RINVMSGLEN
            )
        return cls(
            sequence_number=seq,
            command_status=status,
            tlvs=_decode_tlvs(data, end) if end < len(data) else {},
            service_type=service_type,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source_addr,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination_addr,
            esm_class=esm_class,
            protocol_id=protocol_id,
            priority_flag=priority_flag,
            schedule_delivery_time=schedule,
            validity_period=validity,
            registered_delivery=registered,
            replace_if_present_flag=replace,
            data_coding=data_coding,
            sm_default_msg_id=default_msg_id,
            short_message=data[pos:end],
        )


@dataclass(slots=True, kw_only=True)
class SubmitSM(_ShortMessage):
    command_id: ClassVar[int] = CommandId.SUBMIT_SM


@dataclass(slots=True, kw_only=True)
class DeliverSM(_ShortMessage):
    """deliver_sm; a delivery receipt has ``esm_class & EsmClass.TYPE_MASK`` equal to
    ``EsmClass.DELIVERY_RECEIPT`` and usually the receipted_message_id and message_state
    TLVs. schedule_delivery_time and validity_period are empty in a deliver_sm."""

    command_id: ClassVar[int] = CommandId.DELIVER_SM


@dataclass(slots=True, kw_only=True)
class _MessageIdResp(_OneStringResp):
    """submit_sm_resp, deliver_sm_resp, data_sm_resp: message_id (max 65)."""

    _FIELD: ClassVar[str] = "message_id"
    _MAX: ClassVar[int] = 65
    message_id: str = ""


@dataclass(slots=True, kw_only=True)
class SubmitSMResp(_MessageIdResp):
    command_id: ClassVar[int] = CommandId.SUBMIT_SM_RESP


@dataclass(slots=True, kw_only=True)
class DeliverSMResp(_MessageIdResp):
    command_id: ClassVar[int] = CommandId.DELIVER_SM_RESP


@dataclass(slots=True, kw_only=True)
class DataSMResp(_MessageIdResp):
    command_id: ClassVar[int] = CommandId.DATA_SM_RESP


@dataclass(slots=True, kw_only=True)
class DataSM(PDU):
    """data_sm (SMPP 3.4 §4.7.1): addresses up to 65 octets, the text in message_payload."""

    command_id: ClassVar[int] = CommandId.DATA_SM
    service_type: str = ""  # max 6
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""  # max 65
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""  # max 65
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0

    def _body(self) -> bytes:
        body = b"".join(
            (
                _cenc(self.service_type, 6, "service_type"),
                _B2.pack(self.source_addr_ton, self.source_addr_npi),
                _cenc(self.source_addr, 65, "source_addr"),
                _B2.pack(self.dest_addr_ton, self.dest_addr_npi),
                _cenc(self.destination_addr, 65, "destination_addr"),
                _B3.pack(self.esm_class, self.registered_delivery, self.data_coding),
            )
        )
        if self.tlvs:
            return body + _encode_tlvs(self.tlvs)
        return body

    @classmethod
    def _decode(cls, data: bytes, seq: int, status: int) -> PDU:
        service_type, pos = _cstr(data, HEADER_LENGTH, 6, "service_type")
        source_ton, source_npi = _B2.unpack_from(data, pos)
        source_addr, pos = _cstr(data, pos + 2, 65, "source_addr")
        dest_ton, dest_npi = _B2.unpack_from(data, pos)
        destination_addr, pos = _cstr(data, pos + 2, 65, "destination_addr")
        esm_class, registered, data_coding = _B3.unpack_from(data, pos)
        pos += 3
        return cls(
            sequence_number=seq,
            command_status=status,
            tlvs=_decode_tlvs(data, pos) if pos < len(data) else {},
            service_type=service_type,
            source_addr_ton=source_ton,
            source_addr_npi=source_npi,
            source_addr=source_addr,
            dest_addr_ton=dest_ton,
            dest_addr_npi=dest_npi,
            destination_addr=destination_addr,
            esm_class=esm_class,
            registered_delivery=registered,
            data_coding=data_coding,
        )


#: command_id -> PDU class, for every PDU type the codec knows
PDU_CLASSES: Final[Mapping[int, type[PDU]]] = MappingProxyType(
    {
        int(cls.command_id): cls
        for cls in (
            BindReceiver,
            BindReceiverResp,
            BindTransmitter,
            BindTransmitterResp,
            BindTransceiver,
            BindTransceiverResp,
            Outbind,
            Unbind,
            UnbindResp,
            EnquireLink,
            EnquireLinkResp,
            GenericNack,
            SubmitSM,
            SubmitSMResp,
            DeliverSM,
            DeliverSMResp,
            DataSM,
            DataSMResp,
        )
    }
)
_CLASSES: Final[dict[int, type[PDU]]] = dict(PDU_CLASSES)


# --------------------------------------------------------------------------------------
# encode / decode / framing
# --------------------------------------------------------------------------------------


def encode(pdu: PDU) -> bytes:
    """The bytes of ``pdu``, header included; PDUError if a field cannot be sent."""
    try:
        body = pdu._body()
        length = HEADER_LENGTH + len(body)
        if length > MAX_PDU_LENGTH:
            raise PDUError(f"PDU would be {length} octets, the limit is {MAX_PDU_LENGTH}")
        return _HEADER.pack(length, pdu.command_id, pdu.command_status, pdu.sequence_number) + body
    except struct.error as err:
        raise PDUError(f"{type(pdu).__name__}: an integer field is out of range ({err})") from None
    except TypeError as err:
        raise PDUError(f"{type(pdu).__name__}: a field has the wrong type ({err})") from None


def decode(data: bytes | bytearray | memoryview) -> PDU:
    """The PDU in ``data``, which must be exactly one whole PDU (command_length included).

    Raises :class:`InvalidPDUError` (a :class:`~smscope.errors.PDUError`) and nothing
    else for bytes that are not a valid PDU, :class:`UnknownCommandError` for a command_id
    the codec does not know; both carry what a session needs to answer (see there).
    """
    if type(data) is not bytes:
        data = bytes(data)
    size = len(data)
    if size < HEADER_LENGTH:
        raise InvalidPDUError(f"{size} octets is shorter than a PDU header ({HEADER_LENGTH})")
    length, command_id, status, seq = _HEADER.unpack_from(data)
    if length != size:
        raise InvalidPDUError(
            f"command_length {length} but {size} octets given",
            command_id=command_id,
            sequence_number=seq,
        )
    if size > MAX_PDU_LENGTH:
        raise InvalidPDUError(
            f"command_length {length} is over the limit of {MAX_PDU_LENGTH}",
            command_id=command_id,
            sequence_number=seq,
        )
    cls = _CLASSES.get(command_id)
    if cls is None:
        raise UnknownCommandError(
            f"unknown command_id 0x{command_id:08X}",
            _S.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=seq,
        )
    try:
        return cls._decode(data, seq, status)
    except InvalidPDUError as err:
        err.command_id = command_id
        err.sequence_number = seq
        err.args = (f"{cls.__name__}: {err}",)
        raise
    except (struct.error, IndexError):
        raise InvalidPDUError(
            f"{cls.__name__}: PDU ends in the middle of its mandatory parameters",
            command_id=command_id,
            sequence_number=seq,
        ) from None


def split_frames(buffer: bytearray, max_length: int = MAX_PDU_LENGTH) -> list[bytes]:
    """Take every complete PDU off the front of ``buffer``; a partial one stays there.

    Raises :class:`InvalidPDUError` (ESME_RINVCMDLEN) when the PDU at the front claims a
    command_length under 16 or over ``max_length``: such a stream cannot be resynchronised
    and the connection should be closed. Frames complete before the lying length are
    returned first; the next call raises.
    """
    frames: list[bytes] = []
    available = len(buffer)
    pos = 0
    unpack_from = _U32.unpack_from
    while available - pos >= 4:
        (length,) = unpack_from(buffer, pos)
        if length < HEADER_LENGTH or length > max_length:
            if frames:
                break
            raise InvalidPDUError(
                f"command_length {length} is not between {HEADER_LENGTH} and {max_length}"
            )
        end = pos + length
        if end > available:
            break
        frames.append(bytes(buffer[pos:end]))
        pos = end
    if pos:
        del buffer[:pos]
    return frames


class PDUReader:
    """Cuts a byte stream into PDUs: ``for frame in reader.feed(chunk): decode(frame)``.

    Frames are returned undecoded so that a session can answer each bad one (generic_nack
    or an error ``*_resp``) and go on with the next.
    """

    __slots__ = ("_buffer", "max_length")

    def __init__(self, max_length: int = MAX_PDU_LENGTH) -> None:
        self._buffer = bytearray()
        self.max_length = max_length

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Add ``data``; the complete frames now available (see :func:`split_frames`)."""
        self._buffer += data
        return split_frames(self._buffer, self.max_length)

    @property
    def pending(self) -> int:
        """Octets received that do not make a complete PDU yet."""
        return len(self._buffer)


# --------------------------------------------------------------------------------------
# Message text
# --------------------------------------------------------------------------------------


def encode_text(text: str, data_coding: int) -> bytes:
    """``text`` as short_message octets in ``data_coding``.

    0 (SMSC default): GSM 03.38, one septet per octet, as :mod:`smscope.text` counts it;
    1: ASCII; 3: Latin-1; 8: UCS-2 sent as UTF-16-BE, so characters outside the BMP go as
    surrogate pairs. PDUError for a character the coding lacks or another data_coding.
    """
    try:
        if data_coding == DataCoding.SMSC_DEFAULT:
            return encode_gsm7(text)
        if data_coding == DataCoding.UCS2:
            return text.encode("utf-16-be")
        if data_coding == DataCoding.LATIN1:
            return text.encode("latin-1")
        if data_coding == DataCoding.IA5:
            return text.encode("ascii")
    except UnicodeEncodeError as err:
        raise PDUError(
            f"character {text[err.start : err.end]!r} cannot be sent with data_coding {data_coding}"
        ) from None
    raise PDUError(f"data_coding {data_coding} is not a text coding (use 0, 1, 3 or 8)")


def decode_text(data: bytes | bytearray | memoryview, data_coding: int) -> str:
    """The text of received short_message (or message_payload) octets; never raises.

    Undecodable octets become U+FFFD (GSM 03.38 escapes follow TS 23.038's "replace"
    rules), because a receipt or a reply must be stored even when a phone or an SMSC
    sends something odd. 0 and the GSM message classes 0xF0..0xF3 decode as GSM 03.38,
    1 as ASCII, 8 as UTF-16-BE, 3 and any other value as Latin-1 (one character per
    octet, nothing lost).
    """
    raw = bytes(data)
    if data_coding == DataCoding.SMSC_DEFAULT or 0xF0 <= data_coding <= 0xF3:
        return decode_gsm7(raw, errors="replace")
    if data_coding == DataCoding.UCS2:
        return raw.decode("utf-16-be", "replace")
    if data_coding == DataCoding.IA5:
        return raw.decode("ascii", "replace")
    return raw.decode("latin-1")


# --------------------------------------------------------------------------------------
# Concatenation: user data header and the parts of a long message
# --------------------------------------------------------------------------------------


class Concat(NamedTuple):
    """The concatenation information element of a user data header (TS 23.040 §9.2.3.24.1
    and .8): message reference, number of parts, this part's number (from 1)."""

    reference: int
    total: int
    seqnum: int


def build_concat_udh(reference: int, total: int, seqnum: int, *, ref16: bool = False) -> bytes:
    """User data header for part ``seqnum`` of ``total``.

    8-bit reference (IEI 0x00): 6 octets ``05 00 03 ref total seqnum``; 16-bit reference
    (IEI 0x08): 7 octets ``06 08 04 refhi reflo total seqnum``.
    """
    limit = 0xFFFF if ref16 else 0xFF
    if not 0 <= reference <= limit:
        raise PDUError(f"concatenation reference {reference} is not between 0 and {limit}")
    if not 1 <= seqnum <= total <= 255:
        raise PDUError(f"part {seqnum} of {total}: need 1 <= part <= total <= 255")
    if ref16:
        return bytes((6, 0x08, 4, reference >> 8, reference & 0xFF, total, seqnum))
    return bytes((5, 0x00, 3, reference, total, seqnum))


def parse_udh(short_message: bytes) -> tuple[Concat | None, bytes]:
    """Split a short_message sent with the UDHI bit (esm_class 0x40) into the
    concatenation information of its header (None if it has none) and the user data.

    Other information elements are skipped; a concatenation element with a zero total or
    part number, or a part after the total, is ignored as TS 23.040 asks. Raises
    :class:`InvalidPDUError` if the header runs past the end of the message.
    """
    if not short_message:
        raise InvalidPDUError("empty user data cannot start with a header", _S.ESME_RINVMSGLEN)
    end = 1 + short_message[0]
    if end > len(short_message):
        raise InvalidPDUError(
            f"user data header length {end - 1} runs past the end of the message",
            _S.ESME_RINVMSGLEN,
        )
    concat: Concat | None = None
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise InvalidPDUError("user data header ends inside an element", _S.ESME_RINVMSGLEN)
        iei, iel = short_message[pos], short_message[pos + 1]
        pos += 2
        if pos + iel > end:
            raise InvalidPDUError(
                f"user data header element 0x{iei:02X} runs past the header", _S.ESME_RINVMSGLEN
            )
        if iei == 0x00 and iel == 3:
            reference, total, seqnum = short_message[pos : pos + 3]
        elif iei == 0x08 and iel == 4:
            reference = (short_message[pos] << 8) | short_message[pos + 1]
            total, seqnum = short_message[pos + 2], short_message[pos + 3]
        else:
            pos += iel
            continue
        if 1 <= seqnum <= total:
            concat = Concat(reference, total, seqnum)
        pos += iel
    return concat, bytes(short_message[end:])


class SubmitPart(NamedTuple):
    """What one submit_sm of a message needs: ``short_message``, the esm_class bits to
    OR in (UDHI or 0), ``data_coding`` and the TLVs (SAR, or message_payload)."""

    short_message: bytes
    esm_class: int
    data_coding: int
    tlvs: dict[int, TLVValue]


SplitMode = Literal["udh8", "udh16", "sar", "payload"]
_HEADER_OCTETS: Final[dict[str, int]] = {"udh8": 6, "udh16": 7, "sar": 0, "payload": 0}


def split_for_submit(text: str, mode: SplitMode = "udh8", ref: int = 0) -> list[SubmitPart]:
    """The submit_sm parts of ``text``, cut as :func:`smscope.text.split` cuts.

    ``data_coding`` is 0 (GSM 03.38) when every character is in the GSM tables, else 8
    (UTF-16-BE). A text that fits one SMS (160 GSM septets / 70 UTF-16 units) is one part
    with no header in every mode but "payload". Otherwise, per ``mode``:

    * ``"udh8"``: a 6-octet header with 8-bit reference ``ref`` (0..255) in each
      short_message and the UDHI bit in esm_class (153 septets / 67 units per part);
    * ``"udh16"``: a 7-octet header with 16-bit reference ``ref`` (152 / 66 per part);
    * ``"sar"``: no header; sar_msg_ref_num, sar_total_segments and sar_segment_seqnum
      TLVs (160 / 70 per part);
    * ``"payload"``: always one part, an empty short_message and the whole text in the
      message_payload TLV.

    The number of parts equals ``measure(text, header_octets).segments`` with the header
    size of the mode (6, 7, 0); the empty text has no parts. PDUError for a bad mode or
    reference, or more than 255 parts.
    """
    header_octets = _HEADER_OCTETS.get(mode)
    if header_octets is None:
        raise PDUError(f"split mode {mode!r} is not one of udh8, udh16, sar, payload")
    limit = 0xFF if mode == "udh8" else 0xFFFF
    if not 0 <= ref <= limit:
        raise PDUError(f"reference {ref} is not between 0 and {limit} for mode {mode!r}")
    if not text:
        return []
    data_coding = DataCoding.SMSC_DEFAULT if is_gsm7(text) else DataCoding.UCS2
    coding = int(data_coding)
    if mode == "payload":
        return [SubmitPart(b"", 0, coding, {Tag.MESSAGE_PAYLOAD: encode_text(text, coding)})]
    parts = split(text, header_octets)
    total = len(parts)
    if total == 1:
        return [SubmitPart(encode_text(parts[0], coding), 0, coding, {})]
    if total > 255:
        raise PDUError(f"the text needs {total} parts, at most 255 can be concatenated")
    if mode == "sar":
        return [
            SubmitPart(
                encode_text(part, coding),
                0,
                coding,
                {
                    Tag.SAR_MSG_REF_NUM: ref,
                    Tag.SAR_TOTAL_SEGMENTS: total,
                    Tag.SAR_SEGMENT_SEQNUM: seqnum,
                },
            )
            for seqnum, part in enumerate(parts, 1)
        ]
    ref16 = mode == "udh16"
    return [
        SubmitPart(
            build_concat_udh(ref, total, seqnum, ref16=ref16) + encode_text(part, coding),
            EsmClass.UDHI,
            coding,
            {},
        )
        for seqnum, part in enumerate(parts, 1)
    ]
