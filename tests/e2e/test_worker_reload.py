"""A running ``smscope worker`` follows changes made in the database while it runs (a
connector added or disabled in the web app, a price changed): it finishes the batches
in hand, closes its sessions and opens them again with the new values — no restart.
Real worker process, real SMPP simulators in it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from smscope.campaigns import service
from smscope.config import Config
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import Connector
from smscope.pricing import CreditBank, PriceTable
from tests.e2e.processes import environment, report, start, stop, wait_until


def campaign(db: Database, connector: str, numbers: list[str]) -> int:
    config, now = Config(default_region="FR"), datetime.now(UTC)
    with db.transaction() as session:
        made = service.create_campaign(
            session, name=f"via {connector}", sender="SHOP", text="Hello", config=config,
            now=now, numbers=[{"number": n, "region": "FR"} for n in numbers],
            type_="transactional", connector=connector)
        campaign_id = made.id
    with db.transaction() as session:
        service.send(session, campaign_id, config=config, prices=PriceTable(), now=now)
    return campaign_id


def completed(r: dict) -> bool:  # type: ignore[type-arg]
    return r["state"] == "completed"


REOPENED = "connectors or settings changed; reopening with them"


def reopened(log: Path, times: int, timeout: float = 30) -> None:
    """Wait until the worker's log says it reopened its sessions ``times`` times."""
    deadline = time.monotonic() + timeout
    while log.read_text().count(REOPENED) < times:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_a_running_worker_takes_up_a_connector_added_and_one_disabled(
        tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'smscope.db'}")
    db.ensure_schema()
    with db.transaction() as session:
        add_connector(session, "first", "simulator", {"profile": "instant"})
        CreditBank(session).add(100)
    log = tmp_path / "worker.log"
    worker = start("worker", env=environment(db.url), log=log)
    try:
        first = campaign(db, "first", ["+33610000001", "+33610000002"])
        wait_until(db, first, completed, 60, [worker])
        # added while the worker runs: without a reopen, nothing would send through it
        with db.transaction() as session:
            add_connector(session, "second", "simulator", {"profile": "instant"})
        second = campaign(db, "second", ["+33610000003", "+33610000004"])
        done = wait_until(db, second, completed, 60, [worker])
        assert done["statuses"]["received"] == 2
        # disabled while the worker runs: its messages wait
        with db.transaction() as session:
            session.execute(update(Connector).where(Connector.name == "first")
                            .values(enabled=False))
        reopened(log, 2)
        third = campaign(db, "first", ["+33610000005"])
        time.sleep(3)  # what the worker would need to send it, were the connector open
        assert report(db, third)["statuses"].get("queued") == 1
    finally:
        assert stop(worker) == 0, log.read_text()
    assert log.read_text().count(REOPENED) == 2, log.read_text()
    db.dispose()
