"""A campaign sent through the simulator with a webhook: every status change of every
message reaches the receiver once, signed, in the order it happened per message."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from smscope.db import Database
from smscope.db.tables import Message, StatusEvent
from smscope.signing import verify
from tests.conftest import Run
from tests.e2e.test_campaign_cli import setup_book
from tests.webhooks.helpers import app_for, deliveries, run_webhooks, states
from tests.webhooks.receiver import receiver

Cli = Callable[..., Run]

PROFILE = """
description = "quick, with intermediate receipts and failures"
[latency]
distribution = "fixed"
value = "0.2s"
[intermediate]
acceptd = 0.0
enroute = 1.0
[[outcomes]]
stat = "DELIVRD"
share = 0.8
[[outcomes]]
stat = "UNDELIV"
err = "001"
label = "unknown subscriber"
share = 0.2
"""


def test_a_campaign_through_the_simulator_posts_one_event_per_transition(
        smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=30)
    (tmp_path / "profile.toml").write_text(PROFILE, encoding="utf-8")
    assert smscope("connector", "add", "sim", "--simulator", "--profile",
                   str(tmp_path / "profile.toml"), "--seed", "3").code == 0
    created = smscope("campaign", "create", "--name", "Hooks", "--sender", "SHOP", "--text",
                      "Bonjour {first_name}", "--list", "clients", "--type", "transactional",
                      "--connector", "sim", "--json")
    assert created.code == 0, created.err
    with receiver() as server:
        added = smscope("webhooks", "add", server.url, "--campaign", "1", "--json").json()
        sent = smscope("campaign", "send", "1", "--wait", "--timeout", "60", "--json")
        assert sent.code == 0, sent.err
        db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
        try:
            with db.session() as session:
                events = list(session.execute(
                    select(StatusEvent.id, StatusEvent.message_id, StatusEvent.to_status)
                    .join(Message, Message.id == StatusEvent.message_id)
                    .where(Message.campaign_id == 1).order_by(StatusEvent.id)))
            # the worker of `send --wait` posted some; a worker started later posts the rest
            run_webhooks(app_for(db), until=lambda: states(db).get("done", 0) == len(events))
            assert sum(states(db).values()) == len(events)
            retried = {d.event_id: d.last_error for d in deliveries(db) if d.attempts > 1}
        finally:
            db.dispose()
        requests = server.answered()
    statuses = {e.to_status for e in events}
    assert {"sent", "delivered_to_operator", "received"} <= statuses
    assert statuses & {"permanent_error_phone", "permanent_error_absence"}
    # at least once: a post answered while `send --wait` stopped, before it was recorded,
    # is posted again by the next worker — the same event, byte for byte
    assert len(requests) >= len(events)
    bodies, seen = [], {}
    for request in requests:
        # raises SignatureError unless signed with the endpoint's secret, just now
        verify(added["secret"], request.headers["X-Smscope-Timestamp"],
               request.headers["X-Smscope-Signature"], request.body, now=time.time())
        body = json.loads(request.body)
        if body["event_id"] in seen:
            assert request.body == seen[body["event_id"]]
            continue
        seen[body["event_id"]] = request.body
        bodies.append(body)
    assert len(requests) - len(bodies) <= 8  # no more repeats than posts in flight
    assert sorted(b["sequence"] for b in bodies) == [e.id for e in events]
    assert {b["event_id"] for b in bodies} == {f"evt_{e.id}" for e in events}
    # first attempts of one message's events are posted in the order they happened
    by_message: dict[int, list[int]] = defaultdict(list)
    for body in bodies:
        if body["event_id"] not in retried:  # a retry may come after later events
            by_message[body["message_id"]].append(body["sequence"])
    assert all(seq == sorted(seq) for seq in by_message.values()), (dict(by_message), retried)
    failed = [b for b in bodies if b["category"] == "hard_bounce"]
    assert failed and all(b["error_code"] == "001" and b["final"] for b in failed)
