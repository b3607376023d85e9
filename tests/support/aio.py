"""Running coroutines from plain pytest tests (the suite has no asyncio plugin)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

WAIT = 5.0


def run(body: Callable[[], Awaitable[None]], timeout: float = 15.0) -> None:
    """Run ``body()`` in a fresh event loop; fail if it takes longer than ``timeout``."""

    async def main() -> None:
        await asyncio.wait_for(body(), timeout)

    asyncio.run(main())


async def until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait until ``predicate()`` is true; TimeoutError after ``timeout`` seconds."""

    async def loop() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(loop(), timeout)
