"""Receipts carried by SMPP PDUs: the Appendix B text and the TLVs, together.

SMSCs put a receipt's facts in the text (``id:… stat:…``), in the TLVs
(``receipted_message_id``, ``message_state``, ``network_error_code``), in
``message_payload`` instead of ``short_message``, or in several of these. Where the
text and a TLV both say something, the TLV wins: it is typed and not free text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from smscope.errors import ReceiptFormatError
from smscope.inputs import without_nul
from smscope.receipts.parser import Receipt, parse_receipt
from smscope.smpp.pdu import decode_text
from smscope.smpp.tlv import NetworkErrorCode, Tag

#: message_state TLV values (SMPP 3.4 §5.2.28) as the stat words receipts use
STAT_OF_STATE = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

#: esm_class message types (bits 2-5) that announce a delivery report
_RECEIPT_TYPES = (0x04, 0x20)  # SMSC delivery receipt, intermediate notification


def is_receipt(pdu: Any) -> bool:
    """Does this deliver_sm/data_sm carry a delivery report rather than an MO message?

    By its esm_class, or, for SMSCs that leave esm_class at 0, by a
    ``receipted_message_id`` TLV.
    """
    return (pdu.esm_class & 0x3C) in _RECEIPT_TYPES or Tag.RECEIPTED_MESSAGE_ID in pdu.tlvs


def receipt_text(pdu: Any) -> str:
    """The text of the PDU: ``short_message``, or ``message_payload`` when that is empty."""
    # data_sm has no short_message: its text is always in message_payload
    raw = getattr(pdu, "short_message", b"") or pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    if not isinstance(raw, bytes | bytearray):
        return ""
    # a NUL (UCS-2 or Latin-1 text) means nothing in a receipt, and PostgreSQL cannot
    # store one: dropped, so the receipt is stored the same on every backend
    return without_nul(decode_text(raw, pdu.data_coding)) if raw else ""


def receipt_from_pdu(pdu: Any, *, text: str | None = None) -> Receipt:
    """Read the receipt of a PDU; raises :class:`ReceiptFormatError` when there is none.
    ``text``: its :func:`receipt_text`, when the caller has it already."""
    if text is None:
        text = receipt_text(pdu)
    try:
        parsed: Receipt | None = parse_receipt(text)
    except ReceiptFormatError as exc:
        parsed, why = None, str(exc)
    tlv_id = pdu.tlvs.get(Tag.RECEIPTED_MESSAGE_ID)
    state = pdu.tlvs.get(Tag.MESSAGE_STATE)
    network = pdu.tlvs.get(Tag.NETWORK_ERROR_CODE)
    network_error = (network.network_type, network.error_code) if isinstance(
        network, NetworkErrorCode) else None
    tlv_id = tlv_id.strip() if isinstance(tlv_id, str) and tlv_id.strip() else None
    tlv_stat = STAT_OF_STATE.get(state, str(state)) if isinstance(state, int) else None
    if parsed is None:
        if tlv_id is None or tlv_stat is None:
            raise ReceiptFormatError(
                f"no receipt in this PDU: {why}; and no receipted_message_id with "
                "message_state TLVs either"
            )
        return Receipt(id=tlv_id, stat=tlv_stat, text=text or None,
                       network_error=network_error)
    if ((tlv_id is None or tlv_id == parsed.id) and (tlv_stat is None or tlv_stat == parsed.stat)
            and network_error is None):
        return parsed  # text and TLVs agree (the usual case): no copy to make
    return replace(parsed, id=tlv_id or parsed.id, stat=tlv_stat or parsed.stat,
                   network_error=network_error or parsed.network_error)
