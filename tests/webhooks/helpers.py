"""Running the webhooks task as the worker runs it, against a test's database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from smscope.app import Smscope
from smscope.config import WebhooksConfig, parse_duration
from smscope.db import Database
from smscope.db.tables import StatusEvent, WebhookDelivery
from smscope.webhooks.runner import WebhookRunner
from tests.campaigns.helpers import make_config


def app_for(db: Database, **webhooks: Any) -> Smscope:
    """An app on ``db`` with quick webhook settings (timeout 2 s, back-off 0.2 s)."""
    settings: dict[str, Any] = {"timeout": parse_duration("2s"),
                                "backoff": [parse_duration("0.2s")], "max_attempts": 3}
    settings.update(webhooks)
    app = Smscope(make_config(webhooks=WebhooksConfig(**settings)))
    app.__dict__["db"] = db  # the test's database, already migrated
    return app


def states(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(WebhookDelivery.state, func.count())
                                    .group_by(WebhookDelivery.state)).all())


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.session() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def event_ids(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(StatusEvent.id).order_by(StatusEvent.id)))


def run_webhooks(*apps: Smscope, until: Callable[[], bool], timeout: float = 20.0,
                 ) -> None:
    """Run one webhooks task per app (as so many workers) until ``until()`` holds;
    AssertionError after ``timeout`` seconds."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        pools = [ThreadPoolExecutor(max_workers=1) for _ in apps]
        tasks = []
        for n, (app, pool) in enumerate(zip(apps, pools, strict=True)):
            async def in_db(fn: Callable[..., Any], *args: Any,
                            _pool: ThreadPoolExecutor = pool) -> Any:
                return await loop.run_in_executor(_pool, fn, *args)
            runner = WebhookRunner(app, in_db=in_db, worker_id=f"test-{n}", poll=0.05,
                                   idle=0.05)
            tasks.append(asyncio.create_task(runner.run()))
        deadline = time.monotonic() + timeout
        try:
            while not await loop.run_in_executor(None, until):
                assert time.monotonic() < deadline, "the webhooks did not get there in time"
                for task in tasks:
                    if task.done():
                        task.result()
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for pool in pools:
                pool.shutdown()

    asyncio.run(main())
