"""The deliver_sm PDUs the simulator sends: delivery receipts and MO replies.

A :class:`Delivery` is one PDU the simulator owes a client: built when the submit_sm is
accepted, sent when due, and kept until a deliver_sm_resp with status 0 answers it.
Re-sending builds the same PDU again (same receipt id, same stat, same dates), only
its sequence number differs.

Receipt text follows SMPP 3.4 Appendix B::

    id:0a1b2c3d sub:001 dlvrd:001 submit date:2611241530 done date:2611241530
    stat:DELIVRD err:000 text:Bonjour Marie, vos

with the variations a profile's ``[receipt]`` section asks for.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from typing import Final, Literal

from smscope.simulator.profile import ReceiptFormat
from smscope.smpp.constants import EsmClass
from smscope.smpp.pdu import DeliverSM, encode_text
from smscope.smpp.tlv import NetworkErrorCode, Tag
from smscope.text import is_gsm7

__all__ = ["Delivery", "handset_address", "quote_of", "receipt_id", "receipt_text"]

#: message_state TLV value of each stat (SMPP 3.4 §5.2.28)
STATE_OF_STAT: Final = {
    "ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5,
    "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8,
}
#: characters of the original message quoted in a receipt's text field
TEXT_QUOTE: Final = 20
_GSM_TON_INTERNATIONAL, _NPI_ISDN = 1, 1
_GSM_NETWORK = 3


def receipt_id(message_id: str, submit_ids: str, style: str) -> str:
    """The id written in a receipt for the submit_sm_resp id ``message_id``."""
    if style == "dec" and submit_ids == "hex":
        return str(int(message_id, 16))
    if style == "hex" and submit_ids == "dec":
        return f"{int(message_id):x}"
    return message_id


_QUOTE_SAFE: Final = re.compile(r"[^A-Za-z0-9 .,;:!?'()/+=%&*#-]")


def quote_of(text: str) -> str:
    """The first characters of a message as a receipt quotes them: receipts are ASCII
    in the characters GSM 03.38 and ASCII share (as SMSCs write them), so other
    characters become ``.``."""
    return _QUOTE_SAFE.sub(".", text[:TEXT_QUOTE])


@functools.lru_cache(maxsize=4096)
def _stamp(second: int, digits: int) -> str:
    # cached: receipts sent in the same second share their dates
    return time.strftime("%y%m%d%H%M%S" if digits == 12 else "%y%m%d%H%M", time.gmtime(second))


def _date(moment: float | dt.datetime, digits: int) -> str:
    """YYMMDDhhmm[ss] in UTC of a POSIX time or an aware datetime."""
    if isinstance(moment, dt.datetime):
        moment = moment.timestamp()
    return _stamp(int(moment), digits)


def receipt_text(rid: str, stat: str, err: str, submitted: float | dt.datetime,
                 done: float | dt.datetime, quote: str, fmt: ReceiptFormat) -> str:
    """The Appendix B text of a receipt; times as POSIX times or aware datetimes."""
    delivered = "001" if stat == "DELIVRD" else "000"
    text = (
        f"id:{rid} sub:001 dlvrd:{delivered} submit date:{_date(submitted, fmt.date_digits)}"
        f" done date:{_date(done, fmt.date_digits)} stat:{stat} err:{err}"
    )
    if fmt.text_key:
        text += f" {fmt.text_key}:{quote}"
    return text


class Delivery:
    """One deliver_sm owed to a client: a receipt (``kind="receipt"``) or an MO reply."""

    __slots__ = (
        "account", "acked", "done", "due", "err", "final", "fmt", "gsm_error", "handset",
        "kind", "quote", "rid", "sender", "sends", "stat", "submitted", "text", "twice",
    )

    def __init__(
        self,
        kind: Literal["receipt", "mo"],
        account: str,
        due: float,
        *,
        handset: tuple[int, int, str],
        sender: tuple[int, int, str],
        rid: str = "",
        stat: str = "",
        err: str = "000",
        gsm_error: int | None = None,
        final: bool = False,
        submitted: float | None = None,
        done: float | None = None,
        quote: str = "",
        text: str = "",
        fmt: ReceiptFormat | None = None,
    ) -> None:
        self.kind = kind
        self.account = account
        #: loop time when it may be sent (next)
        self.due = due
        #: (ton, npi, address) of the phone: the receipt's or MO's source
        self.handset = handset
        #: (ton, npi, address) the original message came from: the destination
        self.sender = sender
        self.rid = rid
        self.stat = stat
        self.err = err
        self.gsm_error = gsm_error
        #: a final receipt (not ACCEPTD/ENROUTE)
        self.final = final
        #: POSIX times written in the receipt
        self.submitted = submitted
        self.done = done
        self.quote = quote
        #: the MO's text
        self.text = text
        self.fmt = fmt
        #: times sent so far
        self.sends = 0
        self.acked = False
        #: sent twice the first time (a duplicate, as some SMSCs do)
        self.twice = False

    def __repr__(self) -> str:
        what = f"{self.rid} {self.stat}" if self.kind == "receipt" else repr(self.text)
        return f"<Delivery {self.kind} {what} sends={self.sends}>"

    def pdu(self) -> DeliverSM:
        """The deliver_sm to send (its sequence number is set by the session)."""
        h_ton, h_npi, h_addr = self.handset
        s_ton, s_npi, s_addr = self.sender
        if self.kind == "mo":
            coding = 0 if is_gsm7(self.text) else 8
            return DeliverSM(
                source_addr_ton=h_ton, source_addr_npi=h_npi, source_addr=h_addr,
                dest_addr_ton=s_ton, dest_addr_npi=s_npi, destination_addr=s_addr,
                data_coding=coding, short_message=encode_text(self.text, coding),
            )
        fmt = self.fmt or ReceiptFormat()
        assert self.submitted is not None and self.done is not None
        text = receipt_text(self.rid, self.stat, self.err, self.submitted, self.done,
                            self.quote, fmt)
        tlvs: dict[int, object] = {}
        if fmt.tlvs:
            tlvs[Tag.RECEIPTED_MESSAGE_ID] = self.rid
            tlvs[Tag.MESSAGE_STATE] = STATE_OF_STAT[self.stat]
            if self.gsm_error is not None:
                tlvs[Tag.NETWORK_ERROR_CODE] = NetworkErrorCode(_GSM_NETWORK, self.gsm_error)
        return DeliverSM(
            source_addr_ton=h_ton, source_addr_npi=h_npi, source_addr=h_addr,
            dest_addr_ton=s_ton, dest_addr_npi=s_npi, destination_addr=s_addr,
            esm_class=EsmClass.DELIVERY_RECEIPT, data_coding=0,
            short_message=text.encode("ascii")[:254], tlvs=tlvs,  # type: ignore[arg-type]
        )


def handset_address(number: str, ton: int, npi: int) -> tuple[int, int, str]:
    """The (ton, npi, address) a reply from ``number`` comes from: as it was sent."""
    return (ton or _GSM_TON_INTERNATIONAL, npi or _NPI_ISDN, number)
