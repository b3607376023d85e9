"""Receipts and replies as the simulator writes them, read back by smscope's own parser."""

from __future__ import annotations

import datetime as dt

import pytest

from smscope.receipts import ids_match, parse_receipt
from smscope.receipts.pdu import is_receipt, receipt_from_pdu
from smscope.simulator.deliveries import Delivery, quote_of, receipt_id, receipt_text
from smscope.simulator.profile import ReceiptFormat
from smscope.smpp import NetworkErrorCode, Tag, decode, decode_text, encode

SUBMITTED = dt.datetime(2026, 11, 24, 15, 30, 12, tzinfo=dt.UTC)
DONE = SUBMITTED + dt.timedelta(seconds=75)


def receipt(fmt: ReceiptFormat, stat: str = "UNDELIV", err: str = "027",
            gsm: int | None = 27) -> Delivery:
    return Delivery("receipt", "smscope", 0.0, handset=(1, 1, "33612345678"),
                    sender=(5, 0, "SHOP"), rid="661059fcc6277", stat=stat, err=err,
                    gsm_error=gsm, final=True, submitted=SUBMITTED.timestamp(),
                    done=DONE.timestamp(),
                    quote="Bonjour Marie", fmt=fmt)


def test_appendix_b_text_parses_back_field_by_field() -> None:
    text = receipt_text("0a1b", "DELIVRD", "000", SUBMITTED, DONE, "Hi there", ReceiptFormat())
    assert text == ("id:0a1b sub:001 dlvrd:001 submit date:2611241530 done date:2611241531 "
                    "stat:DELIVRD err:000 text:Hi there")
    parsed = parse_receipt(text)
    assert (parsed.id, parsed.stat, parsed.err, parsed.dlvrd) == ("0a1b", "DELIVRD", "000", "001")
    assert (parsed.submit_date, parsed.done_date, parsed.text) == (
        "2611241530", "2611241531", "Hi there")


@pytest.mark.parametrize(
    ("fmt", "dates", "text_field"),
    [
        (ReceiptFormat(date_digits=12), ("261124153012", "261124153127"), "text"),
        (ReceiptFormat(text_key="Text"), ("2611241530", "2611241531"), "Text"),
        (ReceiptFormat(text_key=""), ("2611241530", "2611241531"), None),
    ],
)
def test_receipt_format_variations(fmt: ReceiptFormat, dates: tuple[str, str],
                                   text_field: str | None) -> None:
    pdu = receipt(fmt).pdu()
    raw = decode_text(pdu.short_message, pdu.data_coding)
    parsed = parse_receipt(raw)
    assert (parsed.submit_date, parsed.done_date) == dates
    if text_field is None:
        assert parsed.text is None and "text" not in raw.lower()
    else:
        assert f" {text_field}:Bonjour Marie" in raw and parsed.text == "Bonjour Marie"


def test_receipt_pdu_carries_tlvs_and_round_trips_the_codec() -> None:
    pdu = decode(encode(receipt(ReceiptFormat()).pdu()))
    assert is_receipt(pdu)
    assert pdu.esm_class == 0x04
    assert (pdu.source_addr, pdu.destination_addr) == ("33612345678", "SHOP")
    assert pdu.tlvs[Tag.RECEIPTED_MESSAGE_ID] == "661059fcc6277"
    assert pdu.tlvs[Tag.MESSAGE_STATE] == 5
    assert pdu.tlvs[Tag.NETWORK_ERROR_CODE] == NetworkErrorCode(3, 27)
    read = receipt_from_pdu(pdu)
    assert (read.id, read.stat, read.err, read.network_error) == (
        "661059fcc6277", "UNDELIV", "027", (3, 27))


def test_receipt_without_tlvs_is_text_only() -> None:
    pdu = receipt(ReceiptFormat(tlvs=False)).pdu()
    assert pdu.tlvs == {}
    assert receipt_from_pdu(pdu).id == "661059fcc6277"


def test_delivered_receipt_has_no_network_error() -> None:
    pdu = receipt(ReceiptFormat(), stat="DELIVRD", err="000", gsm=None).pdu()
    assert Tag.NETWORK_ERROR_CODE not in pdu.tlvs
    assert pdu.tlvs[Tag.MESSAGE_STATE] == 2


def test_receipt_ids_in_the_other_base_still_match_the_submit_id() -> None:
    assert receipt_id("661059fcc6277", "hex", "dec") == str(0x661059FCC6277)
    assert receipt_id("123456789", "dec", "hex") == "75bcd15"
    assert receipt_id("abc", "hex", "same") == "abc"
    assert receipt_id("abc", "hex", "hex") == "abc"
    assert ids_match("661059fcc6277", receipt_id("661059fcc6277", "hex", "dec"))
    assert ids_match("123456789", receipt_id("123456789", "dec", "hex"))


def test_quote_keeps_twenty_ascii_characters() -> None:
    assert quote_of("Hello Zoë, -20% today only at our shop!") == "Hello Zo., -20% toda"
    assert quote_of("日本") == ".."
    assert len(quote_of("x" * 400)) == 20


def test_mo_reply_comes_from_the_handset_to_the_sender() -> None:
    stop = Delivery("mo", "smscope", 0.0, handset=(1, 1, "33612345678"),
                    sender=(5, 0, "SHOP"), text="STOP").pdu()
    assert not is_receipt(stop)
    assert (stop.source_addr, stop.destination_addr, stop.dest_addr_ton) == (
        "33612345678", "SHOP", 5)
    assert (stop.data_coding, stop.short_message) == (0, b"STOP")
    accents = Delivery("mo", "smscope", 0.0, handset=(1, 1, "33612345678"),
                       sender=(1, 1, "33700000000"), text="Arrêt 🙏").pdu()
    assert accents.data_coding == 8
    assert decode_text(accents.short_message, 8) == "Arrêt 🙏"
