"""SMPPServer against our SMPPClient and raw sockets, on loopback ports the OS picks."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from smscope.smpp import (
    PDU,
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    CommandStatus,
    DeliverSM,
    DeliverSMResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSM,
    SubmitSMResp,
    Tag,
    Unbind,
    UnbindResp,
    decode,
    encode,
    parse_udh,
)
from smscope.smpp.client import BindError, SMPPClient
from smscope.smpp.server import (
    NO_RESPONSE,
    BindKind,
    ServerHandler,
    ServerSession,
    SMPPServer,
    SMPPServerError,
    SubmitAnswer,
)
from tests.support.aio import run, until

_S = CommandStatus
LONG = "x" * 400  # 3 parts of 153 GSM septets with an 8-bit UDH
WAIT = 5.0




class Recorder(ServerHandler):
    def __init__(self) -> None:
        self.submits: list[SubmitSM] = []
        self.bound: list[ServerSession] = []
        self.unbound: list[ServerSession] = []

    async def on_submit(self, session: ServerSession, pdu: SubmitSM) -> SubmitAnswer:
        self.submits.append(pdu)
        return 0, f"m{len(self.submits)}"

    async def on_bound(self, session: ServerSession) -> None:
        self.bound.append(session)

    async def on_unbound(self, session: ServerSession) -> None:
        self.unbound.append(session)


def authenticate(system_id: str, password: str, kind: BindKind) -> int:
    if system_id == "esme" and password == "secret":
        return 0
    return int(_S.ESME_RINVPASWD)


@asynccontextmanager
async def serve(**kwargs: Any) -> AsyncIterator[tuple[SMPPServer, Recorder]]:
    handler = Recorder()
    server = SMPPServer(authenticate, handler, **kwargs)
    await server.start()
    try:
        yield server, handler
    finally:
        await server.close()


@asynccontextmanager
async def esme(server: SMPPServer, **kwargs: Any) -> AsyncIterator[SMPPClient]:
    options: dict[str, Any] = {"reconnect_min": 0.05, "reconnect_max": 0.2,
                               "retry_delay": 0.01, "response_timeout": 5.0}
    password = kwargs.pop("password", "secret")
    options.update(kwargs)
    client = SMPPClient("127.0.0.1", server.port, "esme", password, **options)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


class Raw:
    """A bare TCP connection speaking PDUs (or any bytes)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, server: SMPPServer) -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer)

    def send(self, *pdus: PDU) -> None:
        self.writer.write(b"".join(encode(p) for p in pdus))

    async def read(self) -> PDU:
        header = await asyncio.wait_for(self.reader.readexactly(16), WAIT)
        (length,) = struct.unpack(">I", header[:4])
        body = await asyncio.wait_for(self.reader.readexactly(length - 16), WAIT)
        return decode(header + body)

    async def eof(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), WAIT) == b""

    async def bind(self, cls: type[BindTransceiver | BindReceiver] = BindTransceiver) -> PDU:
        self.send(cls(sequence_number=1, system_id="esme", password="secret"))
        resp = await self.read()
        assert resp.command_status == 0
        return resp

    def close(self) -> None:
        self.writer.close()


def receipt(message_id: str) -> DeliverSM:
    return DeliverSM(
        source_addr="33612345678",
        destination_addr="SMSCOPE",
        esm_class=0x04,
        short_message=f"id:{message_id} sub:001 dlvrd:001 stat:DELIVRD err:000".encode(),
        tlvs={Tag.RECEIPTED_MESSAGE_ID: message_id, Tag.MESSAGE_STATE: 2},
    )


def submit_pdu(seq: int) -> SubmitSM:
    return SubmitSM(sequence_number=seq, source_addr="SMSCOPE", destination_addr="33612345678",
                    short_message=b"hello")


# --------------------------------------------------------------------------------------
# bind
# --------------------------------------------------------------------------------------


def test_bind_accepted_and_unbound_on_close() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            async with esme(server):
                await until(lambda: len(handler.bound) == 1)
                session = handler.bound[0]
                assert session.bind_kind == "transceiver"
                assert session.system_id == "esme"
                assert session.receives
                assert server.sessions == [session]
            await until(lambda: handler.unbound == [session])
            assert server.sessions == []

    run(body)


def test_bind_transmitter_and_receiver() -> None:
    async def body() -> None:
        async with serve() as (server, handler), esme(server, bind="transmitter+receiver"):
            await until(lambda: len(handler.bound) == 2)
            assert sorted(s.bind_kind or "" for s in handler.bound) == ["receiver",
                                                                      "transmitter"]

    run(body)


def test_bind_refused() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            with pytest.raises(BindError) as info:
                async with esme(server, password="wrong"):
                    pass
            assert info.value.command_status == _S.ESME_RINVPASWD
            assert handler.bound == [] and server.sessions == []

    run(body)


def test_async_authenticate_and_raising_authenticate() -> None:
    async def check(system_id: str, password: str, kind: BindKind) -> int:
        if system_id == "boom":
            raise RuntimeError("broken credential store")
        return 0 if kind == "receiver" else int(_S.ESME_RINVSYSID)

    async def body() -> None:
        server = SMPPServer(check)
        await server.start()
        try:
            raw = await Raw.open(server)
            raw.send(BindTransceiver(sequence_number=1, system_id="esme"))
            assert (await raw.read()).command_status == _S.ESME_RINVSYSID
            raw.send(BindTransceiver(sequence_number=2, system_id="boom"))
            assert (await raw.read()).command_status == _S.ESME_RBINDFAIL
            await raw.bind(BindReceiver)
            assert [s.bind_kind for s in server.sessions] == ["receiver"]
            raw.close()
        finally:
            await server.close()

    run(body)


def test_second_bind_refused_with_ralybnd() -> None:
    async def body() -> None:
        async with serve() as (server, _handler):
            raw = await Raw.open(server)
            resp = await raw.bind()
            assert isinstance(resp, BindTransceiverResp) and resp.system_id == "smscope"
            raw.send(BindTransceiver(sequence_number=2, system_id="esme", password="secret"))
            again = await raw.read()
            assert isinstance(again, BindTransceiverResp)
            assert (again.sequence_number, again.command_status) == (2, _S.ESME_RALYBND)
            raw.close()

    run(body)


# --------------------------------------------------------------------------------------
# submit
# --------------------------------------------------------------------------------------


def test_submit_answered_with_handler_message_id() -> None:
    async def body() -> None:
        async with serve() as (server, handler), esme(server) as client:
            result = await client.submit("hello", "SMSCOPE", "+33612345678")
            assert result.ok and result.message_ids == ["m1"]
            assert handler.submits[0].destination_addr == "33612345678"
            assert handler.submits[0].short_message == b"hello"

    run(body)


def test_long_message_parts_all_reach_on_submit() -> None:
    async def body() -> None:
        async with serve() as (server, handler), esme(server) as client:
            result = await client.submit(LONG, "SMSCOPE", "+33612345678")
            assert result.ok and sorted(str(m) for m in result.message_ids) == ["m1", "m2", "m3"]
            concats = [parse_udh(p.short_message)[0] for p in handler.submits]
            parts = sorted((c.total, c.seqnum) for c in concats if c is not None)
            assert parts == [(3, 1), (3, 2), (3, 3)]

    run(body)


def test_submit_handler_error_answers_rsyserr_and_status_passes_through() -> None:
    class Picky(Recorder):
        async def on_submit(self, session: ServerSession, pdu: SubmitSM) -> SubmitAnswer:
            if pdu.destination_addr == "1":
                raise RuntimeError("bug")
            return int(_S.ESME_RINVDSTADR), "ignored"

    async def body() -> None:
        server = SMPPServer(authenticate, Picky())
        await server.start()
        try:
            raw = await Raw.open(server)
            await raw.bind()
            bad = submit_pdu(2)
            bad.destination_addr = "1"
            raw.send(bad, submit_pdu(3))
            answers = {p.sequence_number: p for p in (await raw.read(), await raw.read())}
            assert answers[2].command_status == _S.ESME_RSYSERR
            assert answers[3].command_status == _S.ESME_RINVDSTADR
            assert isinstance(answers[3], SubmitSMResp) and answers[3].message_id == ""
            raw.close()
        finally:
            await server.close()

    run(body)


def test_receiver_bind_cannot_submit() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            await raw.bind(BindReceiver)
            raw.send(submit_pdu(2))
            resp = await raw.read()
            assert isinstance(resp, SubmitSMResp)
            assert resp.command_status == _S.ESME_RINVBNDSTS and handler.submits == []
            raw.close()

    run(body)


def test_max_rate_throttles_and_client_retries_succeed() -> None:
    async def body() -> None:
        async with serve(max_rate=10) as (server, handler), esme(
            server, retry_delay=0.1, reconnect_max=0.3, max_retries=30
        ) as client:
            results = await asyncio.gather(
                *(client.submit(f"hello {i}", "SMSCOPE", "+33612345678") for i in range(20))
            )
            assert all(r.ok for r in results)
            assert server.throttled > 0
            assert len(handler.submits) == 20
            assert max(r.parts[0].attempts for r in results) > 1

    run(body)


# --------------------------------------------------------------------------------------
# deliver
# --------------------------------------------------------------------------------------


def test_deliver_reaches_client_and_returns_zero_after_its_handler() -> None:
    async def body() -> None:
        got: list[DeliverSM] = []

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            await asyncio.sleep(0.05)
            got.extend(pdus)

        async with serve() as (server, handler), esme(server, on_receipts=on_receipts):
            await until(lambda: len(handler.bound) == 1)
            session = handler.bound[0]
            statuses = await asyncio.gather(*(session.deliver(receipt(f"r{i}"))
                                              for i in range(3)))
            assert statuses == [0, 0, 0]
            ids = sorted(str(p.tlvs[Tag.RECEIPTED_MESSAGE_ID]) for p in got)
            assert ids == ["r0", "r1", "r2"]

    run(body)


def test_deliver_without_resp_returns_no_response() -> None:
    async def body() -> None:
        calls = 0

        async def on_receipts(pdus: list[DeliverSM]) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("cannot store")

        async with serve() as (server, handler), esme(server, on_receipts=on_receipts):
            await until(lambda: len(handler.bound) == 1)
            status = await handler.bound[0].deliver(receipt("r1"), timeout=0.3)
            assert status == NO_RESPONSE and calls == 1

    run(body)


def test_deliver_returns_no_response_when_link_drops() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            await raw.bind(BindReceiver)
            await until(lambda: len(handler.bound) == 1)
            session = handler.bound[0]
            task = asyncio.create_task(session.deliver(receipt("r1"), timeout=30))
            assert isinstance(await raw.read(), DeliverSM)
            raw.close()
            assert await asyncio.wait_for(task, WAIT) == NO_RESPONSE
            await until(lambda: handler.unbound == [session])
            assert await session.deliver(receipt("r2")) == NO_RESPONSE

    run(body)


def test_deliver_window_and_error_status() -> None:
    async def body() -> None:
        async with serve(deliver_window=2) as (server, handler):
            raw = await Raw.open(server)
            await raw.bind()
            await until(lambda: len(handler.bound) == 1)
            session = handler.bound[0]
            tasks = [asyncio.create_task(session.deliver(receipt(f"r{i}"))) for i in range(3)]
            first = [await raw.read(), await raw.read()]
            with pytest.raises(TimeoutError):  # no third deliver_sm while two are out
                await asyncio.wait_for(raw.reader.readexactly(16), 0.2)
            assert not any(t.done() for t in tasks)
            raw.send(GenericNack(sequence_number=first[0].sequence_number,
                                 command_status=_S.ESME_RX_T_APPN))
            third = await raw.read()
            assert isinstance(third, DeliverSM)
            for pdu in (first[1], third):
                raw.send(UnbindResp(sequence_number=0))  # stray response: ignored
                raw.send(DeliverSMResp(sequence_number=pdu.sequence_number))
            assert await asyncio.gather(*tasks) == [_S.ESME_RX_T_APPN, 0, 0]
            raw.close()

    run(body)


def test_deliver_on_transmitter_is_refused() -> None:
    async def body() -> None:
        async with serve() as (server, handler), esme(server, bind="transmitter"):
            await until(lambda: len(handler.bound) == 1)
            with pytest.raises(SMPPServerError):
                await handler.bound[0].deliver(receipt("r1"))

    run(body)


# --------------------------------------------------------------------------------------
# link management
# --------------------------------------------------------------------------------------


def test_enquire_link_answered_before_and_after_bind() -> None:
    async def body() -> None:
        async with serve() as (server, _handler):
            raw = await Raw.open(server)
            raw.send(EnquireLink(sequence_number=7))
            resp = await raw.read()
            assert isinstance(resp, EnquireLinkResp) and resp.sequence_number == 7
            await raw.bind()
            raw.send(EnquireLink(sequence_number=8))
            resp = await raw.read()
            assert isinstance(resp, EnquireLinkResp) and resp.sequence_number == 8
            raw.close()

    run(body)


def test_server_enquire_link_keeps_live_link_and_closes_dead_one() -> None:
    async def body() -> None:
        async with serve(enquire_link_interval=0.05, response_timeout=0.5) as (server, handler):
            live = await Raw.open(server)
            await live.bind()
            answered = 0

            async def answer_probes() -> None:
                nonlocal answered
                while True:
                    probe = await live.read()
                    assert isinstance(probe, EnquireLink)
                    live.send(EnquireLinkResp(sequence_number=probe.sequence_number))
                    answered += 1

            responder = asyncio.create_task(answer_probes())
            await until(lambda: answered >= 3)
            dead = await Raw.open(server)
            await dead.bind()
            assert isinstance(await dead.read(), EnquireLink)
            assert await dead.eof()
            await until(lambda: len(handler.unbound) == 1)
            seen = answered
            await until(lambda: answered >= seen + 2)  # the live link is still probed
            assert len(server.sessions) == 1 and not responder.done()
            responder.cancel()
            live.close()

    run(body)


def test_client_keepalive_against_server() -> None:
    async def body() -> None:
        async with serve(enquire_link_interval=0.05) as (server, handler), esme(
            server, enquire_link_interval=0.05
        ) as client:
            await asyncio.sleep(0.5)
            assert client.reconnects == 0 and len(handler.bound) == 1 and not handler.unbound
            assert (await client.submit("hi", "SMSCOPE", "+33612345678")).ok

    run(body)


def test_unbind_answered_and_connection_closed() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            await raw.bind()
            raw.send(Unbind(sequence_number=5))
            resp = await raw.read()
            assert isinstance(resp, UnbindResp) and resp.sequence_number == 5
            assert resp.command_status == 0
            assert await raw.eof()
            await until(lambda: len(handler.unbound) == 1)

    run(body)


def test_server_close_unbinds_sessions() -> None:
    async def body() -> None:
        handler = Recorder()
        server = SMPPServer(authenticate, handler)
        await server.start()
        raw = await Raw.open(server)
        await raw.bind()

        async def answer() -> None:
            pdu = await raw.read()
            assert isinstance(pdu, Unbind)
            raw.send(UnbindResp(sequence_number=pdu.sequence_number))

        await asyncio.gather(server.close(), answer())
        assert await raw.eof()
        assert len(handler.unbound) == 1

    run(body)


def test_unknown_command_gets_generic_nack() -> None:
    async def body() -> None:
        async with serve() as (server, _handler):
            raw = await Raw.open(server)
            raw.writer.write(struct.pack(">IIII", 16, 0x00000099, 0, 42))
            nack = await raw.read()
            assert isinstance(nack, GenericNack)
            assert (nack.sequence_number, nack.command_status) == (42, _S.ESME_RINVCMDID)
            await raw.bind()
            raw.writer.write(struct.pack(">IIII", 20, 0x00000123, 0, 43) + b"abcd")
            nack = await raw.read()
            assert isinstance(nack, GenericNack)
            assert (nack.sequence_number, nack.command_status) == (43, _S.ESME_RINVCMDID)
            raw.send(EnquireLink(sequence_number=44))
            assert isinstance(await raw.read(), EnquireLinkResp)
            raw.close()

    run(body)


def test_pdu_before_bind_gets_rinvbndsts() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            raw.send(submit_pdu(3))
            resp = await raw.read()
            assert isinstance(resp, SubmitSMResp)
            assert (resp.sequence_number, resp.command_status) == (3, _S.ESME_RINVBNDSTS)
            raw.send(Unbind(sequence_number=4))
            resp = await raw.read()
            assert isinstance(resp, UnbindResp)
            assert (resp.sequence_number, resp.command_status) == (4, _S.ESME_RINVBNDSTS)
            assert handler.submits == []
            await raw.bind()
            raw.close()

    run(body)


def test_malformed_request_body_answered_with_its_resp() -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            await raw.bind()
            raw.writer.write(struct.pack(">IIII", 18, 0x00000004, 0, 9) + b"\0\x01")
            resp = await raw.read()
            assert isinstance(resp, SubmitSMResp)
            assert resp.sequence_number == 9 and resp.command_status != 0
            assert handler.submits == []
            raw.close()

    run(body)


@pytest.mark.parametrize("length", [0, 15, 2**31])
@pytest.mark.parametrize("after_valid_pdu", [False, True])
def test_lying_command_length_closes_connection_server_keeps_serving(
    length: int, after_valid_pdu: bool, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        async with serve() as (server, handler):
            raw = await Raw.open(server)
            await raw.bind()
            lie = struct.pack(">IIII", length, 0x00000004, 0, 2)
            if after_valid_pdu:
                raw.writer.write(encode(EnquireLink(sequence_number=3)) + lie)
                assert isinstance(await raw.read(), EnquireLinkResp)
            else:
                raw.writer.write(lie)
            assert await raw.eof()
            await until(lambda: len(handler.unbound) == 1)
            async with esme(server) as client:
                assert (await client.submit("again", "SMSCOPE", "+33612345678")).ok

    run(body)
    assert "unreadable stream" in caplog.text
