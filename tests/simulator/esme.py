"""A bare ESME on a socket for simulator tests: every PDU is sent and answered by hand,
so a test decides exactly which deliver_sm get a deliver_sm_resp, and with what."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from smscope.smpp import (
    PDU,
    BindTransceiver,
    DeliverSM,
    DeliverSMResp,
    PDUReader,
    SubmitSM,
    SubmitSMResp,
    decode,
    encode,
)


class RawESME:
    """``await RawESME.bind(port)``; ``submit()``; ``deliveries()``; ``ack()``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._frames = PDUReader()
        self._seq = 0
        self.inbox: list[PDU] = []

    @classmethod
    async def connect(cls, port: int) -> RawESME:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    @classmethod
    async def bind(cls, port: int, system_id: str = "smscope",
                   password: str = "secret") -> RawESME:
        esme = await cls.connect(port)
        resp = await esme.request(BindTransceiver(system_id=system_id, password=password))
        if resp.command_status:
            raise AssertionError(f"bind refused: 0x{resp.command_status:08X}")
        return esme

    def send(self, pdu: PDU) -> None:
        self.writer.write(encode(pdu))

    async def read(self, timeout: float = 5.0) -> PDU:
        while not self.inbox:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise ConnectionError("the simulator closed the connection")
            self.inbox.extend(decode(frame) for frame in self._frames.feed(data))
        return self.inbox.pop(0)

    async def request(self, pdu: PDU, timeout: float = 5.0) -> PDU:
        """Send a request and return its response; deliver_sm read meanwhile are kept."""
        self._seq += 1
        pdu.sequence_number = self._seq
        self.send(pdu)
        kept: list[PDU] = []
        try:
            while True:
                got = await self.read(timeout)
                if got.sequence_number == pdu.sequence_number and got.command_id & 0x80000000:
                    return got
                kept.append(got)
        finally:
            self.inbox[:0] = kept

    async def submit(self, destination: str, text: str = "hello", **fields: Any) -> SubmitSMResp:
        fields.setdefault("registered_delivery", 1)
        pdu = SubmitSM(source_addr="SHOP", source_addr_ton=5, dest_addr_ton=1, dest_addr_npi=1,
                       destination_addr=destination, short_message=text.encode(), **fields)
        resp = await self.request(pdu)
        assert isinstance(resp, SubmitSMResp)
        return resp

    async def deliveries(self, count: int, timeout: float = 5.0) -> list[DeliverSM]:
        """The next ``count`` deliver_sm (not acknowledged)."""
        got: list[DeliverSM] = []
        while len(got) < count:
            pdu = await self.read(timeout)
            if isinstance(pdu, DeliverSM):
                got.append(pdu)
        return got

    def ack(self, pdu: DeliverSM, status: int = 0) -> None:
        self.send(DeliverSMResp(sequence_number=pdu.sequence_number, command_status=status))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
