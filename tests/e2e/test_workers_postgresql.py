"""Two ``smscope worker`` processes on one PostgreSQL database, sending through a
``smscope simulator`` process: every message is submitted exactly once (the simulator's
own count says so) and every receipt is stored."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from smscope.db import Database
from smscope.reports.campaign import campaign_report
from tests.e2e.processes import SimulatorProcess, environment, prepare_campaign, start, stop

RECIPIENTS = 3000


def _stuck(db: Database) -> object:
    from sqlalchemy import func

    from smscope.db.tables import Message

    with db.session() as session:
        return session.execute(
            select(Message.status, Message.in_doubt, Message.attempts,
                   Message.claimed_by.is_(None), Message.error_detail, func.count())
            .where(Message.category == "pending")
            .group_by(Message.status, Message.in_doubt, Message.attempts,
                      Message.claimed_by.is_(None), Message.error_detail)).all()


def _twice(db: Database) -> object:
    from sqlalchemy import func

    from smscope.db.tables import MessagePart, StatusEvent

    with db.session() as session:
        parts = session.execute(select(MessagePart.message_id, func.count())
                                .group_by(MessagePart.message_id)
                                .having(func.count() > 1).limit(5)).all()
        events = session.execute(select(StatusEvent.message_id, StatusEvent.from_status,
                                        StatusEvent.to_status, StatusEvent.reason)
                                 .where(StatusEvent.message_id.in_([p[0] for p in parts]))
                                 ).all()
        return parts, events


def test_two_workers_never_submit_a_message_twice_nor_lose_one(pg_db: Database,
                                                               tmp_path: Path) -> None:
    env = environment(pg_db.url)
    simulator = SimulatorProcess(tmp_path, env, "--profile", "instant")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        campaign_id = prepare_campaign(pg_db, simulator.port, RECIPIENTS)
        workers = [start("worker", env=env, log=tmp_path / f"worker{n}.log") for n in (1, 2)]
        deadline = time.monotonic() + 120
        while True:
            with pg_db.session() as session:
                report = campaign_report(session, campaign_id)
            if report["state"] == "completed":
                break
            for n, worker in enumerate(workers, 1):
                assert worker.poll() is None, (tmp_path / f"worker{n}.log").read_text()
            assert time.monotonic() < deadline, (report["counts"], _stuck(pg_db))
            time.sleep(0.5)
    finally:
        for worker in workers:
            stop(worker)
        own = simulator.finish()
    assert own["submitted"] == RECIPIENTS, (own, _twice(pg_db))  # none submitted twice
    assert own["distinct_numbers"] == RECIPIENTS
    assert own["receipts"]["acked"] == RECIPIENTS
    assert report["statuses"]["received"] == RECIPIENTS == report["recipients"]
    assert report["sent"] == RECIPIENTS
    with pg_db.session() as session:
        from smscope.db.tables import Receipt

        stored = session.scalars(select(Receipt.state)).all()
    assert len(stored) == RECIPIENTS and set(stored) == {"applied"}
    # both workers took part
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in (1, 2)]
    assert all("started" in log for log in logs), logs
