"""An asyncio SMPP 3.4 ESME: bind, submit within a window and a rate, take deliver_sm (and data_sm).

:class:`SMPPClient` keeps one transceiver link (or a transmitter and a receiver link)
bound to an SMSC, answers the SMSC's enquire_link, unbind and unknown commands, probes
the link with its own enquire_link and reconnects with exponential back-off when it dies.

The rule that shapes the receiving side: a deliver_sm is acknowledged (deliver_sm_resp)
only after the handler it was given to has returned. deliver_sm PDUs that arrive together
are handed over in one batch; if the handler raises, no deliver_sm_resp goes out for that
batch and the SMSC sends the PDUs again later (after a timeout or a reconnect).

The sending side: :meth:`SMPPClient.submit` splits a text with
:func:`~smscope.smpp.pdu.split_for_submit`, sends each part within the window (maximum
outstanding submit_sm) and the rate (a token bucket), retries a part the SMSC throttled or
whose queue was full, and returns a :class:`SubmitResult`. A part sent on a link that died
before its answer came is reported *in doubt*: it may or may not have been accepted, so it
is never sent again on its own.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

from smscope.errors import SmscopeError
from smscope.receipts.pdu import is_receipt
from smscope.smpp.constants import RESPONSE_BIT, CommandStatus, status_name
from smscope.smpp.link import Link, LinkLost, TokenBucket
from smscope.smpp.pdu import (
    PDU,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSM,
    DataSMResp,
    DeliverSM,
    DeliverSMResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    InvalidPDUError,
    SplitMode,
    SubmitSM,
    Unbind,
    UnbindResp,
    UnknownCommandError,
    decode,
    encode,
    split_for_submit,
)

__all__ = [
    "BindError",
    "DeliverHandler",
    "PartResult",
    "SMPPClient",
    "SMPPError",
    "SubmitResult",
    "describe_status",
]

log = logging.getLogger(__name__)

_S = CommandStatus

#: what an SMSC pushes to an ESME: deliver_sm, or data_sm (which some SMSCs use for
#: receipts and MO messages alike)
Delivered = DeliverSM | DataSM

#: async callable given a batch of deliver_sm / data_sm PDUs; acknowledged (their
#: ``*_resp`` with status 0) only once it returns
DeliverHandler = Callable[[list[Delivered]], Awaitable[None]]

BindMode = Literal["transceiver", "transmitter+receiver", "transmitter", "receiver"]

#: most deliver_sm PDUs handed to a handler in one call
MAX_BATCH: Final = 500
#: deliver_sm PDUs waiting for a handler beyond which the links stop reading
MAX_INBOX: Final = 4 * MAX_BATCH

#: statuses after which a part is sent again (after a pause) instead of failing
_RETRY_STATUSES: Final = frozenset({int(_S.ESME_RTHROTTLED), int(_S.ESME_RMSGQFUL)})

_PHRASES: Final[dict[int, str]] = {
    _S.ESME_RINVMSGLEN: "invalid message length",
    _S.ESME_RINVCMDID: "command not supported by the SMSC",
    _S.ESME_RINVBNDSTS: "not bound for this command",
    _S.ESME_RALYBND: "already bound",
    _S.ESME_RINVREGDLVFLG: "invalid registered_delivery",
    _S.ESME_RSYSERR: "SMSC system error",
    _S.ESME_RINVSRCADR: "invalid source address",
    _S.ESME_RINVDSTADR: "invalid destination",
    _S.ESME_RBINDFAIL: "bind failed",
    _S.ESME_RINVPASWD: "invalid password",
    _S.ESME_RINVSYSID: "invalid system_id",
    _S.ESME_RMSGQFUL: "message queue full",
    _S.ESME_RINVSERTYP: "invalid service type",
    _S.ESME_RINVESMCLASS: "invalid esm_class",
    _S.ESME_RSUBMITFAIL: "submit failed",
    _S.ESME_RINVSRCTON: "invalid source TON",
    _S.ESME_RINVSRCNPI: "invalid source NPI",
    _S.ESME_RINVDSTTON: "invalid destination TON",
    _S.ESME_RINVDSTNPI: "invalid destination NPI",
    _S.ESME_RINVSYSTYP: "invalid system_type",
    _S.ESME_RTHROTTLED: "throttled",
    _S.ESME_RINVEXPIRY: "invalid validity period",
    _S.ESME_RINVOPTPARSTREAM: "invalid optional parameters",
    _S.ESME_RUNKNOWNERR: "unknown error",
}


def describe_status(status: int) -> str:
    """``"invalid destination (ESME_RINVDSTADR)"`` for 0x0B; vendor codes by number."""
    phrase = _PHRASES.get(status)
    name = status_name(status)
    return f"{phrase} ({name})" if phrase else f"error {name}"


class SMPPError(SmscopeError):
    """The SMPP link cannot do what was asked (not connected, closed, no answer)."""


class BindError(SMPPError):
    """The SMSC refused the bind; ``command_status`` says why."""

    def __init__(self, message: str, command_status: int) -> None:
        super().__init__(message)
        self.command_status = command_status


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------

Outcome = Literal["ok", "failed", "in_doubt"]


@dataclass(frozen=True, slots=True)
class PartResult:
    """What became of one submit_sm.

    ``outcome`` is ``"ok"`` (``message_id`` set), ``"failed"`` (the SMSC refused it for
    good: ``status`` and ``error`` say why) or ``"in_doubt"`` (sent, but the link died or
    no answer came, so the SMSC may or may not have it; it was not sent again).
    """

    outcome: Outcome
    message_id: str | None = None
    status: int | None = None
    error: str | None = None
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The parts of one submitted text, in order."""

    parts: tuple[PartResult, ...]

    @property
    def ok(self) -> bool:
        return bool(self.parts) and all(p.outcome == "ok" for p in self.parts)

    @property
    def in_doubt(self) -> bool:
        return any(p.outcome == "in_doubt" for p in self.parts)

    @property
    def message_ids(self) -> list[str | None]:
        return [p.message_id for p in self.parts]

    @property
    def error(self) -> str | None:
        """The first failure or in-doubt reason, None when every part went through."""
        for part in self.parts:
            if part.outcome != "ok":
                return part.error
        return None


def delivered_resp(pdu: Delivered, status: int = 0) -> bytes:
    """The encoded deliver_sm_resp (data_sm_resp) of ``pdu``: a header and an empty
    message_id, packed directly (``encode`` of the resp object cost more than the rest
    of answering a receipt)."""
    command = DataSMResp.command_id if isinstance(pdu, DataSM) else DeliverSMResp.command_id
    return _EMPTY_RESP.pack(_EMPTY_RESP.size, command, status, pdu.sequence_number)


#: a response whose body is an empty message_id: the header, then one NUL
_EMPTY_RESP: Final = struct.Struct(">IIII1x")


# --------------------------------------------------------------------------------------
# Addresses and times
# --------------------------------------------------------------------------------------


def source_address(sender: str) -> tuple[int, int, str]:
    """(TON, NPI, address) for a sender: alphanumeric → 5/0; ``+digits`` or a long number
    → international 1/1 without "+"; a short code (at most 8 digits) → 3/0."""
    value = sender.strip()
    digits = value[1:] if value.startswith("+") else value
    if not digits.isdigit() or not digits.isascii():
        return 5, 0, value
    if value.startswith("+"):
        return 1, 1, digits
    if digits.startswith("00") and len(digits) > 8:
        return 1, 1, digits[2:]
    if len(digits) <= 8:
        return 3, 0, digits
    return 1, 1, digits


def destination_address(number: str) -> tuple[int, int, str]:
    """(1, 1, E.164 digits without "+") for an E.164 number."""
    value = number.strip()
    return 1, 1, value[1:] if value.startswith("+") else value


def relative_validity(period: dt.timedelta) -> str:
    """A validity period as an SMPP relative time, ``YYMMDDhhmmss000R``."""
    total = int(period.total_seconds())
    if total <= 0:
        raise SMPPError(f"validity period must be positive, got {period}")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days > 99:
        raise SMPPError(f"validity period {period} is over 99 days")
    return f"0000{days:02d}{hours:02d}{minutes:02d}{seconds:02d}000R"


# --------------------------------------------------------------------------------------
# Token bucket
# --------------------------------------------------------------------------------------


class _Pace:
    """Submits wait their turn for a token of the :class:`TokenBucket`, in order."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise SMPPError(f"rate must be positive, got {rate}")
        self._bucket = TokenBucket(rate)
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while not self._bucket.take():
                await asyncio.sleep(self._bucket.wait())


# --------------------------------------------------------------------------------------
# One TCP connection
# --------------------------------------------------------------------------------------


class _Link(Link):
    """One bound (or binding) connection of the client, with its read loop."""

    def __init__(
        self,
        client: SMPPClient,
        role: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer, f"SMPP {role} link")
        self.client = client
        self.role = role
        self.task: asyncio.Task[None] = asyncio.create_task(self._read_loop())
        self.keepalive: asyncio.Task[None] | None = None

    async def _read_loop(self) -> None:
        client = self.client
        try:
            async for frame in self.frames():
                self._handle_frame(frame)
                if len(client._inbox) >= MAX_INBOX:
                    # An SMSC sending faster than the handler stores: stop reading, so
                    # the socket buffers fill and TCP slows the SMSC down, instead of
                    # holding an unbounded queue of unacknowledged PDUs in memory.
                    await client._inbox_room()
        except (OSError, asyncio.IncompleteReadError) as err:
            log.info("SMPP %s link lost: %s", self.role, err)
        finally:
            self.close()

    def _handle_frame(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except UnknownCommandError as err:
            self.send(GenericNack(sequence_number=err.sequence_number or 0,
                                  command_status=err.command_status))
            return
        except InvalidPDUError as err:
            self.answer_invalid(err)
            return
        if pdu.command_id & RESPONSE_BIT:
            self.take_response(pdu)
        elif isinstance(pdu, DeliverSM | DataSM):
            self.client._inbox_put(self, pdu)
        elif isinstance(pdu, EnquireLink):
            self.send(EnquireLinkResp(sequence_number=pdu.sequence_number))
        elif isinstance(pdu, Unbind):
            log.info("SMPP %s link: the SMSC unbinds", self.role)
            self.send(UnbindResp(sequence_number=pdu.sequence_number))
            self.close()
        else:
            self.send(GenericNack(sequence_number=pdu.sequence_number,
                                  command_status=_S.ESME_RINVCMDID))


# --------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------

_BIND_CLASSES: Final = {"trx": BindTransceiver, "tx": BindTransmitter, "rx": BindReceiver}
_ROLES: Final[dict[str, tuple[str, ...]]] = {
    "transceiver": ("trx",),
    "transmitter+receiver": ("tx", "rx"),
    "transmitter": ("tx",),
    "receiver": ("rx",),
}


class SMPPClient:
    """An ESME session with one SMSC. ``await connect()``, ``await submit(...)``,
    ``await close()``; deliver_sm go to ``on_receipts`` / ``on_mo`` in batches.

    ``window``: most submit_sm awaiting their answer. ``rate``: most submit_sm a second
    (None: no limit). ``receivers``: how many links receive (deliver_sm): beyond the one
    ``bind`` opens, ``receivers - 1`` more receiver binds. An SMSC keeps a window of
    unanswered deliver_sm per link, and a deliver_sm is answered only once its batch is
    stored, so more links bring larger batches (at most :data:`MAX_BATCH`).
    ``enquire_link_interval`` / ``response_timeout``: a link whose enquire_link is not
    answered within ``response_timeout`` is dropped and bound again after
    ``reconnect_min`` seconds, doubling up to ``reconnect_max``. A part refused with
    ESME_RTHROTTLED or ESME_RMSGQFUL is sent again up to ``max_retries`` times, after
    ``retry_delay`` seconds doubling each time.

    ``handovers``: how many batches may be with the handlers at once. With 1, the next
    batch waits until the last one's handler returned; with more, a batch is handed
    over as soon as it is there, so a handler that stores batches together (a group
    commit, see :mod:`smscope.receipts.group`) finds the next one waiting the moment
    it is free. Each batch is still answered only once its own handler returned.
    """

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        system_type: str = "",
        *,
        bind: BindMode = "transceiver",
        window: int = 100,
        rate: float | None = None,
        enquire_link_interval: float = 30.0,
        response_timeout: float = 10.0,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
        max_retries: int = 5,
        retry_delay: float = 1.0,
        on_receipts: DeliverHandler | None = None,
        on_mo: DeliverHandler | None = None,
        receivers: int = 1,
        handovers: int = 1,
    ) -> None:
        if bind not in _ROLES:
            raise SMPPError(f"bind must be one of {', '.join(_ROLES)}, got {bind!r}")
        if window < 1:
            raise SMPPError(f"window must be at least 1, got {window}")
        if receivers < 1:
            raise SMPPError(f"receivers must be at least 1, got {receivers}")
        if receivers > 1 and bind == "transmitter":
            raise SMPPError("a transmitter-only SMPP client receives nothing: receivers "
                            "must be 1")
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.system_type = system_type
        self.bind = bind
        self.window = window
        self.receivers = receivers
        self.rate = rate
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.on_receipts = on_receipts
        self.on_mo = on_mo
        self.handovers = max(1, handovers)
        # the extra receiver links are roles of their own: "rx2", "rx3"…
        self._roles = _ROLES[bind] + tuple(f"rx{n}" for n in range(2, receivers + 1))
        self._tx_role = next((r for r in self._roles if not r.startswith("rx")), None)
        self._links: dict[str, _Link | None] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._window: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop  # set by connect()
        #: (loop time, future) of each submit_sm awaiting its answer, in sending order
        self._deadlines: collections.deque[tuple[float, asyncio.Future[PDU]]] = (
            collections.deque())
        self._bucket: _Pace | None = None
        self._inbox: list[tuple[_Link, Delivered]] = []
        self._room = asyncio.Event()
        self._inbox_event: asyncio.Event | None = None
        self._closing = False
        self._connected = False
        self._closed_event: asyncio.Event | None = None
        self._ref = itertools.count(1)
        #: how many times a link was bound again after dying
        self.reconnects = 0

    # -- lifecycle --------------------------------------------------------------------

    async def connect(self) -> None:
        """Open and bind every link; :class:`BindError` if the SMSC refuses,
        :class:`SMPPError` if it cannot be reached or does not answer."""
        if self._connected:
            raise SMPPError("this SMPP client is already connected")
        self._window = asyncio.Semaphore(self.window)
        self._loop = asyncio.get_running_loop()
        self._bucket = _Pace(self.rate) if self.rate else None
        self._inbox_event = asyncio.Event()
        self._closed_event = asyncio.Event()
        opened: list[_Link] = []
        try:
            for role in self._roles:
                opened.append(await self._open(role))
        except BaseException:
            for link in opened:
                link.close()
            raise
        self._connected = True
        for link in opened:
            self._links[link.role] = link
            self._ready[link.role] = asyncio.Event()
            self._ready[link.role].set()
            self._tasks.append(asyncio.create_task(self._maintain(link)))
        self._tasks.append(asyncio.create_task(self._dispatch_loop()))
        self._tasks.append(asyncio.create_task(self._expire_loop()))

    async def _open(self, role: str) -> _Link:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.response_timeout
            )
        except (OSError, TimeoutError) as err:
            raise SMPPError(
                f"cannot reach the SMSC at {self.host}:{self.port}: {err or 'timed out'}"
            ) from None
        link = _Link(self, role, reader, writer)
        bind_cls = _BIND_CLASSES[role.rstrip("0123456789")]
        try:
            future = link.request(
                bind_cls(
                    system_id=self.system_id,
                    password=self.password,
                    system_type=self.system_type,
                )
            )
            resp = await asyncio.wait_for(future, self.response_timeout)
        except LinkLost:
            raise SMPPError(
                f"the SMSC at {self.host}:{self.port} closed the connection during bind"
            ) from None
        except TimeoutError:
            link.close()
            raise SMPPError(
                f"the SMSC at {self.host}:{self.port} did not answer the bind "
                f"within {self.response_timeout}s"
            ) from None
        except BaseException:
            link.close()
            raise
        if resp.command_status != _S.ESME_ROK:
            link.close()
            raise BindError(
                f"bind refused: {describe_status(resp.command_status)}", resp.command_status
            )
        log.info("SMPP %s link bound to %s:%s", role, self.host, self.port)
        return link

    async def _maintain(self, link: _Link) -> None:
        """Keep ``link``'s role bound: keep-alive, then reconnect with back-off."""
        role = link.role
        ready = self._ready[role]
        while not self._closing:
            link.keepalive = asyncio.create_task(
                link.keep_alive(self.enquire_link_interval, self.response_timeout)
            )
            try:
                await asyncio.shield(link.task)
            finally:
                link.keepalive.cancel()
            ready.clear()
            self._links[role] = None
            if self._closing:
                return
            delay = self.reconnect_min
            while True:
                await asyncio.sleep(delay)
                if self._closing:
                    return
                try:
                    link = await self._open(role)
                    break
                except SMPPError as err:
                    log.warning("SMPP %s link: reconnect failed: %s", role, err)
                    delay = min(delay * 2, self.reconnect_max)
                except Exception:
                    log.exception("SMPP %s link: reconnect failed", role)
                    delay = min(delay * 2, self.reconnect_max)
            self.reconnects += 1
            self._links[role] = link
            ready.set()

    async def close(self) -> None:
        """Stop receiving, unbind every link (waiting up to ``response_timeout`` for
        unbind_resp) and close it. Submits sent and still unanswered end up in doubt,
        parts not sent yet fail ("not sent"); a handler still running is cancelled and
        its batch is not acknowledged (the SMSC sends it again)."""
        if self._closing:
            return
        self._closing = True
        self._room.set()
        if self._closed_event is not None:
            self._closed_event.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        links = [link for link in self._links.values() if link is not None]
        await asyncio.gather(*(self._unbind(link) for link in links))
        self._connected = False

    async def _unbind(self, link: _Link) -> None:
        if link.keepalive is not None:
            link.keepalive.cancel()
        try:
            future = link.request(Unbind())
            await asyncio.wait_for(future, self.response_timeout)
        except (LinkLost, TimeoutError, OSError):
            pass
        finally:
            link.close()
            with contextlib.suppress(Exception):
                await link.task
            with contextlib.suppress(OSError, ConnectionError):
                await link.writer.wait_closed()

    async def __aenter__(self) -> SMPPClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- submitting -----------------------------------------------------------------

    async def submit(
        self,
        text: str,
        source: str,
        destination: str,
        *,
        registered_delivery: int = 1,
        validity_period: str | dt.timedelta | None = None,
        mode: SplitMode = "udh8",
    ) -> SubmitResult:
        """Send ``text`` from ``source`` to ``destination`` (E.164), split as ``mode``
        says; the result has one :class:`PartResult` per part, in order."""
        if self._tx_role is None:
            raise SMPPError("a receiver-only SMPP client cannot submit")
        if not self._connected or self._closing:
            raise SMPPError("the SMPP client is not connected")
        limit = 0xFF if mode == "udh8" else 0xFFFF
        parts = split_for_submit(text, mode, next(self._ref) % (limit + 1))
        if not parts:
            raise SMPPError("cannot submit an empty message")
        src_ton, src_npi, src = source_address(source)
        dst_ton, dst_npi, dst = destination_address(destination)
        validity = (
            relative_validity(validity_period)
            if isinstance(validity_period, dt.timedelta)
            else validity_period or ""
        )
        pdus = [
            SubmitSM(
                source_addr_ton=src_ton,
                source_addr_npi=src_npi,
                source_addr=src,
                dest_addr_ton=dst_ton,
                dest_addr_npi=dst_npi,
                destination_addr=dst,
                esm_class=part.esm_class,
                registered_delivery=registered_delivery,
                validity_period=validity,
                data_coding=part.data_coding,
                short_message=part.short_message,
                tlvs=dict(part.tlvs),
            )
            for part in parts
        ]
        if len(pdus) == 1:  # the common case, without a task per part
            return SubmitResult((await self._submit_part(pdus[0]),))
        for pdu in pdus:  # refuse fields that cannot be sent before sending any part
            encode(pdu)
        results = await asyncio.gather(*(self._submit_part(pdu) for pdu in pdus))
        return SubmitResult(tuple(results))

    async def _submit_part(self, pdu: SubmitSM) -> PartResult:
        assert self._window is not None and self._tx_role is not None
        delay = self.retry_delay
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._tx_link()
                if self._bucket is not None:
                    await self._bucket.acquire()
            except SMPPError as err:
                return PartResult("failed", error=f"not sent: {err}", attempts=attempt - 1)
            async with self._window:
                try:
                    link = await self._tx_link()
                except SMPPError as err:
                    return PartResult("failed", error=f"not sent: {err}", attempts=attempt - 1)
                try:
                    future = link.request(pdu)
                except LinkLost:
                    # nothing was written: safe to wait for the next link and try again
                    attempt -= 1
                    continue
                # one sweeper for every deadline rather than a timer (or asyncio.wait_for)
                # per submit_sm, which costs more than the rest of sending it
                self._deadlines.append((self._loop.time() + self.response_timeout, future))
                try:
                    resp = await future
                except LinkLost:
                    return PartResult("in_doubt", error="link lost before the answer",
                                      attempts=attempt)
                except TimeoutError:
                    link.pending.pop(pdu.sequence_number, None)
                    return PartResult(
                        "in_doubt",
                        error=f"no answer within {self.response_timeout}s",
                        attempts=attempt,
                    )
            status = resp.command_status
            if status == _S.ESME_ROK:
                return PartResult("ok", message_id=getattr(resp, "message_id", ""),
                                  status=status, attempts=attempt)
            if status in _RETRY_STATUSES and attempt <= self.max_retries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max)
                continue
            return PartResult("failed", status=status, error=describe_status(status),
                              attempts=attempt)

    async def _tx_link(self) -> _Link:
        """The bound transmitting link, waiting while it is being reconnected."""
        assert self._tx_role is not None and self._closed_event is not None
        ready = self._ready[self._tx_role]
        while True:
            if self._closing:
                raise SMPPError("the SMPP client is closed")
            link = self._links.get(self._tx_role)
            if link is not None and link.alive and ready.is_set():
                return link
            waiters = [asyncio.ensure_future(ready.wait()),
                       asyncio.ensure_future(self._closed_event.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _expire_loop(self) -> None:
        """Fail the submit_sm whose answer is overdue with TimeoutError."""
        deadlines = self._deadlines
        while True:
            await asyncio.sleep(min(1.0, self.response_timeout / 4))
            now = self._loop.time()
            while deadlines and (deadlines[0][0] <= now or deadlines[0][1].done()):
                _, future = deadlines.popleft()
                if not future.done():
                    future.set_exception(TimeoutError())

    # -- receiving ------------------------------------------------------------------

    def _inbox_put(self, link: _Link, pdu: Delivered) -> None:
        self._inbox.append((link, pdu))
        if self._inbox_event is not None:
            self._inbox_event.set()

    async def _inbox_room(self) -> None:
        """Wait until the handlers have taken the inbox below :data:`MAX_INBOX`."""
        while len(self._inbox) >= MAX_INBOX and not self._closing:
            self._room.clear()
            await self._room.wait()

    async def _dispatch_loop(self) -> None:
        assert self._inbox_event is not None
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                await self._inbox_event.wait()
                self._inbox_event.clear()
                while self._inbox:
                    if len(running) >= self.handovers:
                        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                        continue
                    batch = self._inbox[:MAX_BATCH]
                    del self._inbox[:MAX_BATCH]
                    self._room.set()
                    if self.handovers == 1:
                        await self._hand_over_batch(batch)
                        continue
                    task = asyncio.create_task(self._hand_over_batch(batch))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            # closing: a batch still with its handler is not acknowledged
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _hand_over_batch(self, batch: list[tuple[_Link, Delivered]]) -> None:
        batch = [(link, pdu) for link, pdu in batch if link.alive]
        receipts = [(lk, p) for lk, p in batch if is_receipt(p)]
        mos = [(lk, p) for lk, p in batch if not is_receipt(p)]
        await self._hand_over(receipts, self.on_receipts, "receipts")
        await self._hand_over(mos, self.on_mo, "MO")

    async def _hand_over(
        self,
        items: list[tuple[_Link, Delivered]],
        handler: DeliverHandler | None,
        kind: str,
    ) -> None:
        if not items:
            return
        if handler is not None:
            try:
                await handler([pdu for _, pdu in items])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "SMPP %s handler failed on %d PDUs; not acknowledged, the SMSC will "
                    "send them again", kind, len(items)
                )
                return
        status = CommandStatus.ESME_ROK
        if handler is None:
            # Nothing here can store them: say "temporary application error" so that the
            # SMSC keeps them and tries again, rather than acknowledging what no one kept.
            log.warning("SMPP: %d %s PDUs and no handler; refused for now (RX_T_APPN)",
                        len(items), kind)
            status = CommandStatus.ESME_RX_T_APPN
        for link, pdu in items:
            try:
                link.send_encoded(delivered_resp(pdu, status))
            except (LinkLost, OSError):
                continue
