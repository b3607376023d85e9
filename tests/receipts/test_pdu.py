"""Receipts read from real PDUs: the text, the TLVs, message_payload, and nothing else."""

from __future__ import annotations

import pytest

from smscope.errors import ReceiptFormatError
from smscope.receipts import Receipt
from smscope.receipts.mapping import StatusMapping
from smscope.receipts.pdu import is_receipt, receipt_from_pdu
from smscope.smpp import DeliverSM, decode, encode
from smscope.smpp.tlv import NetworkErrorCode, Tag
from smscope.statuses import Status

TEXT = (b"id:1A2B3C sub:001 dlvrd:000 submit date:2611241200 done date:2611241201 "
        b"stat:UNDELIV err:001 text:Hello")


def over_the_wire(pdu: DeliverSM) -> DeliverSM:
    decoded = decode(encode(pdu))
    assert isinstance(decoded, DeliverSM)
    return decoded


def test_text_only_receipt() -> None:
    pdu = over_the_wire(DeliverSM(sequence_number=7, esm_class=0x04, short_message=TEXT))
    assert is_receipt(pdu)
    receipt = Receipt.from_pdu(pdu)
    assert (receipt.id, receipt.stat, receipt.err, receipt.text) == (
        "1A2B3C", "UNDELIV", "001", "Hello")
    assert receipt.network_error is None


def test_tlvs_win_over_the_text() -> None:
    pdu = over_the_wire(DeliverSM(
        sequence_number=8, esm_class=0x04, short_message=TEXT,
        tlvs={Tag.RECEIPTED_MESSAGE_ID: "1715004", Tag.MESSAGE_STATE: 2,
              Tag.NETWORK_ERROR_CODE: NetworkErrorCode(3, 27)}))
    receipt = receipt_from_pdu(pdu)
    assert (receipt.id, receipt.stat) == ("1715004", "DELIVRD")
    assert receipt.network_error == (3, 27)
    assert receipt.submit_date == "2611241200"  # what only the text says is kept


def test_tlv_only_receipt_with_an_empty_text() -> None:
    pdu = over_the_wire(DeliverSM(
        sequence_number=9, esm_class=0x04,
        tlvs={Tag.RECEIPTED_MESSAGE_ID: "abc-123", Tag.MESSAGE_STATE: 5,
              Tag.NETWORK_ERROR_CODE: NetworkErrorCode(3, 1)}))
    receipt = receipt_from_pdu(pdu)
    assert (receipt.id, receipt.stat, receipt.network_error) == ("abc-123", "UNDELIV", (3, 1))
    mapping = StatusMapping.from_overrides({})
    assert mapping.map(receipt.stat, receipt.err, receipt.network_error) \
        is Status.PERMANENT_ERROR_ABSENCE


def test_receipt_in_message_payload() -> None:
    pdu = over_the_wire(DeliverSM(sequence_number=10, esm_class=0x04,
                                  tlvs={Tag.MESSAGE_PAYLOAD: TEXT.replace(b"UNDELIV",
                                                                          b"DELIVRD")}))
    assert receipt_from_pdu(pdu).stat == "DELIVRD"


def test_receipt_with_esm_class_zero_is_known_by_its_tlv() -> None:
    pdu = DeliverSM(sequence_number=11, esm_class=0,
                    tlvs={Tag.RECEIPTED_MESSAGE_ID: "42", Tag.MESSAGE_STATE: 2})
    assert is_receipt(pdu)


@pytest.mark.parametrize("message", [b"STOP", b"", b"id: stat:DELIVRD", b"\xff\xfe garbage"])
def test_an_mo_message_is_not_a_receipt(message: bytes) -> None:
    pdu = DeliverSM(sequence_number=12, esm_class=0, short_message=message)
    assert not is_receipt(pdu)
    with pytest.raises(ReceiptFormatError, match="no receipt in this PDU"):
        receipt_from_pdu(pdu)


def test_ucs2_receipt_text_is_decoded() -> None:
    text = TEXT.decode().replace("Hello", "Merci 😀")
    pdu = over_the_wire(DeliverSM(sequence_number=13, esm_class=0x04, data_coding=8,
                                  short_message=text.encode("utf-16-be")))
    assert receipt_from_pdu(pdu).text == "Merci 😀"
