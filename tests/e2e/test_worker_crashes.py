"""A worker killed with SIGKILL at awkward moments, then restarted: no receipt lost or
counted twice, no message submitted twice, everything accounted for. Real processes:
``smscope simulator`` and ``smscope worker`` on a SQLite file."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from smscope.db import Database
from tests.e2e.processes import (
    SimulatorProcess,
    environment,
    prepare_campaign,
    start,
    stop,
    wait_until,
)

#: receipts arrive over a few seconds, some twice, some before their submit response
#: (hard bounces stay under the 5 % that would suspend the campaign)
PROFILE = """
resend_after = "1s"
[latency]
distribution = "uniform"
min = "0.2s"
max = "3s"
[faults]
duplicate_receipts = 0.05
early_receipts = 0.05
[[outcomes]]
stat = "DELIVRD"
share = 0.92
[[outcomes]]
stat = "UNDELIV"
err = "001"
share = 0.03
[[outcomes]]
stat = "REJECTD"
err = "013"
share = 0.05
"""


def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'smscope.db'}")
    db.ensure_schema()
    return db


def final(report: dict) -> bool:  # type: ignore[type-arg]
    assert report["state"] != "suspended", report["state_reason"]
    return report["state"] == "completed"


def test_kill_while_receipts_stream_in_loses_nothing_and_counts_nothing_twice(
        tmp_path: Path) -> None:
    db = database(tmp_path)
    (tmp_path / "profile.toml").write_text(PROFILE, encoding="utf-8")
    env = environment(db.url)
    simulator = SimulatorProcess(tmp_path, env, "--profile", str(tmp_path / "profile.toml"),
                                 "--seed", "7")
    try:
        campaign_id = prepare_campaign(db, simulator.port, 1500)
        first = start("worker", env=env, log=tmp_path / "worker1.log")
        # kill it once a part of the receipts is stored and the rest is on its way
        wait_until(db, campaign_id, lambda r: r["counts"]["delivered"] > 400, 60, [first])
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(1.0)  # receipts keep coming to nobody
        second = start("worker", env=env, log=tmp_path / "worker2.log")
        try:
            report = wait_until(db, campaign_id, final, 90, [second])
        finally:
            stop(second)
    finally:
        own = simulator.finish()
    assert own["submitted"] == 1500 == own["distinct_numbers"]
    assert own["receipts"]["pending"] == 0
    assert own["duplicated"] > 0 and own["early"] > 0
    assert report["recipients"] == 1500
    assert report["statuses"]["received"] == own["by_stat"]["DELIVRD"]
    assert report["statuses"]["permanent_error_absence"] == own["by_stat"]["UNDELIV"]
    assert report["statuses"]["rejected"] == own["by_stat"]["REJECTD"]
    assert sum(report["statuses"].values()) == 1500
    assert report["sent"] == 1500


def test_kill_while_submitting_sends_nothing_twice_and_accounts_for_every_message(
        tmp_path: Path) -> None:
    db = database(tmp_path)
    env = environment(db.url)
    simulator = SimulatorProcess(tmp_path, env, "--profile", "instant")
    window = 50
    try:
        campaign_id = prepare_campaign(db, simulator.port, 2000, window=window, rate=400,
                                       validity_seconds=8)
        first = start("worker", env=env, log=tmp_path / "worker1.log")
        wait_until(db, campaign_id, lambda r: r["sent"] > 300, 60, [first])
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start("worker", env=env, log=tmp_path / "worker2.log")
        try:
            report = wait_until(db, campaign_id, final, 90, [second])
        finally:
            stop(second)
    finally:
        own = simulator.finish()
    # no number got the message twice
    assert own["submitted"] == own["distinct_numbers"]
    in_doubt = report["statuses"]["undefined"]
    assert in_doubt <= window
    assert report["statuses"]["received"] + in_doubt == 2000 == report["recipients"]
    # every submit the simulator took is a message smscope knows it sent (or in doubt)
    assert report["sent"] <= own["submitted"] <= report["sent"] + in_doubt


def test_a_worker_stopped_gracefully_leaves_no_message_in_doubt(tmp_path: Path) -> None:
    """SIGTERM while submitting: the batch in hand is answered and recorded before the
    worker exits, so no message is left in doubt (those would never be sent again and
    end ``undefined``); a worker started later sends the rest, each number once."""
    from sqlalchemy import func, select

    from smscope.db.tables import Message

    db = database(tmp_path)
    env = environment(db.url)
    simulator = SimulatorProcess(tmp_path, env, "--profile", "instant")
    try:
        campaign_id = prepare_campaign(db, simulator.port, 2000, window=50, rate=400)
        first = start("worker", env=env, log=tmp_path / "worker1.log")
        wait_until(db, campaign_id, lambda r: r["sent"] > 300, 60, [first])
        assert stop(first) == 0, (tmp_path / "worker1.log").read_text()
        with db.session() as session:
            in_doubt = session.scalar(select(func.count()).select_from(Message)
                                      .where(Message.in_doubt.is_(True)))
            sent = session.scalar(select(func.count()).select_from(Message)
                                  .where(Message.attempts > 0))
        assert in_doubt == 0
        assert simulator.snapshot()["submitted"] == sent < 2000  # stopped midway
        second = start("worker", env=env, log=tmp_path / "worker2.log")
        try:
            report = wait_until(db, campaign_id, final, 90, [second])
        finally:
            stop(second)
    finally:
        own = simulator.finish()
    assert own["submitted"] == own["distinct_numbers"] == 2000
    assert report["statuses"]["undefined"] == 0
    assert report["statuses"]["received"] == 2000 == report["recipients"] == report["sent"]
