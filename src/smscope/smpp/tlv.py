"""SMPP 3.4 optional parameters (TLVs): their tags and how their values are typed.

A decoded PDU keeps its TLVs in ``pdu.tlvs``, a dict from tag to value, in the order
they arrived. Tags listed in :data:`TLV_KINDS` get a typed value (``int`` for the integer
ones, ``str`` for C-octet strings, :class:`NetworkErrorCode` for network_error_code,
``bytes`` for octet strings); any other tag keeps its raw ``bytes`` and is re-encoded
unchanged. Sizes are from the SMPP v3.4 specification, section 5.3.2.
"""

from __future__ import annotations

from enum import IntEnum
from types import MappingProxyType
from typing import Final, NamedTuple

__all__ = [
    "TLV_KINDS",
    "NetworkErrorCode",
    "TLVKind",
    "TLVValue",
    "Tag",
]


class Tag(IntEnum):
    """TLV tags of SMPP 3.4 (§5.3.2)."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class NetworkErrorCode(NamedTuple):
    """Value of the network_error_code TLV: network type (1 = ANSI-136, 2 = IS-95,
    3 = GSM, 4 = ANSI-41) and that network's error code."""

    network_type: int
    error_code: int


#: the type a TLV value has in ``pdu.tlvs``
TLVValue = int | str | bytes | NetworkErrorCode


class TLVKind(IntEnum):
    """How a known TLV's value is encoded."""

    U8 = 1  # unsigned integer, 1 octet
    U16 = 2  # unsigned integer, 2 octets, big-endian
    U32 = 4  # unsigned integer, 4 octets, big-endian
    CSTR = 5  # C-octet string (NUL-terminated); the limit below counts the NUL
    OCTETS = 6  # octet string, kept as bytes
    NETWORK_ERROR = 7  # 1 octet network type + 2 octets error code


#: tag -> (kind, maximum encoded length for CSTR); tags not listed are kept as raw bytes
TLV_KINDS: Final = MappingProxyType(
    {
        Tag.DEST_ADDR_SUBUNIT: (TLVKind.U8, 0),
        Tag.DEST_NETWORK_TYPE: (TLVKind.U8, 0),
        Tag.DEST_BEARER_TYPE: (TLVKind.U8, 0),
        Tag.DEST_TELEMATICS_ID: (TLVKind.OCTETS, 0),
        Tag.SOURCE_ADDR_SUBUNIT: (TLVKind.U8, 0),
        Tag.SOURCE_NETWORK_TYPE: (TLVKind.U8, 0),
        Tag.SOURCE_BEARER_TYPE: (TLVKind.U8, 0),
        Tag.SOURCE_TELEMATICS_ID: (TLVKind.OCTETS, 0),
        Tag.QOS_TIME_TO_LIVE: (TLVKind.U32, 0),
        Tag.PAYLOAD_TYPE: (TLVKind.U8, 0),
        Tag.ADDITIONAL_STATUS_INFO_TEXT: (TLVKind.CSTR, 256),
        Tag.RECEIPTED_MESSAGE_ID: (TLVKind.CSTR, 65),
        Tag.MS_MSG_WAIT_FACILITIES: (TLVKind.U8, 0),
        Tag.PRIVACY_INDICATOR: (TLVKind.U8, 0),
        Tag.SOURCE_SUBADDRESS: (TLVKind.OCTETS, 0),
        Tag.DEST_SUBADDRESS: (TLVKind.OCTETS, 0),
        Tag.USER_MESSAGE_REFERENCE: (TLVKind.U16, 0),
        Tag.USER_RESPONSE_CODE: (TLVKind.U8, 0),
        Tag.SOURCE_PORT: (TLVKind.U16, 0),
        Tag.DESTINATION_PORT: (TLVKind.U16, 0),
        Tag.SAR_MSG_REF_NUM: (TLVKind.U16, 0),
        Tag.LANGUAGE_INDICATOR: (TLVKind.U8, 0),
        Tag.SAR_TOTAL_SEGMENTS: (TLVKind.U8, 0),
        Tag.SAR_SEGMENT_SEQNUM: (TLVKind.U8, 0),
        Tag.SC_INTERFACE_VERSION: (TLVKind.U8, 0),
        Tag.CALLBACK_NUM_PRES_IND: (TLVKind.U8, 0),
        Tag.CALLBACK_NUM_ATAG: (TLVKind.OCTETS, 0),
        Tag.NUMBER_OF_MESSAGES: (TLVKind.U8, 0),
        Tag.CALLBACK_NUM: (TLVKind.OCTETS, 0),
        Tag.DPF_RESULT: (TLVKind.U8, 0),
        Tag.SET_DPF: (TLVKind.U8, 0),
        Tag.MS_AVAILABILITY_STATUS: (TLVKind.U8, 0),
        Tag.NETWORK_ERROR_CODE: (TLVKind.NETWORK_ERROR, 0),
        Tag.MESSAGE_PAYLOAD: (TLVKind.OCTETS, 0),
        Tag.DELIVERY_FAILURE_REASON: (TLVKind.U8, 0),
        Tag.MORE_MESSAGES_TO_SEND: (TLVKind.U8, 0),
        Tag.MESSAGE_STATE: (TLVKind.U8, 0),
        Tag.USSD_SERVICE_OP: (TLVKind.U8, 0),
        Tag.DISPLAY_TIME: (TLVKind.U8, 0),
        Tag.SMS_SIGNAL: (TLVKind.U16, 0),
        Tag.MS_VALIDITY: (TLVKind.U8, 0),
        Tag.ALERT_ON_MESSAGE_DELIVERY: (TLVKind.OCTETS, 0),
        Tag.ITS_REPLY_TYPE: (TLVKind.U8, 0),
        Tag.ITS_SESSION_INFO: (TLVKind.OCTETS, 0),
    }
)
