"""Counters for statistics (quarter-hour buckets) and the delivery-time curve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smscope.campaigns.counters import bucket_of, latency_counter, stat_key
from smscope.db import Database
from tests.campaigns.helpers import NOW, Engine, number, receipt


@pytest.mark.parametrize(("moment", "bucket"), [
    (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
    (datetime(2026, 11, 24, 10, 14, 59, 999999, tzinfo=UTC),
     datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
    (datetime(2026, 11, 24, 10, 15, tzinfo=UTC), datetime(2026, 11, 24, 10, 15, tzinfo=UTC)),
    (datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC),
     datetime(2026, 11, 24, 23, 45, tzinfo=UTC)),
])
def test_a_moment_falls_in_its_quarter_hour(moment: datetime, bucket: datetime) -> None:
    assert bucket_of(moment) == bucket


@pytest.mark.parametrize(("seconds", "name"), [
    (0, "latency:10"), (10, "latency:10"), (10.5, "latency:30"), (3600, "latency:3600"),
    (259200, "latency:259200"), (259201, "latency:more"),
])
def test_delivery_times_are_counted_under_their_upper_bound(seconds: float, name: str) -> None:
    assert latency_counter(seconds) == name


def test_a_test_send_has_no_statistics_key() -> None:
    msg = {"kind": "test", "created_at": NOW, "campaign_id": 1, "region": "FR",
           "sender": "S", "connector_id": 1}
    assert stat_key(msg) is None
    assert stat_key({**msg, "kind": "campaign"}) == (NOW, 1, "FR", "S", 1)
    assert stat_key({**msg, "kind": "single", "campaign_id": None, "region": None}) == (
        NOW, 0, "", "S", 1)


def test_a_received_receipt_counts_how_long_delivery_took(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1), number(2), number(3)])
    ids = engine.send_all()
    engine.receipts([receipt(ids[number(1)], to=number(1))], NOW + timedelta(seconds=25))
    engine.receipts([receipt(ids[number(2)], to=number(2))], NOW + timedelta(minutes=7))
    # a failure is not a delivery time
    engine.receipts([receipt(ids[number(3)], "UNDELIV", "001", to=number(3))],
                    NOW + timedelta(minutes=8))
    counters = engine.counters(campaign_id)
    assert {k: v for k, v in counters.items() if k.startswith("latency:")} == {
        "latency:30": 1, "latency:600": 1}
    # a re-sent receipt changes nothing
    engine.receipts([receipt(ids[number(1)], to=number(1))], NOW + timedelta(minutes=9))
    assert engine.counters(campaign_id)["latency:30"] == 1
    engine.report(campaign_id)
