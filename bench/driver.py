"""What two benchmarks share: our SMPPClient submitting ``count`` messages as fast as
its window allows, with a receipt handler that only counts (and acknowledges)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from smscope.smpp.client import SMPPClient

#: the i-th message: (text, sender, destination)
MessageOf = Callable[[int], tuple[str, str, str]]


@dataclass
class Driven:
    submit_seconds: float  # first submit_sm to last submit_sm_resp
    seconds: float  # first submit_sm to last receipt (or the timeout)
    received: int
    failed: int


async def drive(port: int, system_id: str, password: str, count: int, window: int,
                message_of: MessageOf, *, timeout: float = 600.0,
                on_batch: Callable[[int], None] | None = None,
                after_submits: Callable[[], None] | None = None,
                receivers: int = 1) -> Driven:
    """Submit ``count`` messages through a fresh SMPPClient (``receivers`` links bound
    to receive) and wait for every receipt; ``after_submits`` is called once every
    submit is answered (to release receipts a simulator holds)."""
    received = 0
    all_in = asyncio.Event()

    async def on_receipts(batch: list[Any]) -> None:
        nonlocal received
        received += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
        if received >= count:
            all_in.set()

    options: dict[str, Any] = {"receivers": receivers} if receivers != 1 else {}
    client = SMPPClient("127.0.0.1", port, system_id, password, window=window,
                        on_receipts=on_receipts, **options)
    await client.connect()
    numbers = iter(range(count))
    failed = 0

    async def sender() -> None:
        nonlocal failed
        for i in numbers:
            text, source, destination = message_of(i)
            failed += not (await client.submit(text, source, destination)).ok

    start = time.perf_counter()
    # more senders than the window, so the window, not the senders, is the limit
    await asyncio.gather(*(sender() for _ in range(window * 2)))
    submitted = time.perf_counter() - start
    if after_submits is not None:
        after_submits()
    with suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), timeout)
    finished = time.perf_counter() - start
    await client.close()
    return Driven(submitted, finished, received, failed)
