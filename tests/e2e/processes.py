"""Real processes for end-to-end tests: ``smscope simulator`` and ``smscope worker``."""

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
from typing import Any

import httpx
from sqlalchemy import insert

from smscope.campaigns import service
from smscope.config import Config
from smscope.connectors.registry import add_connector
from smscope.contacts import book
from smscope.db import Database
from smscope.db.tables import Contact, ListMember
from smscope.pricing import CreditBank, PriceTable
from smscope.reports.campaign import campaign_report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCOPE_")}
    env.update(SMSCOPE_DATABASE_URL=database_url, SMSCOPE_DEFAULT_REGION="FR", **extra)
    return env


def start(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "smscope", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``smscope serve`` on a free port, once it answers: the process and its base URL."""
    port = free_port()
    process = start("serve", "--port", str(port), env=env, log=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/login", timeout=2)
            return process, base
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


class SimulatorProcess:
    """``smscope simulator`` on a free port; :meth:`finish` stops it and reads its record."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.record = tmp_path / "record.json"
        self.log = tmp_path / "simulator.log"
        self.process = start("simulator", "--port", str(self.port), "--password", "pw",
                             "--record", str(self.record), *args, env=env, log=self.log)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.05)

    def snapshot(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        return dict(json.loads(self.record.read_text()))

    def finish(self) -> dict[str, Any]:
        assert stop(self.process) == 0, self.log.read_text()
        return dict(json.loads(self.record.read_text()))


def prepare_campaign(db: Database, port: int, recipients: int, *,
                     window: int = 50, rate: float | None = None,
                     validity_seconds: float | None = None) -> int:
    """``recipients`` contacts in a list, credits, an SMPP connector to ``port``, and a
    transactional campaign to the list, started (fanned out)."""
    config = Config(default_region="FR")
    now = datetime.now(UTC)
    with db.transaction() as session:
        clients = book.get_or_create_list(session, "clients")
        ids = session.execute(insert(Contact).returning(Contact.id), [
            {"number": f"+3361{i:07d}", "region": "FR", "first_name": f"C{i}", "fields": {},
             "state": "active", "created_at": now, "updated_at": now}
            for i in range(recipients)]).scalars().all()
        session.execute(insert(ListMember), [{"list_id": clients.id, "contact_id": i,
                                              "added_at": now} for i in ids])
        CreditBank(session).add(recipients * 2)
        settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "system_id": "smscope",
                                    "password": "pw", "window": window, "id_format": "hex"}
        if rate:
            settings["rate"] = rate
        add_connector(session, "operator", "smpp", settings)
        from datetime import timedelta

        campaign = service.create_campaign(
            session, name="End to end", sender="SHOP", text="Hello {first_name}",
            config=config, now=now, lists=["clients"], type_="transactional",
            connector="operator",
            validity=timedelta(seconds=validity_seconds) if validity_seconds else None)
        campaign_id = campaign.id
    with db.transaction() as session:
        service.send(session, campaign_id, config=config, prices=PriceTable(), now=now)
    return campaign_id


def report(db: Database, campaign_id: int) -> dict[str, Any]:
    with db.session() as session:
        return campaign_report(session, campaign_id)


def wait_until(db: Database, campaign_id: int, done: Any, timeout: float,
               workers: list[subprocess.Popen[bytes]] | None = None) -> dict[str, Any]:
    """Poll the report until ``done(report)``; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        current = report(db, campaign_id)
        if done(current):
            return current
        for worker in workers or []:
            assert worker.poll() is None or worker.returncode == -9, "a worker died"
        assert time.monotonic() < deadline, current["counts"]
        time.sleep(0.2)
