"""GroupCommit: batches handed over while the database thread is busy are stored
together, and each caller returns only once its own batch is stored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from smscope.receipts.group import GroupCommit
from tests.support.aio import run


class SlowFirst:
    """A ``store`` whose first call holds the database thread until :attr:`gate` is
    set, so that the batches handed over meanwhile wait; ``fail_on``: the calls (from
    1) that raise."""

    def __init__(self, fail_on: tuple[int, ...] = ()) -> None:
        self.calls: list[list[Any]] = []
        self.gate = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items: list[Any]) -> None:
        self.calls.append(items)
        if len(self.calls) == 1:
            self.gate.wait(5)
        if len(self.calls) in self.fail_on:
            raise RuntimeError("database is locked")


async def held_first(group: GroupCommit[Any], store: SlowFirst,
                     first: list[Any]) -> asyncio.Task[None]:
    """Hand ``first`` over and return once its store is running (and holding)."""
    task = asyncio.create_task(group(first))
    while not store.calls:
        await asyncio.sleep(0.005)
    return task


def in_group(store: SlowFirst, test: Callable[[GroupCommit[Any]], Any],
             **options: Any) -> None:
    async def body() -> None:
        with ThreadPoolExecutor(max_workers=1) as executor:
            await test(GroupCommit(store, executor, **options))

    run(body)


def test_batches_waiting_while_one_is_stored_are_stored_together() -> None:
    store = SlowFirst()

    async def test(group: GroupCommit[int]) -> None:
        first = await held_first(group, store, [1, 2])
        later = [asyncio.create_task(group([n])) for n in (3, 4, 5)]
        await asyncio.sleep(0.05)
        # nobody returns before their batch is stored
        assert not first.done() and not any(t.done() for t in later)
        store.gate.set()
        await asyncio.gather(first, *later)

    in_group(store, test)
    assert store.calls == [[1, 2], [3, 4, 5]]


def test_a_failed_store_fails_every_batch_it_held_and_the_next_call_starts_afresh() -> None:
    store = SlowFirst(fail_on=(2,))

    async def test(group: GroupCommit[str]) -> None:
        first = await held_first(group, store, ["a"])
        b = asyncio.create_task(group(["b"]))
        c = asyncio.create_task(group(["c"]))
        await asyncio.sleep(0.02)
        store.gate.set()
        await first
        for task in (b, c):
            with pytest.raises(RuntimeError, match="locked"):
                await task
        await group(["d"])

    in_group(store, test)
    assert store.calls == [["a"], ["b", "c"], ["d"]]


def test_a_call_takes_whole_batches_up_to_its_limit() -> None:
    store = SlowFirst()

    async def test(group: GroupCommit[int]) -> None:
        first = await held_first(group, store, [0])
        rest = [asyncio.create_task(group(batch))
                for batch in ([1, 2, 3], [4, 5], [6], [7, 8, 9, 10, 11])]
        await asyncio.sleep(0.02)
        store.gate.set()
        await asyncio.gather(first, *rest)

    in_group(store, test, limit=4)
    # never a batch cut in two; a batch larger than the limit goes alone
    assert store.calls == [[0], [1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]


def test_an_executor_shut_down_fails_the_call_instead_of_hanging() -> None:
    async def body() -> None:
        executor = ThreadPoolExecutor(max_workers=1)
        executor.shutdown()
        group: GroupCommit[int] = GroupCommit(lambda items: None, executor)
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(group([1]), 5)

    run(body)
