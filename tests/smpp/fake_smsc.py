"""A small SMSC for tests, on our codec, on 127.0.0.1 with a port the OS picks.

It binds with one pair of credentials, answers submit_sm with sequential hex ids (or a
chosen error status, or throttling for the first N), can delay its answers and records
how many submit_sm it saw outstanding at once, pushes deliver_sm, records the
deliver_sm_resp it gets, re-sends unacknowledged deliver_sm after a new bind, and can
drop every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

from smscope.smpp import (
    PDU,
    BindReceiverResp,
    BindTransceiverResp,
    BindTransmitterResp,
    CommandStatus,
    DataSM,
    DeliverSM,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    PDUReader,
    SubmitSM,
    SubmitSMResp,
    Unbind,
    UnbindResp,
    decode,
    encode,
)
from smscope.smpp.constants import CommandId

_BIND_RESP: dict[int, Any] = {
    CommandId.BIND_TRANSCEIVER: BindTransceiverResp,
    CommandId.BIND_TRANSMITTER: BindTransmitterResp,
    CommandId.BIND_RECEIVER: BindReceiverResp,
}


class Conn:
    """One client connection as the SMSC sees it."""

    def __init__(self, smsc: FakeSMSC, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.smsc = smsc
        self.reader = reader
        self.writer = writer
        self.bound_as: int | None = None
        self.seq = itertools.count(1)
        self.unacked: dict[int, DeliverSM | DataSM] = {}

    def write(self, *pdus: PDU) -> None:
        self.writer.write(b"".join(encode(p) for p in pdus))

    @property
    def receives(self) -> bool:
        return self.bound_as in (CommandId.BIND_TRANSCEIVER, CommandId.BIND_RECEIVER)


class FakeSMSC:
    def __init__(self, system_id: str = "esme", password: str = "secret") -> None:
        self.system_id = system_id
        self.password = password
        self.port = 0
        self.conns: list[Conn] = []
        self.binds = 0
        self.received: list[PDU] = []  # every PDU a client sent, decoded
        self.raw_received: list[bytes] = []
        self.submits: list[SubmitSM] = []
        self.deliver_resps: list[PDU] = []
        self.throttle_first = 0
        self.reject: dict[str, int] = {}  # destination_addr -> status
        self.resp_delay = 0.0
        self.outstanding = 0
        self.max_outstanding = 0
        self.answer_enquire_link = True
        self.resend_on_bind = True
        self.pending_redelivery: list[DeliverSM | DataSM] = []
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()

    async def start(self) -> FakeSMSC:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()

    def drop(self) -> None:
        """Close every connection at once, as a dying SMSC would."""
        for conn in self.conns:
            for pdu in conn.unacked.values():
                self.pending_redelivery.append(pdu)
            conn.unacked.clear()
            conn.writer.close()
        self.conns.clear()

    async def wait_for(self, predicate: object, timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` is true (checked each time something happens)."""
        assert callable(predicate)

        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def _notify(self) -> None:
        self.changed.set()

    def bound(self) -> list[Conn]:
        return [c for c in self.conns if c.bound_as is not None]

    def push(self, *pdus: DeliverSM | DataSM) -> None:
        """Send deliver_sm (or data_sm) PDUs in one write on the first receiving connection."""
        conn = next(c for c in self.conns if c.receives)
        for pdu in pdus:
            pdu.sequence_number = next(conn.seq)
            conn.unacked[pdu.sequence_number] = pdu
        conn.write(*pdus)

    def send_raw(self, data: bytes) -> None:
        self.bound()[0].writer.write(data)

    def send(self, pdu: PDU) -> None:
        conn = self.bound()[0]
        pdu.sequence_number = next(conn.seq)
        conn.write(pdu)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(self, reader, writer)
        self.conns.append(conn)
        frames = PDUReader()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for frame in frames.feed(data):
                    self.raw_received.append(frame)
                    pdu = decode(frame)
                    self.received.append(pdu)
                    self._handle(conn, pdu)
                    self._notify()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if conn in self.conns:
                self.conns.remove(conn)
                self.pending_redelivery.extend(conn.unacked.values())
            writer.close()
            self._notify()

    def _handle(self, conn: Conn, pdu: PDU) -> None:
        cid = pdu.command_id
        if cid in _BIND_RESP:
            ok = (getattr(pdu, "system_id", None) == self.system_id
                  and getattr(pdu, "password", None) == self.password)
            status = CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RINVPASWD
            conn.write(_BIND_RESP[cid](sequence_number=pdu.sequence_number,
                                       command_status=status, system_id="fake"))
            if ok:
                self.binds += 1
                conn.bound_as = cid
                if self.resend_on_bind and conn.receives and self.pending_redelivery:
                    again, self.pending_redelivery = self.pending_redelivery, []
                    self.push(*again)
            return
        if isinstance(pdu, SubmitSM):
            self.submits.append(pdu)
            self.outstanding += 1
            self.max_outstanding = max(self.max_outstanding, self.outstanding)
            if self.throttle_first > 0:
                self.throttle_first -= 1
                resp = SubmitSMResp(sequence_number=pdu.sequence_number,
                                    command_status=CommandStatus.ESME_RTHROTTLED)
            elif pdu.destination_addr in self.reject:
                resp = SubmitSMResp(sequence_number=pdu.sequence_number,
                                    command_status=self.reject[pdu.destination_addr])
            else:
                resp = SubmitSMResp(sequence_number=pdu.sequence_number,
                                    message_id=f"{next(self._ids):08x}")
            if self.resp_delay:
                task = asyncio.create_task(self._later(conn, resp))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                self.outstanding -= 1
                conn.write(resp)
            return
        if cid in (CommandId.DELIVER_SM_RESP, CommandId.DATA_SM_RESP):
            self.deliver_resps.append(pdu)
            conn.unacked.pop(pdu.sequence_number, None)
            return
        if isinstance(pdu, EnquireLink):
            if self.answer_enquire_link:
                conn.write(EnquireLinkResp(sequence_number=pdu.sequence_number))
            return
        if isinstance(pdu, Unbind):
            conn.write(UnbindResp(sequence_number=pdu.sequence_number))
            return
        if isinstance(pdu, EnquireLinkResp | GenericNack | UnbindResp):
            return

    async def _later(self, conn: Conn, resp: SubmitSMResp) -> None:
        await asyncio.sleep(self.resp_delay)
        self.outstanding -= 1
        with contextlib.suppress(OSError):
            conn.write(resp)
