"""Our ESME (:class:`smscope.smpp.client.SMPPClient`) against an SMSC we did not write.

server.js is an SMSC on the npm ``smpp`` package: it answers each submit_sm with a hex
message id, sends its delivery receipt at once (Appendix B text plus the
receipted_message_id and message_state TLVs) and, for a submit to its MO number, an MO
"STOP". Its counts on exit say which deliver_sm it got a deliver_sm_resp for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from smscope.receipts import Receipt, parse_receipt
from smscope.receipts.pdu import receipt_text
from smscope.smpp import CommandStatus, DeliverSM, Tag
from smscope.smpp.client import BindError, SMPPClient, SubmitResult
from tests.interop.conftest import MO_TRIGGER, PASSWORD, SYSTEM_ID, NpmSMSC, stop_npm_smsc

SENDER = "+33700000000"
LONG_GSM = "Long GSM text @ 10€ {ok}: the quick brown fox jumps over the lazy dog. " * 5
UCS2 = "Καλημέρα κόσμε 👋"
LONG_UCS2 = "Γειά σου κόσμε, αυτό είναι ένα μεγάλο μήνυμα 📨 " * 3


def run(body: Callable[[], Awaitable[None]], timeout: float = 15.0) -> None:
    async def main() -> None:
        await asyncio.wait_for(body(), timeout)

    asyncio.run(main())


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def client_for(smsc: NpmSMSC, **kwargs: Any) -> SMPPClient:
    return SMPPClient("127.0.0.1", smsc.port, SYSTEM_ID, PASSWORD, response_timeout=5.0,
                      **kwargs)


def reassembled(samples: list[list[Any]]) -> list[tuple[int, str]]:
    """(data_coding, text) of each message in the SMSC's samples of the submits it
    decoded, the parts of a long one put back together by their reference and number."""
    messages: list[tuple[int, str]] = []
    groups: dict[tuple[int, int, int], dict[int, str]] = {}
    order: list[tuple[int, int, int]] = []
    for data_coding, text, concat in samples:
        if concat is None:
            messages.append((data_coding, text))
            order.append((-1, len(messages) - 1, 0))
            continue
        ref, total, seq = concat
        key = (data_coding, ref, total)
        if key not in groups:
            groups[key] = {}
            order.append(key)
        groups[key][seq] = text
    result: list[tuple[int, str]] = []
    for key in order:
        if key[0] == -1:
            result.append(messages[key[1]])
        else:
            parts = groups[key]
            assert sorted(parts) == list(range(1, key[2] + 1)), parts
            result.append((key[0], "".join(parts[n] for n in sorted(parts))))
    return result


def part_ids(results: list[SubmitResult]) -> list[str]:
    ids: list[str] = []
    for result in results:
        assert result.ok, result.error
        ids.extend(i for i in result.message_ids if i is not None)
    return ids


def test_submit_receipts_and_mo(npm_smsc: NpmSMSC) -> None:
    """Plain, long GSM (3 parts), UCS-2 and long UCS-2 submits get an id per part, each
    id gets its receipt through on_receipts, the MO "STOP" comes through on_mo, and the
    SMSC got a deliver_sm_resp 0 for every deliver_sm it sent."""
    receipts: list[DeliverSM] = []
    mos: list[DeliverSM] = []

    async def on_receipts(pdus: list[DeliverSM]) -> None:
        receipts.extend(pdus)

    async def on_mo(pdus: list[DeliverSM]) -> None:
        mos.extend(pdus)

    texts = {"plain": "hello from smscope", "long_gsm": LONG_GSM, "ucs2": UCS2,
             "long_ucs2": LONG_UCS2}
    results: dict[str, SubmitResult] = {}

    async def body() -> None:
        client = client_for(npm_smsc, on_receipts=on_receipts, on_mo=on_mo)
        await client.connect()
        try:
            for name, text in texts.items():
                results[name] = await client.submit(text, SENDER, "+33600000001")
            results["to_mo"] = await client.submit("subscribe", SENDER, "+" + MO_TRIGGER)
            total = sum(len(r.parts) for r in results.values())
            await wait_for(lambda: len(receipts) >= total and len(mos) >= 1,
                           "every receipt and the MO")
            await asyncio.sleep(0.1)  # nothing more should come
        finally:
            await client.close()

    run(body)

    assert [len(results[n].parts) for n in texts] == [1, 3, 1, 3]
    ids = part_ids(list(results.values()))
    assert len(ids) == 9 and len(set(ids)) == 9
    assert all(i and all(c in "0123456789abcdef" for c in i) for i in ids)

    # every part id has exactly one receipt, read both ways: text and TLVs, and text only
    assert len(receipts) == len(ids)
    by_id: dict[str, Receipt] = {}
    for pdu in receipts:
        assert pdu.esm_class & 0x3C == 0x04
        assert pdu.tlvs[Tag.RECEIPTED_MESSAGE_ID] in ids
        assert pdu.tlvs[Tag.MESSAGE_STATE] == 2
        receipt = Receipt.from_pdu(pdu)
        from_text = parse_receipt(receipt_text(pdu))
        assert from_text.id == receipt.id == pdu.tlvs[Tag.RECEIPTED_MESSAGE_ID]
        assert from_text.stat == receipt.stat == "DELIVRD"
        assert (from_text.sub, from_text.dlvrd, from_text.err) == ("001", "001", "000")
        assert from_text.submit_date is not None and len(from_text.submit_date) == 10
        assert from_text.done_date is not None and len(from_text.done_date) == 10
        by_id[receipt.id] = receipt
    assert sorted(by_id) == sorted(ids)
    # the receipt text echoes what the SMSC decoded from our short_message
    plain_id = results["plain"].message_ids[0]
    assert plain_id is not None
    assert by_id[plain_id].text == "hello from smscope"
    first_long = results["long_gsm"].message_ids
    assert {by_id[i].text for i in first_long if i} >= {LONG_GSM[:20]}

    # the receipt goes back to us, from the destination
    assert {(p.source_addr, p.destination_addr) for p in receipts} == {
        ("33600000001", "33700000000"), (MO_TRIGGER, "33700000000")}

    assert len(mos) == 1
    mo = mos[0]
    assert mo.esm_class == 0 and mo.short_message == b"STOP"
    assert (mo.source_addr, mo.destination_addr) == (MO_TRIGGER, "33700000000")

    counts = stop_npm_smsc(npm_smsc)
    assert counts["binds"] == 1
    assert counts["submits"] == 9
    # what the npm package decoded from our submit_sm: GSM 03.38 (with @, € and braces)
    # and UTF-16-BE (emoji included), the long ones put back together from their UDHs
    assert reassembled(counts["samples"]) == [
        (0, texts["plain"]), (0, LONG_GSM), (8, UCS2), (8, LONG_UCS2), (0, "subscribe")]
    assert counts["concat_parts"] == 6  # the two long texts, with an 8-bit UDH 05 00 03
    assert counts["ucs2_parts"] == 4
    assert counts["receipts_sent"] == counts["receipts_acked"] == 9
    assert counts["receipt_resp_errors"] == 0 and counts["unacked_receipt_ids"] == []
    assert counts["mo_sent"] == counts["mo_acked"] == 1


def test_split_modes_the_npm_smsc_reads(npm_smsc: NpmSMSC) -> None:
    """16-bit UDH, sar_* TLVs and message_payload: the SMSC takes each part and echoes
    the text it decoded in the receipt."""
    receipts: list[DeliverSM] = []

    async def on_receipts(pdus: list[DeliverSM]) -> None:
        receipts.extend(pdus)

    results: dict[str, SubmitResult] = {}

    async def body() -> None:
        async with client_for(npm_smsc, on_receipts=on_receipts) as client:
            for mode in ("udh16", "sar", "payload"):
                results[mode] = await client.submit(LONG_GSM, SENDER, "+33600000002",
                                                    mode=mode)
            total = sum(len(r.parts) for r in results.values())
            await wait_for(lambda: len(receipts) >= total, "every receipt")

    run(body)

    assert [len(results[m].parts) for m in ("udh16", "sar", "payload")] == [3, 3, 1]
    ids = part_ids(list(results.values()))
    texts = {Receipt.from_pdu(p).id: Receipt.from_pdu(p).text for p in receipts}
    assert sorted(texts) == sorted(ids)
    expected = LONG_GSM[:20]
    assert texts[results["sar"].message_ids[0] or ""] == expected
    assert texts[results["payload"].message_ids[0] or ""] == expected

    counts = stop_npm_smsc(npm_smsc)
    assert counts["submits"] == 7
    assert reassembled(counts["samples"]) == [(0, LONG_GSM)] * 3
    assert counts["sar_parts"] == 3 and counts["payload_parts"] == 1
    assert counts["receipts_sent"] == counts["receipts_acked"] == 7


def test_many_messages_within_a_window(npm_smsc: NpmSMSC) -> None:
    """500 submits at once through a window of 20: every id distinct, every receipt in."""
    seen: list[str] = []

    async def on_receipts(pdus: list[DeliverSM]) -> None:
        seen.extend(Receipt.from_pdu(p).id for p in pdus)

    async def body() -> None:
        async with client_for(npm_smsc, window=20, on_receipts=on_receipts) as client:
            results = await asyncio.gather(*(
                client.submit(f"message {i}", SENDER, f"+336{i + 1:08d}") for i in range(500)))
            ids = part_ids(list(results))
            assert len(set(ids)) == 500
            await wait_for(lambda: len(seen) >= 500, "500 receipts")
            assert sorted(seen) == sorted(ids)

    run(body)
    counts = stop_npm_smsc(npm_smsc)
    assert counts["submits"] == counts["receipts_sent"] == counts["receipts_acked"] == 500


def test_transmitter_plus_receiver(npm_smsc: NpmSMSC) -> None:
    """Two links: submits on the transmitter, receipts and the MO on the receiver."""
    receipts: list[DeliverSM] = []
    mos: list[DeliverSM] = []

    async def on_receipts(pdus: list[DeliverSM]) -> None:
        receipts.extend(pdus)

    async def on_mo(pdus: list[DeliverSM]) -> None:
        mos.extend(pdus)

    async def body() -> None:
        async with client_for(npm_smsc, bind="transmitter+receiver", on_receipts=on_receipts,
                              on_mo=on_mo) as client:
            results = [await client.submit(LONG_GSM, SENDER, "+33600000004"),
                       await client.submit("stop?", SENDER, "+" + MO_TRIGGER)]
            ids = part_ids(results)
            await wait_for(lambda: len(receipts) >= 4 and len(mos) >= 1, "receipts and MO")
            assert sorted(Receipt.from_pdu(p).id for p in receipts) == sorted(ids)
            assert [m.short_message for m in mos] == [b"STOP"]

    run(body)
    counts = stop_npm_smsc(npm_smsc)
    assert counts["binds"] == 2
    assert counts["receipts_sent"] == counts["receipts_acked"] == 4
    assert counts["mo_acked"] == 1 and counts["receipts_unroutable"] == 0


def test_no_deliver_sm_resp_when_the_receipt_handler_raises(npm_smsc: NpmSMSC) -> None:
    """The first batch's handler raises: none of its receipts is acknowledged (the SMSC
    records them as unacknowledged); every later batch is."""
    failed: list[str] = []
    stored: list[str] = []

    async def on_receipts(pdus: list[DeliverSM]) -> None:
        ids = [Receipt.from_pdu(p).id for p in pdus]
        if not failed:
            failed.extend(ids)
            raise RuntimeError("storage is down")
        stored.extend(ids)

    async def body() -> None:
        async with client_for(npm_smsc, on_receipts=on_receipts) as client:
            first = await client.submit("first", SENDER, "+33600000003")
            assert first.ok
            await wait_for(lambda: bool(failed), "the failing batch")
            for i in range(5):
                assert (await client.submit(f"later {i}", SENDER, "+33600000003")).ok
            await wait_for(lambda: len(failed) + len(stored) >= 6, "every receipt")

    run(body)

    assert len(failed) >= 1 and not set(failed) & set(stored)
    counts = stop_npm_smsc(npm_smsc)
    assert counts["receipts_sent"] == 6
    assert counts["receipts_acked"] == len(stored) == 6 - len(failed)
    assert sorted(counts["unacked_receipt_ids"]) == sorted(failed)
    assert counts["receipt_resp_errors"] == 0


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [(SYSTEM_ID, "wrong", CommandStatus.ESME_RINVPASWD),
     ("stranger", PASSWORD, CommandStatus.ESME_RINVSYSID)],
)
def test_bind_refused(npm_smsc: NpmSMSC, system_id: str, password: str, status: int) -> None:
    """The npm SMSC answers a refused bind with a header-only bind_transceiver_resp."""

    async def body() -> None:
        client = SMPPClient("127.0.0.1", npm_smsc.port, system_id, password,
                            response_timeout=5.0)
        with pytest.raises(BindError, match="bind refused") as info:
            await client.connect()
        assert info.value.command_status == status

    run(body)
    counts = stop_npm_smsc(npm_smsc)
    assert counts["binds"] == 0 and counts["binds_refused"] == 1
