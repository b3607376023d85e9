"""SMPP 3.4 numbers: command ids, command status codes, and the flags the codec uses.

Values are from the SMPP v3.4 specification (issue 1.2), section 5. The enums are
:class:`~enum.IntEnum`, so they compare and hash like the plain integers found on the wire
(a decoded PDU carries plain ``int`` values, which is cheaper to build).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

__all__ = [
    "HEADER_LENGTH",
    "MAX_PDU_LENGTH",
    "CommandId",
    "CommandStatus",
    "DataCoding",
    "EsmClass",
    "MessageState",
    "status_name",
]

#: octets of the PDU header: command_length, command_id, command_status, sequence_number
HEADER_LENGTH: Final = 16
#: largest command_length accepted or produced (a submit_sm with a full message_payload
#: fits; anything larger on a link is a lying length, not a message)
MAX_PDU_LENGTH: Final = 64 * 1024

#: bit set in the command_id of every response
RESPONSE_BIT: Final = 0x80000000


class CommandId(IntEnum):
    """The command ids this codec encodes and decodes (SMPP 3.4 §5.1.2.1)."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103


class CommandStatus(IntEnum):
    """Error codes of the command_status field (SMPP 3.4 §5.1.3), named as in the spec."""

    ESME_ROK = 0x00000000  # no error
    ESME_RINVMSGLEN = 0x00000001  # message length is invalid
    ESME_RINVCMDLEN = 0x00000002  # command length is invalid
    ESME_RINVCMDID = 0x00000003  # invalid command id
    ESME_RINVBNDSTS = 0x00000004  # incorrect bind status for given command
    ESME_RALYBND = 0x00000005  # ESME already in bound state
    ESME_RINVPRTFLG = 0x00000006  # invalid priority flag
    ESME_RINVREGDLVFLG = 0x00000007  # invalid registered delivery flag
    ESME_RSYSERR = 0x00000008  # system error
    ESME_RINVSRCADR = 0x0000000A  # invalid source address
    ESME_RINVDSTADR = 0x0000000B  # invalid destination address
    ESME_RINVMSGID = 0x0000000C  # message id is invalid
    ESME_RBINDFAIL = 0x0000000D  # bind failed
    ESME_RINVPASWD = 0x0000000E  # invalid password
    ESME_RINVSYSID = 0x0000000F  # invalid system id
    ESME_RCANCELFAIL = 0x00000011  # cancel_sm failed
    ESME_RREPLACEFAIL = 0x00000013  # replace_sm failed
    ESME_RMSGQFUL = 0x00000014  # message queue full
    ESME_RINVSERTYP = 0x00000015  # invalid service type
    ESME_RINVNUMDESTS = 0x00000033  # invalid number of destinations
    ESME_RINVDLNAME = 0x00000034  # invalid distribution list name
    ESME_RINVDESTFLAG = 0x00000040  # destination flag is invalid (submit_multi)
    ESME_RINVSUBREP = 0x00000042  # invalid submit with replace request
    ESME_RINVESMCLASS = 0x00000043  # invalid esm_class field data
    ESME_RCNTSUBDL = 0x00000044  # cannot submit to distribution list
    ESME_RSUBMITFAIL = 0x00000045  # submit_sm or submit_multi failed
    ESME_RINVSRCTON = 0x00000048  # invalid source address TON
    ESME_RINVSRCNPI = 0x00000049  # invalid source address NPI
    ESME_RINVDSTTON = 0x00000050  # invalid destination address TON
    ESME_RINVDSTNPI = 0x00000051  # invalid destination address NPI
    ESME_RINVSYSTYP = 0x00000053  # invalid system_type field
    ESME_RINVREPFLAG = 0x00000054  # invalid replace_if_present flag
    ESME_RINVNUMMSGS = 0x00000055  # invalid number of messages
    ESME_RTHROTTLED = 0x00000058  # throttling error (ESME has exceeded allowed rates)
    ESME_RINVSCHED = 0x00000061  # invalid scheduled delivery time
    ESME_RINVEXPIRY = 0x00000062  # invalid message validity period (expiry time)
    ESME_RINVDFTMSGID = 0x00000063  # predefined message invalid or not found
    ESME_RX_T_APPN = 0x00000064  # ESME receiver temporary app error code
    ESME_RX_P_APPN = 0x00000065  # ESME receiver permanent app error code
    ESME_RX_R_APPN = 0x00000066  # ESME receiver reject message error code
    ESME_RQUERYFAIL = 0x00000067  # query_sm request failed
    ESME_RINVOPTPARSTREAM = 0x000000C0  # error in the optional part of the PDU body
    ESME_ROPTPARNOTALLWD = 0x000000C1  # optional parameter not allowed
    ESME_RINVPARLEN = 0x000000C2  # invalid parameter length
    ESME_RMISSINGOPTPARAM = 0x000000C3  # expected optional parameter missing
    ESME_RINVOPTPARAMVAL = 0x000000C4  # invalid optional parameter value
    ESME_RDELIVERYFAILURE = 0x000000FE  # delivery failure (data_sm_resp)
    ESME_RUNKNOWNERR = 0x000000FF  # unknown error


def status_name(status: int) -> str:
    """``"ESME_RTHROTTLED"`` for 0x58; codes the spec does not name (vendor-specific
    0x400..0x4FF, reserved ones) as ``"0x00000401"``, so logs always show something."""
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


class MessageState(IntEnum):
    """Values of the message_state TLV and of query_sm_resp (SMPP 3.4 §5.2.28)."""

    ENROUTE = 1
    DELIVERED = 2
    EXPIRED = 3
    DELETED = 4
    UNDELIVERABLE = 5
    ACCEPTED = 6
    UNKNOWN = 7
    REJECTED = 8


class DataCoding(IntEnum):
    """The data_coding values this codec turns into text (SMPP 3.4 §5.2.19)."""

    SMSC_DEFAULT = 0x00  # taken to be GSM 03.38, one septet per octet (unpacked)
    IA5 = 0x01  # IA5 (CCITT T.50) / ASCII
    OCTET_UNSPECIFIED = 0x02  # 8-bit binary
    LATIN1 = 0x03  # ISO-8859-1
    BINARY = 0x04  # 8-bit binary
    UCS2 = 0x08  # ISO/IEC-10646 UCS-2, sent here as UTF-16-BE (surrogate pairs allowed)


class EsmClass:
    """Bits of the esm_class field (SMPP 3.4 §5.2.12) the codec and sessions need."""

    #: message type bits 2..5 on a deliver_sm: this is a delivery receipt
    DELIVERY_RECEIPT: Final = 0x04
    #: mask of the message type bits
    TYPE_MASK: Final = 0x3C
    #: the short_message (or message_payload) starts with a user data header
    UDHI: Final = 0x40
    #: reply path
    REPLY_PATH: Final = 0x80
