"""Group commit: receipts handed over by several calls stored in one transaction.

An SMPP session hands its receipts over in batches and acknowledges each batch once
its handler returns (SPEC §4.3: stored before acknowledged). With one batch at a time,
the database thread waits between two batches for the event loop to answer the last
one and hand over the next, and the loop is then busy reading what arrived meanwhile:
in a flood a fifth of the database thread's time went in those gaps.

:class:`GroupCommit` takes batches as they come (the session lets several be handed
over at once) and the database thread, as soon as it is free, stores *everything*
waiting in one call of ``store`` (one transaction), then wakes every caller whose
batch it held. A batch is therefore never acknowledged before its transaction
commits, and never waits for the event loop to be handed to the database thread. If
``store`` fails, every batch of that call fails (none is acknowledged: the SMSC sends
them again) and the next call starts afresh.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """``await group(items)`` returns once ``items`` are stored, by ``store`` run on
    ``executor`` (a single thread: calls of ``store`` never overlap) together with
    whatever other calls handed over meanwhile, at most ``limit`` items a call."""

    def __init__(self, store: Callable[[list[T]], Any], executor: Executor, *,
                 limit: int = 2000) -> None:
        self.store = store
        self.executor = executor
        self.limit = limit
        #: batches waiting for the database thread: (items, future, its loop)
        self._waiting: collections.deque[
            tuple[Sequence[T], asyncio.Future[None], asyncio.AbstractEventLoop]
        ] = collections.deque()
        self._lock = threading.Lock()
        #: a drain is queued on the executor or running
        self._draining = False

    async def __call__(self, items: Sequence[T]) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((items, future, loop))
            start, self._draining = not self._draining, True
        if start:
            self._submit()
        await future

    def _submit(self) -> None:
        try:
            self.executor.submit(self._drain)
        except RuntimeError as exc:  # the executor is shut down: nothing will store them
            self._fail_all(exc)

    def _fail_all(self, exc: BaseException) -> None:
        with self._lock:
            taken = list(self._waiting)
            self._waiting.clear()
            self._draining = False
        _settle(taken, exc)

    def _drain(self) -> None:
        """On the database thread: store what waits (up to ``limit`` items, whole
        batches), wake its callers, and queue another drain if more came meanwhile
        (behind whatever else the thread has to do)."""
        taken: list[tuple[Sequence[T], asyncio.Future[None], asyncio.AbstractEventLoop]] = []
        count = 0
        with self._lock:
            while self._waiting and (not taken or count + len(self._waiting[0][0]) <= self.limit):
                entry = self._waiting.popleft()
                taken.append(entry)
                count += len(entry[0])
        error: BaseException | None = None
        try:
            if taken:
                self.store([item for items, _, _ in taken for item in items])
        except BaseException as exc:  # handed to every caller whose batch it held
            error = exc
        _settle(taken, error)
        with self._lock:
            more = bool(self._waiting)
            self._draining = more
        if more:
            self._submit()


def _settle(taken: list[tuple[Any, asyncio.Future[None], asyncio.AbstractEventLoop]],
            error: BaseException | None) -> None:
    for _, future, loop in taken:
        # a loop closed meanwhile: nobody waits for the answer any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_finish, future, error)


def _finish(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return  # cancelled meanwhile (the session closed): nothing to acknowledge
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
