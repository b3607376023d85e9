"""The webhooks task of ``smscope worker`` (so also of ``campaign send --wait`` and the
demo): the pump and one sender per active endpoint, beside dispatch and receipts.

Its database work goes through the worker's database thread like everything else (one
writer per process on SQLite), in short transactions: a pump batch, a claim, a record.
Nothing of it runs in the receipt handlers. Each endpoint has its own sender task, so a
slow or hanging endpoint delays only its own deliveries; the HTTP work is asyncio on the
worker's loop, at most ``[webhooks] concurrency`` POSTs at once per endpoint.

With no active endpoint the task only asks, every few seconds, whether one was added.

**Receipts first.** The webhooks share the worker's database thread and its event loop
(and the interpreter's lock) with the receipt pipeline, whose throughput is what an
SMSC's backlog is drained at. While receipts pour in, every piece of webhook work — a
pump batch, a claim, a POST, a record — is followed by a pause several times as long
(:class:`GiveWay`): the webhooks then take a bounded share of the worker, fall behind
during a flood and catch up after it. Nothing is lost: the events wait in
``status_events`` and the deliveries in their table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar, cast

import httpx

from smscope.app import Smscope
from smscope.db.tables import WebhookEndpoint
from smscope.db.types import utcnow
from smscope.webhooks.delivery import Claimed, Outcome, claim, post_all, record, release
from smscope.webhooks.pump import EventPump, PumpResult

__all__ = ["GiveWay", "WebhookRunner"]

log = logging.getLogger(__name__)
T = TypeVar("T")

InDb = Callable[..., Awaitable[Any]]


class GiveWay:
    """Paces webhook work while ``busy()``: one piece at a time, and after a piece that
    took ``s`` seconds the next waits ``ratio * s`` (at most ``longest``). Shared by the
    pump, the claims and records and every lane's POSTs, so webhooks get at most about
    ``1 / (1 + ratio)`` of a busy worker's time."""

    def __init__(self, busy: Callable[[], bool], ratio: float = 9.0,
                 longest: float = 1.0) -> None:
        self.busy = busy
        self.ratio = ratio
        self.longest = longest
        self._free_at = 0.0

    async def wait(self) -> None:
        """Return when webhook work may go on (while busy: the next piece's turn)."""
        while self.busy():
            now = time.monotonic()
            left = self._free_at - now
            if left <= 0:
                # this piece's turn: the others wait until it says how long it took
                self._free_at = now + self.longest
                return
            await asyncio.sleep(min(left, self.longest))

    def spent(self, seconds: float) -> None:
        """Webhook work just took ``seconds``."""
        if self.busy():
            self._free_at = time.monotonic() + min(seconds * self.ratio, self.longest)


def _never() -> bool:
    return False


class WebhookRunner:
    """Runs until cancelled. ``in_db(fn, *args)`` runs ``fn`` on the worker's database
    thread; ``poll``: seconds between looks when there is nothing to do."""

    def __init__(self, app: Smscope, *, in_db: InDb, worker_id: str, poll: float = 0.5,
                 idle: float = 2.0, clock: Callable[[], datetime] = utcnow,
                 busy: Callable[[], bool] = _never) -> None:
        self.app = app
        self.config = app.config.webhooks
        self.in_db = in_db
        self.worker_id = worker_id
        self.poll = poll
        self.idle = idle
        self.clock = clock
        self.pump = EventPump()
        self.give_way = GiveWay(busy)
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    async def run(self) -> None:
        try:
            while True:
                endpoints = await self.in_db(self._endpoints)
                self._sync_senders(endpoints)
                if not endpoints:
                    await asyncio.sleep(self.idle)
                    continue
                try:
                    result: PumpResult = await self._paced(self._pump)
                except Exception:
                    log.exception("webhooks: reading status events failed")
                    await asyncio.sleep(1.0)
                    continue
                if not result.more:
                    await asyncio.sleep(self.poll)
        finally:
            await self._stop_senders()

    async def _paced(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` on the database thread, giving way to receipts (see the module)."""
        await self.give_way.wait()
        started = time.monotonic()
        try:
            return cast(T, await self.in_db(fn, *args))
        finally:
            self.give_way.spent(time.monotonic() - started)

    # -- endpoints and their senders --------------------------------------------------

    def _endpoints(self) -> dict[int, tuple[str, str]]:
        with self.app.db.session() as session:
            return {e.id: (e.url, e.secret) for e in session.query(WebhookEndpoint)
                    .filter(WebhookEndpoint.active.is_(True))}

    def _pump(self) -> PumpResult:
        with self.app.db.transaction() as session:
            return self.pump.run(session, now=self.clock())

    def _sync_senders(self, endpoints: dict[int, tuple[str, str]]) -> None:
        for endpoint_id in list(self._senders):
            if endpoint_id not in endpoints:
                self._senders.pop(endpoint_id).cancel()
        for endpoint_id, (url, secret) in endpoints.items():
            task = self._senders.get(endpoint_id)
            if task is not None and task.done() and not task.cancelled() \
                    and task.exception() is not None:
                log.error("webhooks: the sender of endpoint %d stopped (%r); starting it "
                          "again", endpoint_id, task.exception())
            if task is None or task.done():
                self._senders[endpoint_id] = asyncio.create_task(
                    self._send(endpoint_id, url, secret))

    async def _stop_senders(self) -> None:
        tasks = list(self._senders.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._senders.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            seconds = self.config.timeout.total_seconds()
            # httpcore writes a request's headers and body separately: with Nagle on, the
            # body waits for the receiver's delayed ACK of the headers (40 ms on Linux),
            # which held each lane to about 25 POSTs a second
            transport = httpx.AsyncHTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(seconds), follow_redirects=False, trust_env=False,
                transport=transport)
        return self._client

    # -- one endpoint -----------------------------------------------------------------

    async def _send(self, endpoint_id: int, url: str, secret: str) -> None:
        limit = self.config.concurrency * 25
        while True:
            try:
                claimed: list[Claimed] = await self._paced(self._claim, endpoint_id, limit)
            except Exception:
                log.exception("webhooks: claiming deliveries of endpoint %d failed",
                              endpoint_id)
                await asyncio.sleep(1.0)
                continue
            if not claimed:
                await asyncio.sleep(self.poll)
                continue
            outcomes: list[Outcome] = []
            try:
                await post_all(self.client(), url, secret, claimed,
                               concurrency=self.config.concurrency, now=self.clock,
                               done=outcomes.append, pace=self.give_way)
            finally:
                # also when cancelled (the worker stops): what was answered is recorded
                # and the rest is released for the next worker (a POST cut short may
                # have arrived: it is posted again, at-least-once)
                posted = {o.delivery.id for o in outcomes}
                unposted = [c.id for c in claimed if c.id not in posted]
                await asyncio.shield(self._record_safely(outcomes, unposted))

    async def _record_safely(self, outcomes: list[Outcome], unposted: list[int]) -> None:
        try:
            await self._paced(self._record, outcomes, unposted)
        except Exception:
            log.exception("webhooks: recording %d deliveries failed (they will be posted "
                          "again when their claim expires)", len(outcomes) + len(unposted))

    def _claim(self, endpoint_id: int, limit: int) -> list[Claimed]:
        with self.app.db.transaction() as session:
            return claim(session, endpoint_id=endpoint_id, worker_id=self.worker_id,
                         now=self.clock(), limit=limit, config=self.config)

    def _record(self, outcomes: list[Outcome], unposted: list[int]) -> int:
        with self.app.db.transaction() as session:
            release(session, unposted, worker_id=self.worker_id)
            return record(session, outcomes, worker_id=self.worker_id, config=self.config)
