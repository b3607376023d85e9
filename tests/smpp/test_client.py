"""SMPPClient against a fake SMSC on real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from smscope.receipts.pdu import receipt_from_pdu
from smscope.smpp import (
    CommandStatus,
    DataSM,
    DataSMResp,
    DeliverSM,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Tag,
    Unbind,
    UnbindResp,
)
from smscope.smpp.client import (
    BindError,
    SMPPClient,
    SMPPError,
    delivered_resp,
    destination_address,
    source_address,
)
from smscope.smpp.constants import CommandId
from tests.smpp.fake_smsc import FakeSMSC
from tests.support.aio import run

LONG = "x" * 400  # 3 parts of 153 GSM septets with an 8-bit UDH



@asynccontextmanager
async def session(**kwargs: Any) -> AsyncIterator[tuple[FakeSMSC, SMPPClient]]:
    smsc = await FakeSMSC().start()
    options: dict[str, Any] = {"reconnect_min": 0.05, "reconnect_max": 0.2,
                               "retry_delay": 0.01, "response_timeout": 5.0}
    options.update(kwargs)
    client = SMPPClient("127.0.0.1", smsc.port, "esme", "secret", **options)
    try:
        await client.connect()
        yield smsc, client
    finally:
        await client.close()
        await smsc.stop()


def receipt(message_id: str) -> DeliverSM:
    return DeliverSM(
        source_addr="33612345678",
        destination_addr="SMSCOPE",
        esm_class=0x04,
        short_message=f"id:{message_id} sub:001 dlvrd:001 stat:DELIVRD err:000".encode(),
        tlvs={Tag.RECEIPTED_MESSAGE_ID: message_id, Tag.MESSAGE_STATE: 2},
    )


def test_addresses() -> None:
    assert source_address("SMSCOPE") == (5, 0, "SMSCOPE")
    assert source_address("+33612345678") == (1, 1, "33612345678")
    assert source_address("33612345678") == (1, 1, "33612345678")
    assert source_address("36123") == (3, 0, "36123")
    assert destination_address("+447700900123") == (1, 1, "447700900123")


def test_bind_ok_and_bad_password() -> None:
    async def body() -> None:
        smsc = await FakeSMSC().start()
        try:
            client = SMPPClient("127.0.0.1", smsc.port, "esme", "wrong")
            with pytest.raises(BindError, match="bind refused: invalid password") as info:
                await client.connect()
            assert info.value.command_status == CommandStatus.ESME_RINVPASWD
            good = SMPPClient("127.0.0.1", smsc.port, "esme", "secret")
            await good.connect()
            assert smsc.binds == 1
            assert smsc.bound()[0].bound_as == CommandId.BIND_TRANSCEIVER
            await good.close()
        finally:
            await smsc.stop()

    run(body)


def test_transmitter_plus_receiver_binds_two_links() -> None:
    async def body() -> None:
        async with session(bind="transmitter+receiver") as (smsc, client):
            assert sorted(c.bound_as or 0 for c in smsc.bound()) == [
                CommandId.BIND_RECEIVER, CommandId.BIND_TRANSMITTER]
            result = await client.submit("hi", "SMSCOPE", "+33612345678")
            assert result.ok

    run(body)


def test_extra_receivers_bind_and_each_link_gets_its_own_answers() -> None:
    """``receivers=3`` on a transceiver: two more receiver binds. deliver_sm from every
    link are stored in one batch; each is answered on the link it came on, once the
    handler has returned."""
    async def body() -> None:
        batches: list[list[DeliverSM]] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            batches.append(pdus)

        async with session(receivers=3, on_receipts=on_receipts) as (smsc, client):
            assert sorted(c.bound_as or 0 for c in smsc.bound()) == [
                CommandId.BIND_RECEIVER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER]
            assert (await client.submit("hi", "SMSCOPE", "+33612345678")).ok
            receiving = [c for c in smsc.conns if c.receives]
            for n, conn in enumerate(receiving):
                pdu = receipt(f"r{n}")
                pdu.sequence_number = next(conn.seq)
                conn.unacked[pdu.sequence_number] = pdu
                conn.write(pdu)
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 3)
            assert all(not conn.unacked for conn in receiving)
            assert sorted(p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for b in batches for p in b) == [
                "r0", "r1", "r2"]

    run(body)


def test_receivers_must_be_a_receiving_link_count() -> None:
    with pytest.raises(SMPPError, match="receivers"):
        SMPPClient("127.0.0.1", 1, "esme", "secret", receivers=0)
    with pytest.raises(SMPPError, match="transmitter-only"):
        SMPPClient("127.0.0.1", 1, "esme", "secret", bind="transmitter", receivers=2)


def test_a_receipt_is_answered_with_the_bytes_of_its_encoded_resp() -> None:
    from smscope.smpp.pdu import DeliverSMResp, encode

    for status in (0, int(CommandStatus.ESME_RX_T_APPN)):
        assert delivered_resp(DeliverSM(sequence_number=7), status) == encode(
            DeliverSMResp(sequence_number=7, command_status=status))
        assert delivered_resp(DataSM(sequence_number=0x7FFFFFFF), status) == encode(
            DataSMResp(sequence_number=0x7FFFFFFF, command_status=status))


def test_submit_single_and_long() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            one = await client.submit("hello", "SMSCOPE", "+33612345678")
            assert one.ok and one.message_ids == ["00000001"]
            sent = smsc.submits[0]
            assert (sent.source_addr_ton, sent.source_addr_npi, sent.source_addr) == (
                5, 0, "SMSCOPE")
            assert (sent.dest_addr_ton, sent.dest_addr_npi, sent.destination_addr) == (
                1, 1, "33612345678")
            assert sent.registered_delivery == 1 and sent.short_message == b"hello"

            long = await client.submit(LONG, "+33600000000", "+33612345678")
            assert long.ok
            assert sorted(long.message_ids) == ["00000002", "00000003", "00000004"]  # type: ignore[type-var]
            parts = smsc.submits[1:]
            assert len(parts) == 3
            assert all(p.esm_class & 0x40 for p in parts)
            headers = sorted(p.short_message[:6] for p in parts)
            ref = headers[0][3]
            assert headers == [bytes((5, 0, 3, ref, 3, n)) for n in (1, 2, 3)]

    run(body)


def test_window_respected() -> None:
    async def body() -> None:
        async with session(window=3) as (smsc, client):
            smsc.resp_delay = 0.05
            results = await asyncio.gather(
                *(client.submit(f"m{i}", "SMSCOPE", "+33612345678") for i in range(12)))
            assert all(r.ok for r in results)
            assert len({r.message_ids[0] for r in results}) == 12
            assert smsc.max_outstanding == 3

    run(body)


def test_throttled_then_success() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            smsc.throttle_first = 2
            result = await client.submit("hello", "SMSCOPE", "+33612345678")
            assert result.ok and result.message_ids == ["00000001"]
            assert result.parts[0].attempts == 3
            assert len(smsc.submits) == 3

    run(body)


def test_throttled_too_long_fails() -> None:
    async def body() -> None:
        async with session(max_retries=2) as (smsc, client):
            smsc.throttle_first = 10
            result = await client.submit("hello", "SMSCOPE", "+33612345678")
            assert not result.ok and result.parts[0].outcome == "failed"
            assert result.error == "throttled (ESME_RTHROTTLED)"
            assert len(smsc.submits) == 3

    run(body)


def test_invalid_destination_is_final() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            smsc.reject["33600000000"] = CommandStatus.ESME_RINVDSTADR
            result = await client.submit("hello", "SMSCOPE", "+33600000000")
            assert not result.ok and not result.in_doubt
            part = result.parts[0]
            assert part.outcome == "failed" and part.status == 0x0B
            assert part.error == "invalid destination (ESME_RINVDSTADR)"
            assert len(smsc.submits) == 1

    run(body)


def test_receipts_acknowledged_only_after_handler_returns() -> None:
    async def body() -> None:
        release = asyncio.Event()
        batches: list[list[DeliverSM]] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            batches.append(pdus)
            await release.wait()

        async with session(on_receipts=on_receipts) as (smsc, _client):
            smsc.push(receipt("a1"), receipt("a2"), receipt("a3"))
            while not batches:
                await asyncio.sleep(0.01)
            # the handler is holding the batch: give the client every chance to answer
            await asyncio.sleep(0.2)
            assert smsc.deliver_resps == []
            assert [p.tlvs[Tag.RECEIPTED_MESSAGE_ID] for p in batches[0]] == ["a1", "a2", "a3"]
            release.set()
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 3)
            assert len(batches) == 1
            assert sorted(r.sequence_number for r in smsc.deliver_resps) == [1, 2, 3]
            assert all(r.command_status == 0 for r in smsc.deliver_resps)

    run(body)


def test_mo_goes_to_its_own_handler() -> None:
    async def body() -> None:
        receipts: list[DeliverSM] = []
        mos: list[DeliverSM] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            receipts.extend(pdus)

        async def on_mo(pdus: list[DeliverSM]) -> None:
            mos.extend(pdus)

        async with session(on_receipts=on_receipts, on_mo=on_mo) as (smsc, _client):
            smsc.push(receipt("r1"), DeliverSM(source_addr="33612345678",
                                               destination_addr="36123",
                                               short_message=b"STOP"))
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
            assert [p.short_message for p in mos] == [b"STOP"]
            assert len(receipts) == 1

    run(body)


def test_mo_without_a_handler_is_refused_for_now_not_acknowledged() -> None:
    async def body() -> None:
        async def on_receipts(pdus: list[DeliverSM]) -> None:
            return None

        async with session(on_receipts=on_receipts) as (smsc, _client):
            smsc.push(DeliverSM(source_addr="33612345678", destination_addr="36123",
                                short_message=b"hello"))
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 1)
            assert smsc.deliver_resps[0].command_status == 0x64  # ESME_RX_T_APPN

    run(body)


def test_handler_raising_means_no_resp_and_redelivery_after_reconnect() -> None:
    async def body() -> None:
        calls: list[list[str]] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            calls.append([str(p.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for p in pdus])
            if len(calls) == 1:
                raise RuntimeError("database down")

        async with session(on_receipts=on_receipts) as (smsc, client):
            smsc.push(receipt("b1"), receipt("b2"))
            while not calls:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            assert smsc.deliver_resps == []
            smsc.drop()
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
            assert calls == [["b1", "b2"], ["b1", "b2"]]
            assert smsc.binds == 2 and client.reconnects == 1

    run(body)


def test_in_doubt_when_link_dies_with_submits_outstanding() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            smsc.resp_delay = 10.0
            task = asyncio.create_task(client.submit("hello", "SMSCOPE", "+33612345678"))
            await smsc.wait_for(lambda: len(smsc.submits) == 1)
            smsc.drop()
            result = await task
            assert result.in_doubt and result.parts[0].outcome == "in_doubt"
            assert len(smsc.submits) == 1  # never sent again on its own
            smsc.resp_delay = 0.0
            await smsc.wait_for(lambda: smsc.binds == 2)
            after = await client.submit("again", "SMSCOPE", "+33612345678")
            assert after.ok

    run(body)


def test_enquire_link_answered() -> None:
    async def body() -> None:
        async with session() as (smsc, _client):
            smsc.send(EnquireLink())
            await smsc.wait_for(lambda: any(isinstance(p, EnquireLinkResp)
                                            for p in smsc.received))

    run(body)


def test_dead_link_detected_by_enquire_link_and_reconnected() -> None:
    async def body() -> None:
        async with session(enquire_link_interval=0.05, response_timeout=0.5) as (smsc, client):
            smsc.answer_enquire_link = False
            await smsc.wait_for(lambda: smsc.binds == 2)
            smsc.answer_enquire_link = True
            assert (await client.submit("hi", "SMSCOPE", "+33612345678")).ok

    run(body)


def test_unknown_command_gets_generic_nack() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            smsc.send_raw(struct.pack(">IIII", 16, 0x00000777, 0, 4242))
            await smsc.wait_for(lambda: any(isinstance(p, GenericNack)
                                            for p in smsc.received))
            nack = next(p for p in smsc.received if isinstance(p, GenericNack))
            assert nack.sequence_number == 4242
            assert nack.command_status == CommandStatus.ESME_RINVCMDID
            assert (await client.submit("still fine", "SMSCOPE", "+33612345678")).ok

    run(body)


def test_close_sends_unbind() -> None:
    async def body() -> None:
        async with session() as (smsc, client):
            assert (await client.submit("hi", "SMSCOPE", "+33612345678")).ok
        assert any(p.command_id == CommandId.UNBIND for p in smsc.received)

    run(body)


def test_smsc_unbind_answered() -> None:
    async def body() -> None:
        async with session() as (smsc, _client):
            smsc.send(Unbind())
            await smsc.wait_for(lambda: any(isinstance(p, UnbindResp) for p in smsc.received))
            await smsc.wait_for(lambda: smsc.binds == 2)

    run(body)


def test_unreachable_smsc() -> None:
    async def body() -> None:
        with socket.socket() as closed:  # bound, never listening: connections are refused
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            client = SMPPClient("127.0.0.1", port, "esme", "secret")
            with pytest.raises(SMPPError, match="cannot reach the SMSC"):
                await client.connect()

    run(body)


def test_no_answer_is_in_doubt() -> None:
    async def body() -> None:
        async with session(response_timeout=0.5) as (smsc, client):
            smsc.resp_delay = 5.0
            result = await client.submit("hello", "SMSCOPE", "+33612345678")
            assert result.in_doubt and "no answer" in (result.error or "")
            assert len(smsc.submits) == 1

    run(body)


def test_rate_limits_submits() -> None:
    async def body() -> None:
        async with session(rate=20) as (_smsc, client):
            started = time.monotonic()
            results = await asyncio.gather(
                *(client.submit(f"m{i}", "SMSCOPE", "+33612345678") for i in range(6)))
            elapsed = time.monotonic() - started
            assert all(r.ok for r in results)
            assert elapsed >= 0.2  # 5 gaps of 1/20 s after the first token

    run(body)


def test_submit_after_close_and_tcp_nodelay() -> None:
    async def body() -> None:
        async with session() as (_smsc, client):
            link = client._links["trx"]
            assert link is not None and link.sock is not None
            assert link.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with pytest.raises(SMPPError, match="not connected"):
            await client.submit("late", "SMSCOPE", "+33612345678")

    run(body)


def test_data_sm_receipts_and_mo_are_handled_and_answered_with_data_sm_resp() -> None:
    async def body() -> None:
        receipts: list[object] = []
        mos: list[object] = []

        async def on_receipts(pdus: list[object]) -> None:
            receipts.extend(pdus)

        async def on_mo(pdus: list[object]) -> None:
            mos.extend(pdus)

        async with session(on_receipts=on_receipts, on_mo=on_mo) as (smsc, _client):
            smsc.push(
                DataSM(source_addr="33612345678", destination_addr="SHOP", esm_class=0x04,
                       tlvs={Tag.RECEIPTED_MESSAGE_ID: "0a1b", Tag.MESSAGE_STATE: 2}),
                DataSM(source_addr="33612345678", destination_addr="SHOP",
                       tlvs={Tag.MESSAGE_PAYLOAD: b"STOP"}),
            )
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
            assert all(isinstance(r, DataSMResp) and r.command_status == 0
                       for r in smsc.deliver_resps)
            (receipt_pdu,) = receipts
            read = receipt_from_pdu(receipt_pdu)
            assert (read.id, read.stat) == ("0a1b", "DELIVRD")
            assert [p.tlvs[Tag.MESSAGE_PAYLOAD] for p in mos] == [b"STOP"]  # type: ignore[attr-defined]

    run(body)


def test_receipt_flood_faster_than_the_handler_is_held_back_not_queued_without_bound() -> None:
    from smscope.smpp.client import MAX_INBOX

    async def body() -> None:
        handled: list[str] = []
        backlog: list[int] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            backlog.append(len(client._inbox))
            await asyncio.sleep(0.01)  # a slow database
            handled.extend(str(p.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for p in pdus)

        async with session(on_receipts=on_receipts) as (smsc, client):
            flood = [receipt(f"f{i}") for i in range(6000)]
            smsc.push(*flood)  # all at once, no window: a misbehaving SMSC
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 6000, timeout=20)
            assert sorted(handled) == sorted(f"f{i}" for i in range(6000))
            assert all(r.command_status == 0 for r in smsc.deliver_resps)
            assert len({r.sequence_number for r in smsc.deliver_resps}) == 6000
            # the links stopped reading while the handler was behind
            assert max(backlog) <= MAX_INBOX
            assert client.reconnects == 0

    run(body, timeout=30)


def test_with_several_handovers_the_next_batch_is_handed_over_while_one_is_held() -> None:
    async def body() -> None:
        release = asyncio.Event()
        batches: list[list[str]] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            batches.append([str(p.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for p in pdus])
            if len(batches) == 1:
                await release.wait()  # the first batch is being stored

        async with session(on_receipts=on_receipts, handovers=2) as (smsc, _client):
            smsc.push(receipt("e1"))
            while not batches:
                await asyncio.sleep(0.01)
            smsc.push(receipt("e2"))
            # handed over while the first one is held, and answered on its own
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 1)
            assert batches == [["e1"], ["e2"]]
            assert smsc.deliver_resps[0].sequence_number == 2
            release.set()
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
            assert all(r.command_status == 0 for r in smsc.deliver_resps)

    run(body)


def test_with_one_handover_the_next_batch_waits_for_the_last() -> None:
    async def body() -> None:
        release = asyncio.Event()
        batches: list[list[str]] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            batches.append([str(p.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for p in pdus])
            if len(batches) == 1:
                await release.wait()

        async with session(on_receipts=on_receipts) as (smsc, _client):
            smsc.push(receipt("g1"))
            while not batches:
                await asyncio.sleep(0.01)
            smsc.push(receipt("g2"))
            await asyncio.sleep(0.2)
            assert batches == [["g1"]] and smsc.deliver_resps == []
            release.set()
            await smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
            assert batches == [["g1"], ["g2"]]

    run(body)
