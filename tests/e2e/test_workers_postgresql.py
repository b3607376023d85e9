"""Two ``smscope worker`` processes on one PostgreSQL database, sending through a
``smscope simulator`` process: every message is submitted exactly once (the simulator's
own count says so) and every receipt is stored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from smscope.campaigns import service
from smscope.config import Config
from smscope.connectors.registry import add_connector
from smscope.contacts import book
from smscope.db import Database
from smscope.db.tables import Contact, ListMember
from smscope.pricing import CreditBank, PriceTable
from smscope.reports.campaign import campaign_report

RECIPIENTS = 3000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smscope_process(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "smscope", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def prepare(db: Database, port: int) -> int:
    config = Config(default_region="FR")
    now = datetime.now(UTC)
    with db.transaction() as session:
        clients = book.get_or_create_list(session, "clients")
        ids = session.execute(insert(Contact).returning(Contact.id), [
            {"number": f"+3361{i:07d}", "region": "FR", "first_name": f"C{i}", "fields": {},
             "state": "active", "created_at": now, "updated_at": now}
            for i in range(RECIPIENTS)]).scalars().all()
        session.execute(insert(ListMember), [{"list_id": clients.id, "contact_id": i,
                                              "added_at": now} for i in ids])
        CreditBank(session).add(RECIPIENTS)
        add_connector(session, "operator", "smpp",
                      {"host": "127.0.0.1", "port": port, "system_id": "smscope",
                       "password": "pw", "window": 50, "id_format": "hex"})
        campaign = service.create_campaign(
            session, name="Two workers", sender="SHOP", text="Hello {first_name}",
            config=config, now=now, lists=["clients"], type_="transactional",
            connector="operator")
        campaign_id = campaign.id
    with db.transaction() as session:
        service.send(session, campaign_id, config=config, prices=PriceTable(), now=now)
    return campaign_id


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
    port = free_port()
    record = tmp_path / "record.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCOPE_")}
    env.update(SMSCOPE_DATABASE_URL=pg_db.url, SMSCOPE_DEFAULT_REGION="FR")
    simulator = smscope_process("simulator", "--port", str(port), "--profile", "instant",
                                "--password", "pw", "--record", str(record), env=env,
                                log=tmp_path / "simulator.log")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "simulator.log").read_text()
                time.sleep(0.05)
        campaign_id = prepare(pg_db, port)
        workers = [smscope_process("worker", env=env, log=tmp_path / f"worker{n}.log")
                   for n in (1, 2)]
        deadline = time.monotonic() + 40
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
        assert stop(simulator) == 0
    own = json.loads(record.read_text())
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
