"""The SMSC side of SMPP 3.4 on asyncio: accept ESME binds, take submit_sm, push deliver_sm.

No storage and no business logic: an :class:`SMPPServer` is given an ``authenticate``
callback (bind credentials to a command_status) and a :class:`ServerHandler` (what to
answer a submit_sm, what to do when a session binds or goes away). Each bound connection
is a :class:`ServerSession`, through which the handler sends deliver_sm with
:meth:`ServerSession.deliver`.

What a session does on its own: it answers enquire_link, unbind (then closes), binds
(bind_*_resp; a second bind on the same connection gets ESME_RALYBND), PDUs sent before
a bind (ESME_RINVBNDSTS), unknown command ids (generic_nack ESME_RINVCMDID with the same
sequence number) and malformed requests (their ``*_resp`` with the status the codec
chose). It probes a bound link with its own enquire_link and closes it when no answer
comes. A stream that cannot be framed (a lying command_length) closes that connection
with a log line; the server keeps serving the others.

``max_rate`` limits submit_sm per second over the whole server (a token bucket holding
up to one second of submits); a submit_sm over it is answered ESME_RTHROTTLED without
reaching the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

from smscope.errors import PDUError, SmscopeError
from smscope.smpp.constants import RESPONSE_BIT, CommandStatus
from smscope.smpp.link import Link, LinkLost, TokenBucket, response_to
from smscope.smpp.pdu import (
    PDU,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DeliverSM,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    InvalidPDUError,
    SubmitSM,
    SubmitSMResp,
    Unbind,
    UnbindResp,
    UnknownCommandError,
    decode,
    encode,
)

__all__ = [
    "NO_RESPONSE",
    "Authenticator",
    "BindKind",
    "SMPPServer",
    "SMPPServerError",
    "ServerHandler",
    "ServerSession",
    "SubmitAnswer",
]

log = logging.getLogger(__name__)

_S = CommandStatus

BindKind = Literal["transceiver", "transmitter", "receiver"]

#: ``authenticate(system_id, password, bind_kind)``: the command_status of the bind_resp
#: (0 accepts); may be a plain function or a coroutine function
Authenticator = Callable[[str, str, BindKind], "int | Awaitable[int]"]

#: what :meth:`ServerHandler.on_submit` returns: (command_status, message_id)
SubmitAnswer = tuple[int, str]

#: what :meth:`ServerSession.deliver` returns when no deliver_sm_resp came: the link
#: dropped (or was already closed) or the answer did not come in time. Never a
#: command_status, so a caller keeps the message until it gets 0.
NO_RESPONSE: Final = -1

_BindRespClass = type[BindTransceiverResp] | type[BindTransmitterResp] | type[BindReceiverResp]
_BINDS: Final[dict[int, tuple[BindKind, _BindRespClass]]] = {
    int(BindTransceiver.command_id): ("transceiver", BindTransceiverResp),
    int(BindTransmitter.command_id): ("transmitter", BindTransmitterResp),
    int(BindReceiver.command_id): ("receiver", BindReceiverResp),
}

class SMPPServerError(SmscopeError):
    """A server or session cannot do what was asked (e.g. deliver on a transmitter bind)."""


class ServerHandler:
    """What the server does with bound sessions; subclass and override what you need.

    Every method is awaited. Exceptions are logged: from ``on_submit`` the submit_sm is
    answered ESME_RSYSERR, from the others nothing else happens.
    """

    async def on_submit(self, session: ServerSession, pdu: SubmitSM) -> SubmitAnswer:
        """The (command_status, message_id) to answer ``pdu`` with; the message_id is
        sent only with status 0. Several calls may run at once (one per submit_sm).

        A subclass may make it a plain method instead: it is then called without a task
        per submit_sm, which is what a fast SMSC (the simulator) wants."""
        return int(_S.ESME_RSYSERR), ""

    async def on_bound(self, session: ServerSession) -> None:
        """``session`` is bound. Runs as its own task, so it may call
        :meth:`ServerSession.deliver`; it is cancelled if still running when the
        session ends, before :meth:`on_unbound`."""

    async def on_unbound(self, session: ServerSession) -> None:
        """``session`` (once bound) has ended: unbind, link lost or server closed. Its
        ``on_submit`` calls have all returned by then."""


def _rate_limit(rate: float) -> TokenBucket:
    """``rate`` submit_sm a second, at most one second's worth saved."""
    if rate <= 0:
        raise SMPPServerError(f"max_rate must be positive, got {rate}")
    return TokenBucket(rate, burst=rate)


class ServerSession(Link):
    """One ESME connection. ``bind_kind`` and ``system_id`` are None until it binds."""

    def __init__(
        self, server: SMPPServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.peer = writer.get_extra_info("peername")
        super().__init__(reader, writer, f"SMPP server: {self.peer}")
        self.bind_kind: BindKind | None = None
        self.system_id: str | None = None
        self.closed = asyncio.Event()
        self._window = asyncio.Semaphore(server.deliver_window)
        self._submits: set[asyncio.Task[None]] = set()
        self._bound_task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<ServerSession {self.system_id!r} {self.bind_kind} {self.peer}>"

    @property
    def receives(self) -> bool:
        """Bound as a receiver or a transceiver (it may be sent deliver_sm)."""
        return self.bind_kind in ("transceiver", "receiver")

    # -- sending --------------------------------------------------------------------

    def _send(self, pdu: PDU) -> None:
        """Answer the ESME; a link already gone has no one left to answer."""
        with contextlib.suppress(LinkLost):
            self.send(pdu)

    async def deliver(self, pdu: DeliverSM, timeout: float | None = None) -> int:
        """Send ``pdu`` (its sequence_number is set here) and return the command_status
        of its deliver_sm_resp (or of a generic_nack), or :data:`NO_RESPONSE` if the link
        is or goes down or no answer comes within ``timeout`` (default: the server's
        ``deliver_timeout``). At most ``deliver_window`` deliver_sm are outstanding per
        session; further calls wait their turn. SMPPServerError on a session not bound
        to receive; PDUError if ``pdu`` cannot be encoded."""
        if not self.receives:
            raise SMPPServerError(f"cannot deliver to {self!r}: not bound to receive")
        encode(pdu)  # a PDU that cannot be sent fails here, not as a lost link
        wait = self.server.deliver_timeout if timeout is None else timeout
        async with self._window:
            resp = await self.ask(pdu, wait)
        if resp is None:
            return NO_RESPONSE
        return resp.command_status

    async def unbind(self, timeout: float | None = None) -> None:
        """Send unbind, wait for unbind_resp (at most ``timeout``, default the server's
        ``response_timeout``), then close the connection."""
        if self.alive and self.bind_kind is not None:
            await self.ask(Unbind(), self.server.response_timeout if timeout is None
                            else timeout)
        self.close()

    # -- receiving ------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes, then tell the handler."""
        try:
            async for frame in self.frames():
                await self._handle_frame(frame)
        except (OSError, asyncio.IncompleteReadError) as err:
            log.info("SMPP server: link to %s lost: %s", self.peer, err)
        except Exception:
            log.exception("SMPP server: session with %s failed", self.peer)
        finally:
            self.close()
            await self._finish()

    async def _finish(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        try:
            if self.bind_kind is not None:
                if self._submits:
                    await asyncio.gather(*self._submits, return_exceptions=True)
                if self._bound_task is not None and not self._bound_task.done():
                    self._bound_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await self._bound_task
                log.info("SMPP server: %r ended", self)
                try:
                    await self.server.handler.on_unbound(self)
                except Exception:
                    log.exception("SMPP server: on_unbound failed for %r", self)
        finally:
            with contextlib.suppress(OSError, ConnectionError):
                await self.writer.wait_closed()
            self.server._sessions.discard(self)
            self.closed.set()

    async def _handle_frame(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except UnknownCommandError as err:
            log.info("SMPP server: %s: %s", self.peer, err)
            self._send(GenericNack(sequence_number=err.sequence_number or 0,
                                   command_status=err.command_status))
            return
        except InvalidPDUError as err:
            self.answer_invalid(err)
            return
        command_id = pdu.command_id
        seq = pdu.sequence_number
        if command_id & RESPONSE_BIT:
            self.take_response(pdu)
            return
        if isinstance(pdu, EnquireLink):
            self._send(EnquireLinkResp(sequence_number=seq))
        elif command_id in _BINDS:
            await self._bind(pdu)
        elif self.bind_kind is None:
            self._send(response_to(pdu, seq, _S.ESME_RINVBNDSTS))
        elif isinstance(pdu, SubmitSM):
            self._submit(pdu)
        elif isinstance(pdu, Unbind):
            log.info("SMPP server: %r unbinds", self)
            self._send(UnbindResp(sequence_number=seq))
            self.close()
        else:
            self._send(response_to(pdu, seq, _S.ESME_RINVCMDID))

    async def _bind(self, pdu: PDU) -> None:
        kind, resp_cls = _BINDS[pdu.command_id]
        seq = pdu.sequence_number
        server = self.server
        if self.bind_kind is not None:
            self._send(resp_cls(sequence_number=seq, command_status=_S.ESME_RALYBND))
            return
        assert isinstance(pdu, BindReceiver | BindTransmitter | BindTransceiver)
        try:
            result = server.authenticate(pdu.system_id, pdu.password, kind)
            status = int(await result if inspect.isawaitable(result) else result)
        except Exception:
            log.exception("SMPP server: authenticate failed for %r", pdu.system_id)
            status = int(_S.ESME_RBINDFAIL)
        if not self.alive:
            return
        if status != _S.ESME_ROK:
            log.info("SMPP server: %s: %s bind as %r refused (0x%08X)",
                     self.peer, kind, pdu.system_id, status)
            self._send(resp_cls(sequence_number=seq, command_status=status))
            return
        self._send(resp_cls(sequence_number=seq, system_id=server.system_id))
        self.bind_kind = kind
        self.system_id = pdu.system_id
        log.info("SMPP server: %r bound", self)
        self._bound_task = asyncio.create_task(self._on_bound())
        if server.enquire_link_interval:
            self._keepalive = asyncio.create_task(
                self.keep_alive(server.enquire_link_interval, server.response_timeout))

    async def _on_bound(self) -> None:
        try:
            await self.server.handler.on_bound(self)
        except Exception:
            log.exception("SMPP server: on_bound failed for %r", self)

    def _submit(self, pdu: SubmitSM) -> None:
        server = self.server
        if self.bind_kind == "receiver":
            self._send(SubmitSMResp(sequence_number=pdu.sequence_number,
                                    command_status=_S.ESME_RINVBNDSTS))
            return
        if server._limit is not None and not server._limit.take():
            server.throttled += 1
            self._send(SubmitSMResp(sequence_number=pdu.sequence_number,
                                    command_status=_S.ESME_RTHROTTLED))
            return
        if not server._async_submit:
            answer: Any
            try:
                answer = server.handler.on_submit(self, pdu)
            except Exception:
                log.exception("SMPP server: on_submit failed for %r", self)
                answer = (int(_S.ESME_RSYSERR), "")
            self._answer(pdu, answer)
            return
        task = asyncio.create_task(self._answer_submit(pdu))
        self._submits.add(task)
        task.add_done_callback(self._submits.discard)

    async def _answer_submit(self, pdu: SubmitSM) -> None:
        try:
            answer = await self.server.handler.on_submit(self, pdu)
        except Exception:
            log.exception("SMPP server: on_submit failed for %r", self)
            answer = (int(_S.ESME_RSYSERR), "")
        self._answer(pdu, answer)

    def _answer(self, pdu: SubmitSM, answer: SubmitAnswer) -> None:
        status, message_id = int(answer[0]), answer[1]
        resp = SubmitSMResp(sequence_number=pdu.sequence_number, command_status=status,
                            message_id=message_id if status == _S.ESME_ROK else "")
        try:
            self._send(resp)
        except PDUError as err:
            log.error("SMPP server: cannot answer a submit_sm of %r: %s", self, err)
            self._send(SubmitSMResp(sequence_number=pdu.sequence_number,
                                    command_status=_S.ESME_RSYSERR))

class SMPPServer:
    """An SMPP 3.4 SMSC endpoint: ``await start()``, ``port``, ``await close()``.

    ``authenticate(system_id, password, bind_kind)`` returns the bind's command_status
    (0 accepts, e.g. ESME_RINVPASWD refuses); ``handler`` answers submit_sm and hears of
    sessions. ``system_id`` is sent in bind responses. ``max_rate``: most submit_sm a
    second over the whole server (None: no limit). ``deliver_window`` /
    ``deliver_timeout``: most deliver_sm outstanding per session, and how long
    :meth:`ServerSession.deliver` waits for an answer. ``enquire_link_interval`` (None:
    never) / ``response_timeout``: a bound link that does not answer its enquire_link
    within ``response_timeout`` is closed.
    """

    def __init__(
        self,
        authenticate: Authenticator,
        handler: ServerHandler | None = None,
        *,
        system_id: str = "smscope",
        max_rate: float | None = None,
        deliver_window: int = 10,
        deliver_timeout: float = 10.0,
        enquire_link_interval: float | None = 30.0,
        response_timeout: float = 10.0,
    ) -> None:
        if deliver_window < 1:
            raise SMPPServerError(f"deliver_window must be at least 1, got {deliver_window}")
        try:  # refused here, not as a failed bind later
            encode(BindTransceiverResp(system_id=system_id))
        except PDUError as exc:
            raise SMPPServerError(f"system_id cannot be sent: {exc}") from None
        self.authenticate = authenticate
        self.handler = handler if handler is not None else ServerHandler()
        self.system_id = system_id
        self.max_rate = max_rate
        self.deliver_window = deliver_window
        self.deliver_timeout = deliver_timeout
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        #: submit_sm answered ESME_RTHROTTLED because of ``max_rate``
        self.throttled = 0
        self._limit = _rate_limit(max_rate) if max_rate else None
        self._async_submit = inspect.iscoroutinefunction(self.handler.on_submit)
        self._server: asyncio.Server | None = None
        self._sessions: set[ServerSession] = set()

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when started with port 0)."""
        if self._server is None or not self._server.sockets:
            raise SMPPServerError("the SMPP server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def sessions(self) -> list[ServerSession]:
        """The bound sessions."""
        return [s for s in self._sessions if s.bind_kind is not None and s.alive]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._server is not None:
            raise SMPPServerError("the SMPP server is already started")
        self._server = await asyncio.start_server(self._serve, host, port)
        log.info("SMPP server listening on %s:%s", host, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = ServerSession(self, reader, writer)
        self._sessions.add(session)
        await session.run()

    async def close(self) -> None:
        """Stop listening, unbind every session (each waits up to ``response_timeout``
        for unbind_resp), and wait until every session has ended (its on_submit calls
        still running are waited for, then on_unbound is called)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        sessions = list(self._sessions)
        await asyncio.gather(*(s.unbind() for s in sessions), return_exceptions=True)
        for session in sessions:
            session.close()
        if sessions:
            await asyncio.gather(*(s.closed.wait() for s in sessions))
        await server.wait_closed()

    async def __aenter__(self) -> SMPPServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
