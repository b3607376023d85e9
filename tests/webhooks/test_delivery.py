"""Webhooks delivered to a real HTTP server started by the test: signed, one event per
status change, retried with back-off, given up, never posted by two workers at once."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from sqlalchemy import select

from smscope.config import parse_duration
from smscope.db import Database
from smscope.db.tables import StatusEvent
from smscope.errors import SignatureError
from smscope.signing import verify
from smscope.webhooks.endpoints import add_endpoint
from tests.campaigns.helpers import Engine, number, receipt
from tests.webhooks.helpers import app_for, deliveries, run_webhooks, states
from tests.webhooks.receiver import Behaviour, receiver

SECRET = "test-secret-0123456789"


def _endpoint(db: Database, url: str, campaign_id: int | None = None) -> int:
    with db.transaction() as session:
        endpoint, _ = add_endpoint(session, url, campaign_id=campaign_id, secret=SECRET)
        return endpoint.id


def _campaign(engine: Engine, count: int, *, first: int = 1, name: str = "c") -> int:
    """A campaign of ``count`` messages, sent and delivered: two events each."""
    numbers = [number(i) for i in range(first, first + count)]
    campaign_id = engine.campaign(numbers=numbers, name=name)
    ids = engine.send_all()
    engine.receipts([receipt(ids[n], "DELIVRD", to=n) for n in numbers])
    return campaign_id


def _all(db: Database, state: str, count: int) -> bool:
    return states(db).get(state, 0) == count and sum(states(db).values()) == count


def test_each_status_change_is_posted_once_signed_with_a_unique_event_id(
        db: Database) -> None:
    engine = Engine(db).setup()
    with receiver() as server:
        _endpoint(db, server.url)
        _campaign(engine, 5)
        with db.session() as session:
            events = list(session.scalars(select(StatusEvent).order_by(StatusEvent.id)))
        assert len(events) == 10  # queued → sent, sent → received
        run_webhooks(app_for(db), until=lambda: _all(db, "done", 10))
        requests = server.answered()
    assert len(requests) == 10
    bodies = []
    for request in requests:
        assert request.path == "/hooks"
        assert request.headers["Content-Type"] == "application/json"
        verify(SECRET, request.headers["X-Smscope-Timestamp"],
               request.headers["X-Smscope-Signature"], request.body, now=time.time())
        with pytest.raises(SignatureError):
            verify("another-secret-000000", request.headers["X-Smscope-Timestamp"],
                   request.headers["X-Smscope-Signature"], request.body, now=time.time())
        body = json.loads(request.body)
        assert body["event_id"] == request.headers["X-Smscope-Event-Id"]
        bodies.append(body)
    assert sorted(b["event_id"] for b in bodies) == sorted(f"evt_{e.id}" for e in events)
    by_id = {b["event_id"]: b for b in bodies}
    for event in events:
        body = by_id[f"evt_{event.id}"]
        assert (body["from_status"], body["to_status"]) == (event.from_status,
                                                            event.to_status)
        assert body["message_id"] == event.message_id
        assert body["type"] == "message.status"
        assert body["occurred_at"].endswith("Z")
        assert body["number"].startswith("+3361") and body["sender"] == "SHOP"
        assert body["connector"] == "sim" and body["operator_id"]
        assert body["category"] == ("delivered" if event.to_status == "received"
                                    else "pending")
    for delivery in deliveries(db):
        assert delivery.attempts == 1 and delivery.delivered_at is not None
        assert delivery.claimed_by is None


def test_a_failing_endpoint_is_retried_with_backoff_then_succeeds(db: Database) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)])
    with receiver(Behaviour(fail_first=2, fail_status=503)) as server:
        _endpoint(db, server.url)
        engine.send_all()  # one event: queued → sent
        run_webhooks(app_for(db, max_attempts=5), until=lambda: _all(db, "done", 1))
        requests = server.answered()
    assert len(requests) == 3
    assert len({r.headers["X-Smscope-Event-Id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same event, byte for byte
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    assert min(gaps) >= 0.2  # the back-off
    [delivery] = deliveries(db)
    assert delivery.state == "done" and delivery.attempts == 3
    assert delivery.last_error == "HTTP 503 Service Unavailable"  # of the last failure


def test_a_permanently_failing_endpoint_ends_failed_with_the_last_error(
        db: Database) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)])
    with receiver(Behaviour(status=500)) as server:
        _endpoint(db, server.url)
        engine.send_all()
        run_webhooks(app_for(db, max_attempts=3), until=lambda: _all(db, "failed", 1))
        assert len(server.answered()) == 3
    [delivery] = deliveries(db)
    assert delivery.attempts == 3
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert delivery.next_attempt_at is None or delivery.state == "failed"


def test_an_endpoint_that_hangs_past_the_timeout_is_tried_again(db: Database) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)])
    with receiver(Behaviour(hang_first=1, hang_seconds=1.5)) as server:
        _endpoint(db, server.url)
        engine.send_all()
        started = time.monotonic()
        run_webhooks(app_for(db, timeout=parse_duration("0.3s")), until=lambda: _all(db, "done", 1))
        assert time.monotonic() - started < 10
    [delivery] = deliveries(db)
    assert delivery.attempts == 2 and delivery.last_error == "no answer within 0.3 s"


def test_a_refused_connection_and_a_redirect_are_failures(db: Database) -> None:
    engine = Engine(db).setup()
    engine.campaign(numbers=[number(1)])
    with receiver(Behaviour(status=302, location="http://elsewhere.example/x")) as server:
        _endpoint(db, server.url)
        engine.send_all()
        run_webhooks(app_for(db, max_attempts=1), until=lambda: _all(db, "failed", 1))
        assert len(server.answered()) == 1
    [delivery] = deliveries(db)
    assert "redirect to http://elsewhere.example/x (not followed)" in (delivery.last_error
                                                                       or "")
    with receiver() as closed:
        url = closed.url
    engine.campaign(numbers=[number(2)], name="second")
    with db.transaction() as session:
        add_endpoint(session, url, secret=SECRET)
    engine.send_all()
    run_webhooks(app_for(db, max_attempts=1),
                 until=lambda: states(db).get("failed", 0) == 3)
    refused = [d for d in deliveries(db) if d.endpoint_id == 2]
    assert refused and all("Connect" in (d.last_error or "") for d in refused)


def test_a_campaign_endpoint_gets_only_its_campaign_and_the_account_gets_all(
        db: Database) -> None:
    engine = Engine(db).setup()
    first = engine.campaign(numbers=[number(1), number(2)], name="A")
    engine.campaign(numbers=[number(3)], name="B")
    with receiver() as for_a, receiver() as for_all:
        _endpoint(db, for_a.url, campaign_id=first)
        _endpoint(db, for_all.url)
        engine.send_all()  # one event per message: queued → sent
        run_webhooks(app_for(db), until=lambda: _all(db, "done", 2 + 3))
        a_events = [json.loads(r.body) for r in for_a.answered()]
        all_events = [json.loads(r.body) for r in for_all.answered()]
    assert len(a_events) == 2 and {e["campaign_id"] for e in a_events} == {first}
    assert len(all_events) == 3
    assert {e["event_id"] for e in a_events} < {e["event_id"] for e in all_events}


def test_an_endpoint_gets_only_what_happens_after_it_was_added(db: Database) -> None:
    engine = Engine(db).setup()
    _campaign(engine, 2)  # four events before any endpoint: nobody reads them
    app = app_for(db)
    run_webhooks(app, until=lambda: True)
    assert deliveries(db) == []
    with receiver() as server:
        _endpoint(db, server.url)
        _campaign(engine, 1, first=10, name="later")
        run_webhooks(app, until=lambda: _all(db, "done", 2))
        assert len(server.answered()) == 2


def test_two_workers_never_both_post_one_delivery(pg_db: Database) -> None:
    engine = Engine(pg_db).setup(credits=10_000)
    with receiver() as server:
        _endpoint(pg_db, server.url)
        _campaign(engine, 150)
        apps = [app_for(pg_db, concurrency=4) for _ in range(2)]
        run_webhooks(*apps, until=lambda: _all(pg_db, "done", 300), timeout=60)
        requests = server.answered()
    ids = [r.headers["X-Smscope-Event-Id"] for r in requests]
    assert len(ids) == 300 and len(set(ids)) == 300


def test_claims_of_two_workers_at_once_are_disjoint_and_expire(pg_db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    from smscope.config import WebhooksConfig
    from smscope.webhooks.delivery import claim

    engine = Engine(pg_db).setup()
    endpoint_id = _endpoint(pg_db, "http://127.0.0.1:9/h")
    engine.campaign(numbers=[number(i) for i in range(1, 7)])
    engine.send_all()
    from smscope.webhooks.pump import EventPump

    now = datetime.now(UTC)
    with pg_db.transaction() as session:
        assert EventPump().run(session, now=now).deliveries == 6
    config = WebhooksConfig()
    with pg_db.transaction() as first:
        mine = claim(first, endpoint_id=endpoint_id, worker_id="a", now=now, limit=4,
                     config=config)
        with pg_db.transaction() as second:  # while the first has not committed
            theirs = claim(second, endpoint_id=endpoint_id, worker_id="b", now=now,
                           limit=10, config=config)
    assert len(mine) == 4 and len(theirs) == 2
    assert not {d.id for d in mine} & {d.id for d in theirs}
    with pg_db.transaction() as session:  # all claimed: nothing until the leases end
        assert claim(session, endpoint_id=endpoint_id, worker_id="c", now=now, limit=10,
                     config=config) == []
        later = now + timedelta(hours=1)
        assert len(claim(session, endpoint_id=endpoint_id, worker_id="c", now=later,
                         limit=10, config=config)) == 6
