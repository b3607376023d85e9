"""Simulated clicks: the simulator opens the tracked link of some delivered messages
over HTTP, as the recipient's phone would, so a demo's report shows clicks.

It fetches only tracked links of the public URL it was given (``{public_url}/c/`` and a
token; :func:`smscope.tracking.links.is_tracked_url`), never another URL of a message,
follows no redirect (the original URL is not visited), sends at most a few requests at
once, and gives up after a few seconds: a simulator must never flood a server it does
not own, and tests have no internet. Requests run on the simulator's event loop with an
asynchronous HTTP client, so SMPP traffic never waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import httpx

from smscope import __version__
from smscope.simulator.record import Record
from smscope.tracking.links import tracked_urls_in

__all__ = ["USER_AGENT", "Clicker"]

log = logging.getLogger(__name__)

#: what the simulated handset says it is (a phone's browser, not a preview bot)
USER_AGENT: Final = (f"Mozilla/5.0 (Linux; Android 14; smscope-simulator {__version__}) "
                     "Mobile")
#: requests in flight at once, at most
CONCURRENCY: Final = 4
#: seconds before a request is given up
TIMEOUT: Final = 5.0


class Clicker:
    """Opens tracked links of ``public_url`` when asked; counts in ``record.clicks``."""

    def __init__(self, public_url: str, record: Record) -> None:
        self.public_url = public_url
        self.record = record
        self._client: httpx.AsyncClient | None = None
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def click(self, text: str, delay: float) -> bool:
        """Open the first tracked link of ``text`` in ``delay`` seconds; False if the
        message has none (nothing is planned)."""
        urls = tracked_urls_in(text, self.public_url)
        if not urls or self._closed:
            return False
        self.record.clicks.planned += 1
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def start() -> None:
            self._timers.discard(timer)
            task = loop.create_task(self._fetch(urls[0]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        timer = loop.call_later(max(delay, 0.0), start)
        self._timers.add(timer)
        return True

    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # made on a thread: loading the certificate store takes a while
            self._client = await asyncio.to_thread(
                httpx.AsyncClient, follow_redirects=False, timeout=TIMEOUT,
                headers={"User-Agent": USER_AGENT})
        return self._client

    async def _fetch(self, url: str) -> None:
        tally = self.record.clicks
        async with self._limit:
            try:
                response = await (await self._http()).get(url)
            except httpx.HTTPError as exc:
                tally.failed += 1
                log.info("simulator: click on %s failed: %s", url, exc)
                return
        if response.status_code < 400:
            tally.fetched += 1
        else:
            tally.failed += 1
            log.info("simulator: click on %s answered %s", url, response.status_code)

    async def close(self) -> None:
        """Forget the clicks not made yet, stop those under way."""
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
