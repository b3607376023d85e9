"""GroupCommit: batches handed over while the database thread is busy are stored
together, and each caller returns only once its own batch is stored."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from smscope.receipts.group import GroupCommit
from tests.support.aio import run


def test_batches_waiting_while_one_is_stored_are_stored_together() -> None:
    calls: list[list[int]] = []
    gate = threading.Event()

    def store(items: list[int]) -> None:
        calls.append(items)
        if len(calls) == 1:
            gate.wait(5)  # the first transaction takes a while

    async def body() -> None:
        with ThreadPoolExecutor(max_workers=1) as executor:
            group: GroupCommit[int] = GroupCommit(store, executor)
            first = asyncio.create_task(group([1, 2]))
            while not calls:
                await asyncio.sleep(0.005)
            later = [asyncio.create_task(group([n])) for n in (3, 4, 5)]
            await asyncio.sleep(0.05)
            # nobody returns before their batch is stored
            assert not first.done() and not any(t.done() for t in later)
            gate.set()
            await asyncio.gather(first, *later)
        assert calls == [[1, 2], [3, 4, 5]]

    run(body)


def test_a_failed_store_fails_every_batch_it_held_and_the_next_call_starts_afresh() -> None:
    calls: list[list[str]] = []
    gate = threading.Event()

    def store(items: list[str]) -> None:
        calls.append(items)
        if len(calls) == 1:
            gate.wait(5)
        if len(calls) == 2:
            raise RuntimeError("database is locked")

    async def body() -> None:
        with ThreadPoolExecutor(max_workers=1) as executor:
            group: GroupCommit[str] = GroupCommit(store, executor)
            first = asyncio.create_task(group(["a"]))
            while not calls:
                await asyncio.sleep(0.005)
            b = asyncio.create_task(group(["b"]))
            c = asyncio.create_task(group(["c"]))
            await asyncio.sleep(0.02)
            gate.set()
            await first
            for task in (b, c):
                with pytest.raises(RuntimeError, match="locked"):
                    await task
            await group(["d"])
        assert calls == [["a"], ["b", "c"], ["d"]]

    run(body)


def test_a_call_takes_whole_batches_up_to_its_limit() -> None:
    calls: list[list[int]] = []
    gate = threading.Event()

    def store(items: list[int]) -> None:
        calls.append(items)
        if len(calls) == 1:
            gate.wait(5)

    async def body() -> None:
        with ThreadPoolExecutor(max_workers=1) as executor:
            group: GroupCommit[int] = GroupCommit(store, executor, limit=4)
            first = asyncio.create_task(group([0]))
            while not calls:
                await asyncio.sleep(0.005)
            rest = [asyncio.create_task(group(batch))
                    for batch in ([1, 2, 3], [4, 5], [6], [7, 8, 9, 10, 11])]
            await asyncio.sleep(0.02)
            gate.set()
            await asyncio.gather(first, *rest)
        # never a batch cut in two; a batch larger than the limit goes alone
        assert calls == [[0], [1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]

    run(body)


def test_an_executor_shut_down_fails_the_call_instead_of_hanging() -> None:
    async def body() -> None:
        executor = ThreadPoolExecutor(max_workers=1)
        executor.shutdown()
        group: GroupCommit[int] = GroupCommit(lambda items: None, executor)
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(group([1]), 5)

    run(body)
