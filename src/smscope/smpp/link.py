"""What both ends of an SMPP connection share: one TCP link and its requests in flight.

The client (:mod:`smscope.smpp.client`) and the server (:mod:`smscope.smpp.server`)
differ in what they do with a PDU, not in how they move PDUs: sequence numbers,
requests waiting for their response, reading frames off the socket, answering what
cannot be decoded, and the enquire_link keep-alive are written once, here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Final

from smscope.smpp.constants import RESPONSE_BIT
from smscope.smpp.pdu import (
    PDU,
    PDU_CLASSES,
    EnquireLink,
    GenericNack,
    InvalidPDUError,
    PDUReader,
    encode,
)

log = logging.getLogger(__name__)

#: re-armed after each read: Linux turns quick ACKs off again by itself, and a peer
#: with Nagle on would otherwise wait for our delayed ACK before sending more
QUICKACK: Final = getattr(socket, "TCP_QUICKACK", None)


#: PDUs written in one turn of the event loop go out together, but no more than this
#: many: the peer starts on the first ones while we write the rest. A whole window in
#: one send makes both ends take turns instead of working at once (measured with
#: bench/smpp.py, window 100: 16 → 10k/s, 64 → 21k/s, unbounded → 11k/s).
FLUSH_EVERY: Final = 64


#: ``callback(sequence_number, response or None)`` of :meth:`Link.request_then`
ResponseCallback = Callable[[int, PDU | None], None]


class LinkLost(Exception):
    """The connection is gone (or was closed) before the answer came."""


def response_to(pdu_or_id: PDU | int, sequence_number: int, status: int) -> PDU:
    """The ``*_resp`` of a request (generic_nack if it has none) with ``status``."""
    command_id = pdu_or_id if isinstance(pdu_or_id, int) else pdu_or_id.command_id
    cls = PDU_CLASSES.get(command_id | RESPONSE_BIT)
    if cls is None:
        return GenericNack(sequence_number=sequence_number, command_status=status)
    return cls(sequence_number=sequence_number, command_status=status)


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up: the pace of submit_sm, for
    the client (which waits) and the server (which refuses with ESME_RTHROTTLED)."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._stamp = time.monotonic()

    def take(self) -> bool:
        """Take a token if there is one."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next token (after a :meth:`take` that failed)."""
        return max(0.0, (1.0 - self._tokens) / self.rate)


class Link:
    """One TCP connection carrying SMPP: send, request/response, frames, keep-alive."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 name: str) -> None:
        self.reader = reader
        self.writer = writer
        self.name = name
        self.alive = True
        self.pending: dict[int, asyncio.Future[PDU]] = {}
        #: requests answered through a callback instead of a future (see request_then)
        self.callbacks: dict[int, ResponseCallback] = {}
        self._seq = itertools.count(1)
        # PDUs written in one turn of the event loop leave in one send(): a syscall per
        # PDU would cost more than encoding it
        self._out: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self.sock: socket.socket | None = writer.get_extra_info("socket")
        if self.sock is not None:
            with contextlib.suppress(OSError):  # small PDUs must not wait for Nagle
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- sending --------------------------------------------------------------------

    def next_sequence(self) -> int:
        seq = next(self._seq)
        if seq > 0x7FFFFFFF:  # sequence numbers are 31-bit; wrap to 1
            self._seq = itertools.count(2)
            seq = 1
        return seq

    def send(self, pdu: PDU) -> None:
        if not self.alive:
            raise LinkLost
        self._write(encode(pdu))

    def send_encoded(self, data: bytes) -> None:
        """Send a PDU encoded already (answers made by the thousand, whose bytes are a
        header and a constant)."""
        if not self.alive:
            raise LinkLost
        self._write(data)

    def _write(self, data: bytes) -> None:
        out = self._out
        if not out:
            self._loop.call_soon(self.flush)
        out.append(data)
        if len(out) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Hand what was written to the socket now (it is done at the end of the turn
        of the event loop anyway)."""
        if self._out and self.alive:
            data = b"".join(self._out)
            self._out.clear()
            self.writer.write(data)

    def request(self, pdu: PDU) -> asyncio.Future[PDU]:
        """Send a request (its sequence number is set here); the future gets its
        response, or :class:`LinkLost`."""
        if not self.alive:
            raise LinkLost
        pdu.sequence_number = self.next_sequence()
        data = encode(pdu)
        future: asyncio.Future[PDU] = asyncio.get_running_loop().create_future()
        self.pending[pdu.sequence_number] = future
        self._write(data)
        return future

    def request_then(self, pdu: PDU, callback: ResponseCallback) -> int:
        """Send a request and call ``callback(sequence_number, response)`` when its
        response comes, or ``callback(sequence_number, None)`` if the link goes first;
        returns the sequence number. Cheaper than a future for many small requests
        (the simulator's receipts); no timeout: drop the entry from :attr:`callbacks`
        to give up on it."""
        if not self.alive:
            raise LinkLost
        seq = pdu.sequence_number = self.next_sequence()
        data = encode(pdu)
        self.callbacks[seq] = callback
        self._write(data)
        return seq

    async def ask(self, pdu: PDU, timeout: float) -> PDU | None:
        """Send a request and wait for its response; None if none comes in time."""
        try:
            future = self.request(pdu)
        except LinkLost:
            return None
        try:
            return await asyncio.wait_for(future, timeout)
        except (LinkLost, TimeoutError):
            self.pending.pop(pdu.sequence_number, None)
            return None

    def close(self) -> None:
        """Drop the connection now; every request in flight fails with LinkLost."""
        if not self.alive:
            return
        self.flush()  # what was sent before close (an unbind_resp, say) still goes
        self.alive = False
        self.writer.close()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(LinkLost())
        self.pending.clear()
        callbacks, self.callbacks = self.callbacks, {}
        for seq, callback in callbacks.items():
            callback(seq, None)

    # -- receiving ------------------------------------------------------------------

    async def frames(self) -> AsyncIterator[bytes]:
        """The frames read off the socket, until it closes or sends garbage.

        OSError and IncompleteReadError reach the caller, who knows what a lost link
        means for it.
        """
        reader = PDUReader()
        while self.alive:
            data = await self.reader.read(65536)
            if not data:
                return
            if QUICKACK is not None and self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
            while self.alive:
                try:
                    frames = reader.feed(data)
                except InvalidPDUError as err:
                    log.warning("%s: unreadable stream (%s), closing", self.name, err)
                    self.close()
                    return
                data = b""
                for frame in frames:
                    yield frame
                    if not self.alive:
                        return
                # a lying length right after complete frames is only seen on the next
                # feed: look again while a header is waiting
                if not frames or reader.pending < 4:
                    break

    def take_response(self, pdu: PDU) -> None:
        """Hand a response to the request waiting for it."""
        future = self.pending.pop(pdu.sequence_number, None)
        if future is not None and not future.done():
            future.set_result(pdu)
            return
        callback = self.callbacks.pop(pdu.sequence_number, None)
        if callback is not None:
            callback(pdu.sequence_number, pdu)
        elif future is None and not isinstance(pdu, GenericNack):
            log.info("%s: unexpected %s (sequence %d)", self.name, type(pdu).__name__,
                     pdu.sequence_number)

    def answer_invalid(self, err: InvalidPDUError) -> None:
        """Answer a PDU the codec refused: its ``*_resp`` with the status the codec
        chose; a bad response fails its request; no header at all closes the link."""
        seq, command_id = err.sequence_number, err.command_id
        if seq is None or command_id is None:
            log.warning("%s: %s, closing", self.name, err)
            self.close()
            return
        if command_id & RESPONSE_BIT:
            log.warning("%s: bad response: %s", self.name, err)
            future = self.pending.pop(seq, None)
            if future is not None and not future.done():
                future.set_exception(LinkLost())
            callback = self.callbacks.pop(seq, None)
            if callback is not None:
                callback(seq, None)
            return
        log.info("%s: %s", self.name, err)
        with contextlib.suppress(LinkLost):
            self.send(response_to(command_id, seq, err.command_status))

    async def keep_alive(self, interval: float, timeout: float) -> None:
        """enquire_link every ``interval``; no answer within ``timeout`` closes the link."""
        while self.alive:
            await asyncio.sleep(interval)
            if not self.alive:
                return
            if await self.ask(EnquireLink(), timeout) is None:
                if self.alive:
                    log.warning("%s: no enquire_link_resp in %ss, closing", self.name,
                                timeout)
                    self.close()
                return
