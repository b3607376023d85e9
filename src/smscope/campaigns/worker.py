"""``smscope worker``: sends what is due and stores what comes back, until stopped.

A worker opens a session per connector (:mod:`smscope.connectors.session`) and runs, on
one asyncio loop:

* a dispatch loop per connector (:mod:`smscope.campaigns.dispatch`: claim, submit,
  record);
* the receipt and reply handlers of each session (:class:`smscope.receipts.ingest.
  Ingest`), awaited by the SMPP session before it acknowledges anything; receipt
  batches that come while one is stored are stored together, in the next
  transaction (a group commit, :mod:`smscope.receipts.group`);
* housekeeping every second: scheduled campaigns that are due start, messages past
  their validity expire, recent orphan receipts are matched again
  (:mod:`smscope.receipts.orphans`), finished campaigns complete;
* outbound status webhooks (:mod:`smscope.webhooks.runner`): status events read after
  the fact and POSTed to their endpoints, never in the receipt handlers.

Database work runs on one worker thread, in order, so the loop keeps serving the SMPP
links while a transaction commits, and a process never competes with itself for
SQLite's write lock. Any number of workers may run against one PostgreSQL database:
claims skip rows another worker holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from smscope.app import Smscope
from smscope.campaigns import dispatch, service
from smscope.campaigns.dispatch import Claimed
from smscope.connectors.registry import settings_of, sync_config_connectors
from smscope.connectors.session import ConnectorInfo, ConnectorSession
from smscope.db.tables import Connector
from smscope.db.types import utcnow
from smscope.errors import SmscopeError
from smscope.receipts.group import GroupCommit
from smscope.receipts.ingest import Ingest, IngestResult
from smscope.receipts.mapping import StatusMapping
from smscope.receipts.orphans import sweep_orphans
from smscope.rules.windows import SendingWindows
from smscope.smpp.client import SMPPError, SubmitResult
from smscope.webhooks.runner import WebhookRunner

__all__ = ["Worker"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: receipt batches an SMPP session may hand over at once: those that come while one
#: is stored wait, and are then stored together (smscope.receipts.group)
RECEIPT_HANDOVERS = 8


class Worker:
    """Runs until ``stop`` is set. ``campaign_id`` limits it to one campaign (what
    ``campaign send --wait`` does); otherwise it serves every enabled connector."""

    def __init__(self, app: Smscope, *, campaign_id: int | None = None,
                 worker_id: str | None = None, poll: float = 0.2,
                 housekeeping: float = 1.0, clock: Callable[[], datetime] = utcnow,
                 drain: float = 30.0) -> None:
        self.app = app
        self.campaign_id = campaign_id
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.poll = poll
        self.housekeeping_interval = housekeeping
        #: seconds a stopping worker waits for the batches in hand to be recorded
        self.drain = drain
        self.clock = clock
        self.sessions: dict[int, ConnectorSession] = {}
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smscope-db")
        self._prices = app.price_table()
        self._windows = SendingWindows.from_config(app.config)
        self.errors: list[str] = []
        self._checkpoints = False
        self._receipts_at = -1.0
        #: set when the worker stops: dispatch takes no new batch
        self._stopping = asyncio.Event()

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    # -- setup ------------------------------------------------------------------------

    def _connectors(self) -> list[ConnectorInfo]:
        config = self.app.config
        with self.app.db.transaction() as session:
            sync_config_connectors(session, config)
            stmt = select(Connector).where(Connector.enabled.is_(True))
            if self.campaign_id is not None:
                campaign = service.get_campaign(session, self.campaign_id)
                if campaign.connector_id is None:
                    raise SmscopeError(f"campaign {self.campaign_id} has no connector")
                stmt = stmt.where(Connector.id == campaign.connector_id)
            rows = list(session.scalars(stmt))
            return [ConnectorInfo(row.id, row.name, row.type, settings_of(row),
                                  StatusMapping.from_overrides(row.mapping or {}))
                    for row in rows if row.type in ("smpp", "simulator", "http")]

    async def open(self) -> None:
        """Open a session per connector; SmscopeError if none can be opened."""
        infos = await self._in_db(self._connectors)
        if infos:
            # receipts commit in a stream: their commits must not wait for checkpoints
            self.app.db.start_checkpoints()
            self._checkpoints = True
        if not infos:
            raise SmscopeError("no connector to send through; add one with "
                               "'smscope connector add NAME --smpp HOST:PORT ...' or "
                               "'--simulator'")
        for info in infos:
            ingest = Ingest(self.app.db, connector_id=info.id, config=self.app.config,
                            mapping=info.mapping, id_format=info.id_format, clock=self.clock,
                            prices=self._prices)
            # receipt batches are stored on the database thread, every batch waiting
            # in one transaction (a group commit)
            session = ConnectorSession(info, on_receipts=self._receipts_handler(ingest),
                                       on_mo=self._handler(ingest.replies),
                                       public_url=self.app.config.public_url,
                                       handovers=RECEIPT_HANDOVERS)
            try:
                await session.open()
            except (SmscopeError, OSError) as exc:
                message = f"connector {info.name}: cannot connect: {exc}"
                log.error("%s", message)
                self.errors.append(message)
                continue
            self.sessions[info.id] = session
        if not self.sessions:
            raise SmscopeError("; ".join(self.errors) or "no connector could be opened")

    def _handler(self, store: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Awaitable[None]]:
        async def handle(batch: list[Any]) -> None:
            await self._in_db(store, batch)
            self._receipts_at = time.monotonic()
        return handle

    def _receipts_handler(self, ingest: Ingest) -> Callable[[list[Any]], Awaitable[None]]:
        """The session's receipt handler: returns once its batch is committed."""
        group: GroupCommit[Any] = GroupCommit(
            functools.partial(self._store_receipts, ingest), self._db)

        async def handle(items: list[Any]) -> None:
            await group(items)
            self._receipts_at = time.monotonic()
        return handle

    def _store_receipts(self, ingest: Ingest, pdus: list[Any]) -> IngestResult:
        """On the database thread: one transaction of receipts (see GroupCommit).

        They are read (parsed, mapped) here too, not on the event loop as they arrive:
        measured, reading there made the flood slower (the two threads then compete
        for the interpreter lock all the time, bench/README.md)."""
        return ingest.receipts(pdus)

    def receiving(self) -> bool:
        """Whether receipts are pouring in (a batch stored within the last quarter of a
        second): the webhooks then give way (:class:`~smscope.webhooks.runner.GiveWay`)."""
        return time.monotonic() - self._receipts_at < 0.25

    async def close(self) -> None:
        for session in self.sessions.values():
            with contextlib.suppress(Exception):
                await session.close()
        self.sessions.clear()
        self._db.shutdown(wait=True)
        if self._checkpoints:
            self._checkpoints = False
            self.app.db.stop_checkpoints()

    # -- running ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Open, work until ``stop`` is set, close."""
        try:
            await self.open()
        except BaseException:
            await self.close()
            raise
        dispatching = [asyncio.create_task(self._dispatch(s)) for s in self.sessions.values()]
        tasks = [*dispatching, asyncio.create_task(self._housekeeping(stop)),
                 asyncio.create_task(self.webhooks().run())]
        try:
            await stop.wait()
            # a graceful stop: each connector finishes the batch in hand (its submits
            # answered and recorded), so that no message is left in doubt; the
            # sessions keep storing receipts meanwhile
            self._stopping.set()
            await asyncio.wait(dispatching, timeout=self.drain)
        finally:
            self._stopping.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.close()

    def webhooks(self) -> WebhookRunner:
        """The webhooks task of this worker (on its database thread)."""
        return WebhookRunner(self.app, in_db=self._in_db, worker_id=self.worker_id,
                             clock=self.clock, busy=self.receiving)

    async def _dispatch(self, session: ConnectorSession) -> None:
        info = session.info
        while not self._stopping.is_set():
            try:
                claimed = await self._in_db(self._claim, info)
            except Exception:
                log.exception("worker: claiming messages of %s failed", info.name)
                await asyncio.sleep(1.0)
                continue
            if not claimed:
                await asyncio.sleep(self.poll)
                continue
            results = await asyncio.gather(*(self._submit(session, item) for item in claimed))
            if all(result is None for result in results):
                # nothing left (an HTTP provider unreachable): released, claimed again
                # after a pause rather than at once
                await asyncio.sleep(1.0)
            try:
                await self._in_db(self._record, info, claimed, results)
            except Exception:
                # the messages went out but their answers are not stored: they stay in
                # doubt (never sent again; settled by a receipt or at the end of validity)
                log.exception("worker: recording %d submits to %s failed", len(claimed),
                              info.name)
                await asyncio.sleep(1.0)

    def _claim(self, info: ConnectorInfo) -> list[Claimed]:
        with self.app.db.transaction() as session:
            return dispatch.claim(session, connector_id=info.id, limit=info.window,
                                  now=self.clock(), worker_id=self.worker_id,
                                  config=self.app.config, prices=self._prices,
                                  windows=self._windows, campaign_id=self.campaign_id)

    async def _submit(self, session: ConnectorSession, item: Claimed) -> SubmitResult | None:
        remaining = item["validity_until"] - self.clock()
        try:
            return await session.client.submit(
                item["text"], item["sender"], item["number"],
                validity_period=max(remaining, timedelta(seconds=1)),
                mode=session.info.split)  # type: ignore[arg-type]
        except SMPPError as exc:
            log.warning("worker: %s not submitted: %s", item["id"], exc)
            return None

    def _record(self, info: ConnectorInfo, claimed: list[Claimed],
                results: list[SubmitResult | None]) -> None:
        with self.app.db.transaction() as session:
            dispatch.record(session, claimed, results, connector_id=info.id,
                            id_format=info.id_format, mapping=info.mapping,
                            config=self.app.config, now=self.clock())

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._in_db(self._tidy)
            except Exception:
                log.exception("worker: housekeeping failed")
            await asyncio.sleep(self.housekeeping_interval)

    def _tidy(self) -> None:
        config, now = self.app.config, self.clock()
        with self.app.db.transaction() as session:
            service.start_due(session, config=config, prices=self._prices, now=now)
        with self.app.db.transaction() as session:
            dispatch.expire(session, config=config, now=now)
        for session_ in self.sessions.values():
            info = session_.info
            with self.app.db.transaction() as session:
                sweep_orphans(session, connector_id=info.id, id_format=info.id_format,
                              mapping=info.mapping, config=config, now=now,
                              prices=self._prices)
        with self.app.db.transaction() as session:
            service.complete_finished(session, now=now)
