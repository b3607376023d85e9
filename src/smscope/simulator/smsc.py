"""The operator simulator: an SMSC on :mod:`smscope.smpp.server` with outcomes from a profile.

:class:`Simulator` accepts binds with one system_id and password, answers each
submit_sm with a message id (or the error an override asks for), plans the message's
receipts (and reply) with a :class:`~smscope.simulator.planner.Planner`, and sends each
one as a deliver_sm when it is due, to a session of the same system_id bound to receive.

Receipts behave as real SMSCs' do, because that is what smscope has to survive:

* a receipt (or reply) is kept until a deliver_sm_resp with status 0 answers it. No
  answer within ``deliver_timeout``, an error status, a generic_nack or a lost link
  leave it to be sent again — ``resend_after`` later, and at once when a client binds
  again — with the same id, stat and dates. An acknowledged one is never sent again;
* at most ``deliver_window`` deliver_sm are outstanding per session;
* receipts owed while no client is bound to receive wait for one.

With ``hold_receipts=True`` receipts and replies are planned as usual but none is sent
until :meth:`Simulator.release_receipts`; then whatever is due goes out through the
same windows, timeouts and resends. That separates a client's receipt handling from
its submitting: submit a campaign, then measure a flood of receipts alone.

Given a ``public_url`` and a profile with ``[clicks]``, it also opens the tracked link
of some delivered messages over HTTP (:mod:`~smscope.simulator.clicks`).

:class:`~smscope.simulator.record.Record` counts everything, for tests to compare with.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import heapq
import itertools
import logging
import math
import signal
import time
from collections.abc import Callable
from pathlib import Path

from smscope.errors import PDUError, SmscopeError
from smscope.simulator.clicks import Clicker
from smscope.simulator.deliveries import Delivery, handset_address, quote_of, receipt_id
from smscope.simulator.planner import MAX_OPEN_GROUPS, GroupKey, Plan, Planner
from smscope.simulator.profile import Profile
from smscope.simulator.record import Record
from smscope.smpp.constants import CommandStatus, EsmClass
from smscope.smpp.link import LinkLost
from smscope.smpp.pdu import PDU, InvalidPDUError, SubmitSM, decode_text, parse_udh
from smscope.smpp.server import BindKind, ServerHandler, ServerSession, SMPPServer
from smscope.smpp.tlv import Tag

__all__ = ["Simulator", "SimulatorError", "run_until_signalled"]

log = logging.getLogger(__name__)

_S = CommandStatus


class SimulatorError(SmscopeError):
    """The simulator cannot start (e.g. its port is taken)."""


class _Account:
    """What is owed to the clients of one system_id: a heap of deliveries by due time."""

    def __init__(self, *, held: bool = False) -> None:
        self.heap: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        #: each pump's wake-up event and the loop time it sleeps until
        self.pumps: dict[asyncio.Event, float] = {}
        #: nothing is sent while True (receipts held), however due
        self.held = held

    def push(self, item: Delivery) -> None:
        heapq.heappush(self.heap, (item.due, next(self._order), item))
        if self.held:  # no pump would send it: waking them is wasted work
            return
        for wake, until in self.pumps.items():
            if item.due < until:
                wake.set()

    def rearm(self, now: float) -> None:
        """A client bound again: every delivery already sent once is due now."""
        if any(item.sends for _, _, item in self.heap):
            self.heap = [
                (now, order, item) if item.sends else (due, order, item)
                for due, order, item in self.heap
            ]
            heapq.heapify(self.heap)
        for wake in self.pumps:
            wake.set()

    def release(self) -> None:
        """Stop holding: the pumps send what is due, from now on as usual."""
        self.held = False
        for wake in self.pumps:
            wake.set()


class _Pump:
    """Sends an account's due deliveries to one bound session, within its window."""

    def __init__(self, sim: Simulator, account: _Account, session: ServerSession) -> None:
        self.sim = sim
        self.account = account
        self.session = session
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        #: sequence number → (delivery, loop time sent), oldest first
        self.inflight: dict[int, tuple[Delivery, float]] = {}

    async def run(self) -> None:
        account, loop = self.account, self.loop
        window = self.sim.server.deliver_window
        timeout = self.sim.server.deliver_timeout
        account.pumps[self.wake] = 0.0
        try:
            while self.session.alive:
                now = loop.time()
                self._expire(now - timeout)
                heap = account.heap
                held = account.held
                while not held and len(self.inflight) < window and heap and heap[0][0] <= now:
                    item = heapq.heappop(heap)[2]
                    if item.acked:  # a copy sent twice was answered meanwhile
                        continue
                    if not self._send(item, now):
                        account.push(item)
                        return
                if held or len(self.inflight) >= window or not heap:
                    until = now + timeout if self.inflight else math.inf
                else:
                    until = heap[0][0]
                if self.inflight:
                    until = min(until, next(iter(self.inflight.values()))[1] + timeout)
                account.pumps[self.wake] = until
                self.wake.clear()
                timer = None if until == math.inf else loop.call_at(until, self.wake.set)
                try:
                    await self.wake.wait()
                finally:
                    if timer is not None:
                        timer.cancel()
        finally:
            account.pumps.pop(self.wake, None)

    def _send(self, item: Delivery, now: float) -> bool:
        try:
            pdu = item.pdu()
        except PDUError as exc:  # a profile's reply too long for one SMS, say
            log.error("simulator: cannot send %r: %s; dropped", item, exc)
            return True
        try:
            seq = self.session.request_then(pdu, self._answered)
        except LinkLost:
            return False
        self.inflight[seq] = (item, now)
        record = self.sim.record
        tally = record.receipts if item.kind == "receipt" else record.mo
        if item.sends:
            tally.resent += 1
        else:
            tally.sent += 1
            if item.twice:
                self.inflight[self.session.request_then(item.pdu(), self._answered)] = (
                    item, now)
                record.duplicated += 1
        item.sends += 1
        return True

    def _answered(self, seq: int, resp: PDU | None) -> None:
        """The deliver_sm_resp (or generic_nack) of ``seq``; None: the link is gone."""
        entry = self.inflight.pop(seq, None)
        if entry is None:  # given up on already (timed out)
            return
        item = entry[0]
        if item.acked:  # the other copy of a receipt sent twice
            return
        if resp is not None and resp.command_status == _S.ESME_ROK:
            item.acked = True
            tally = self.sim.record.receipts if item.kind == "receipt" else self.sim.record.mo
            tally.acked += 1
        else:
            self._again(item)
        self.wake.set()

    def _expire(self, sent_before: float) -> None:
        """Give up waiting for answers to deliveries sent before ``sent_before``."""
        while self.inflight:
            seq, (item, sent) = next(iter(self.inflight.items()))
            if sent > sent_before:
                return
            del self.inflight[seq]
            self.session.callbacks.pop(seq, None)
            log.info("simulator: no deliver_sm_resp for %r, will send it again", item)
            self._again(item)

    def _again(self, item: Delivery) -> None:
        if item.acked:
            return
        item.due = self.loop.time() + self.sim.profile.resend_after
        self.account.push(item)


class Simulator(ServerHandler):
    """An SMSC that plays out a :class:`Profile`. ``await start(host, port)``,
    ``await close()``; :attr:`record` counts what happened."""

    def __init__(
        self,
        profile: Profile,
        *,
        seed: int = 0,
        system_id: str = "smscope",
        password: str = "secret",
        max_rate: float | None = None,
        deliver_window: int = 100,
        deliver_timeout: float = 10.0,
        enquire_link_interval: float | None = 30.0,
        hold_receipts: bool = False,
        public_url: str | None = None,
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.system_id = system_id
        self.password = password
        self.planner = Planner(profile, seed)
        self._record = Record()
        self.server = SMPPServer(
            self._authenticate, self, system_id="smscope-sim", max_rate=max_rate,
            deliver_window=deliver_window, deliver_timeout=deliver_timeout,
            enquire_link_interval=enquire_link_interval,
        )
        self._accounts: dict[str, _Account] = {}
        self._pumps: dict[ServerSession, _Pump] = {}
        # ids differ from one run to the next (a restarted simulator must not hand out
        # ids a client already holds), and grow within a run
        self._ids = itertools.count(time.time_ns() // 1000)
        self._hex_ids = profile.submit_ids == "hex"
        self._holding = hold_receipts
        self._loop: asyncio.AbstractEventLoop  # set by start()
        # clicks only where there is a server of ours to click: tracked links of
        # ``public_url``, nothing else
        self._clicker = (Clicker(public_url, self._record)
                         if public_url and profile.clicks.rate else None)
        #: the parts seen of long messages that will be clicked: their text is needed whole
        self._click_parts: dict[GroupKey, dict[int, str]] = {}

    @property
    def record(self) -> Record:
        self._record.throttled = self.server.throttled
        return self._record

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def holding_receipts(self) -> bool:
        """True while receipts and replies are held (``hold_receipts=True``, not yet
        released)."""
        return self._holding

    def release_receipts(self) -> None:
        """Send the receipts and replies held so far, and every later one as it falls
        due: holding ends for good. Does nothing if nothing is held. Call it from the
        simulator's event loop (a signal handler added with ``add_signal_handler`` is)."""
        if not self._holding:
            return
        self._holding = False
        owed = sum(len(account.heap) for account in self._accounts.values())
        log.info("simulator: receipts released, %d owed", owed)
        for account in self._accounts.values():
            account.release()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen; :class:`SimulatorError` if the address cannot be used."""
        self._loop = asyncio.get_running_loop()
        try:
            await self.server.start(host, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SimulatorError(
                    f"port {port} on {host} is already in use: stop what listens there or "
                    "choose another with --port"
                ) from None
            raise SimulatorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") \
                from None

    async def close(self) -> None:
        """Unbind every client and stop listening."""
        await self.server.close()
        if self._clicker is not None:
            await self._clicker.close()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- sessions -----------------------------------------------------------------------

    def _authenticate(self, system_id: str, password: str, kind: BindKind) -> int:
        if system_id == self.system_id and password == self.password:
            return int(_S.ESME_ROK)
        return int(_S.ESME_RINVPASWD)

    def _account(self, system_id: str | None) -> _Account:
        key = system_id or ""
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = _Account(held=self._holding)
        return account

    async def on_bound(self, session: ServerSession) -> None:
        if not session.receives:
            return
        account = self._account(session.system_id)
        account.rearm(asyncio.get_running_loop().time())
        pump = self._pumps[session] = _Pump(self, account, session)
        try:
            await pump.run()
        finally:
            self._pumps.pop(session, None)

    # -- submits ------------------------------------------------------------------------

    def on_submit(  # type: ignore[override]  # plain: no task per submit_sm
        self, session: ServerSession, pdu: SubmitSM
    ) -> tuple[int, str]:
        destination = pdu.destination_addr
        if not destination:
            return int(_S.ESME_RINVDSTADR), ""
        try:
            group, parts, seqnum, body = _concatenation(pdu)
        except InvalidPDUError:
            return int(_S.ESME_RINVMSGLEN), ""
        plan, first = self.planner.plan(destination, group, parts)
        record = self._record
        if plan.submit_status:
            record.refused += 1
            return plan.submit_status, ""
        number = next(self._ids)
        message_id = f"{number:x}" if self._hex_ids else str(number)
        record.submitted += 1
        record.numbers.add(destination)
        self._schedule(session, pdu, plan, first, message_id, body)
        if plan.click_delay is not None and self._clicker is not None:
            self._click(pdu, plan, group, parts, seqnum, body)
        return int(_S.ESME_ROK), message_id

    def _click(self, pdu: SubmitSM, plan: Plan, group: GroupKey | None, parts: int,
               seqnum: int, body: bytes) -> None:
        """Plan the click of a message once its whole text has come."""
        assert self._clicker is not None and plan.click_delay is not None
        try:
            text = decode_text(body, pdu.data_coding)
        except (PDUError, ValueError):
            return
        if group is not None:
            seen = self._click_parts.get(group)
            if seen is None:
                if len(self._click_parts) >= MAX_OPEN_GROUPS:
                    self._click_parts.pop(next(iter(self._click_parts)))
                seen = self._click_parts[group] = {}
            seen[seqnum] = text
            if len(seen) < parts:
                return
            del self._click_parts[group]
            text = "".join(seen[n] for n in sorted(seen))
        self._clicker.click(text, plan.latency + plan.click_delay)

    def _schedule(self, session: ServerSession, pdu: SubmitSM, plan: Plan, first: bool,
                  message_id: str, body: bytes) -> None:
        profile, record = self.profile, self._record
        account = self._account(session.system_id)
        now = self._loop.time()
        wall = time.time()
        handset = handset_address(pdu.destination_addr, pdu.dest_addr_ton, pdu.dest_addr_npi)
        sender = (pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr)
        outcome = plan.outcome
        wanted = pdu.registered_delivery & 0x03  # 1 (or 3): every receipt; 2: failures
        failed = outcome.stat != "DELIVRD"
        if wanted and (wanted != 2 or failed):
            fmt = profile.receipt
            rid = receipt_id(message_id, profile.submit_ids, fmt.id)
            quote = quote_of(decode_text(body, pdu.data_coding)) if fmt.text_key else ""
            steps = [(stat, at, False) for stat, at in plan.intermediates]
            if outcome.silent:
                record.silent += 1
            else:
                steps.append((outcome.stat, plan.latency, True))
                record.by_stat[outcome.stat] += 1
            early = self._pumps.get(session) if plan.early and not account.held else None
            for stat, at, final in steps:
                item = Delivery(
                    "receipt", session.system_id or "", now + at, handset=handset,
                    sender=sender, rid=rid, stat=stat,
                    err=outcome.err_text if final else "000",
                    gsm_error=outcome.gsm_error if final else None, final=final,
                    submitted=wall, done=wall + at, quote=quote,
                    fmt=fmt,
                )
                record.receipts.planned += 1
                if final:
                    item.twice = plan.duplicate
                    if early is not None and early._send(item, now):
                        # written now, so it leaves before the submit_sm_resp
                        record.early += 1
                        continue
                account.push(item)
        if first and plan.reply is not None:
            account.push(Delivery(
                "mo", session.system_id or "", now + plan.latency + plan.reply_delay,
                handset=handset, sender=sender, text=plan.reply,
            ))
            record.mo.planned += 1


def _concatenation(pdu: SubmitSM) -> tuple[GroupKey | None, int, int, bytes]:
    """The message a part belongs to (None for a whole message), its number of parts,
    the part's number (from 1), and the part's user data without its header."""
    body = pdu.short_message or pdu.tlvs.get(Tag.MESSAGE_PAYLOAD, b"")
    if not isinstance(body, bytes):
        body = b""
    reference = total = None
    seqnum = 1
    if pdu.esm_class & EsmClass.UDHI and body:
        concat, body = parse_udh(body)
        if concat is not None:
            reference, total, seqnum = concat.reference, concat.total, concat.seqnum
    elif Tag.SAR_TOTAL_SEGMENTS in pdu.tlvs:
        ref, count = pdu.tlvs.get(Tag.SAR_MSG_REF_NUM), pdu.tlvs[Tag.SAR_TOTAL_SEGMENTS]
        number = pdu.tlvs.get(Tag.SAR_SEGMENT_SEQNUM)
        if isinstance(ref, int) and isinstance(count, int):
            reference, total = ref, count
            seqnum = number if isinstance(number, int) else 1
    if reference is None or total is None or total < 2:
        return None, 1, 1, body
    return (pdu.source_addr, pdu.destination_addr, reference, total), total, seqnum, body


async def run_until_signalled(
    simulator: Simulator,
    host: str,
    port: int,
    record_path: Path | None = None,
    on_ready: Callable[[Simulator], None] | None = None,
) -> Record:
    """Serve until SIGINT or SIGTERM, then unbind the clients and return the record.

    With ``record_path``, the record is written there on exit and on SIGUSR1. If the
    simulator holds its receipts, SIGUSR2 releases them (another process decides when
    the flood starts).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def write_record() -> None:
        if record_path is not None:
            try:
                simulator.record.write(record_path)
            except OSError as exc:
                log.error("simulator: cannot write the record to %s: %s", record_path, exc)

    await simulator.start(host, port)
    signals = [(signal.SIGINT, stop.set), (signal.SIGTERM, stop.set)]
    if hasattr(signal, "SIGUSR1"):
        signals.append((signal.SIGUSR1, write_record))
    if hasattr(signal, "SIGUSR2") and simulator.holding_receipts:
        signals.append((signal.SIGUSR2, simulator.release_receipts))
    for signum, callback in signals:
        loop.add_signal_handler(signum, callback)
    try:
        if on_ready is not None:
            on_ready(simulator)
        await stop.wait()
    finally:
        for signum, _ in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        await simulator.close()
        if record_path is not None:
            simulator.record.write(record_path)
    return simulator.record
