"""The ``[webhooks]`` settings and the retry rule they drive (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscope.config import WebhooksConfig, load_config
from smscope.errors import ConfigError
from smscope.webhooks.delivery import lease, retry_at

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_defaults_retry_for_about_a_day_with_growing_delays() -> None:
    config = WebhooksConfig()
    delays = []
    for attempts in range(1, config.max_attempts):
        at = retry_at(attempts, T0, config)
        assert at is not None
        delays.append(at - T0)
    assert delays == sorted(delays) and delays[0] == timedelta(seconds=10)
    assert timedelta(hours=12) < sum(delays, timedelta()) < timedelta(hours=48)
    assert retry_at(config.max_attempts, T0, config) is None


def test_the_last_delay_repeats_and_max_attempts_ends_it() -> None:
    config = WebhooksConfig(backoff=["1s", "5s"], max_attempts=4)
    assert [retry_at(n, T0, config) for n in (1, 2, 3, 4)] == [
        T0 + timedelta(seconds=1), T0 + timedelta(seconds=5), T0 + timedelta(seconds=5),
        None]


def test_a_claim_lasts_long_enough_for_every_lane_to_time_out() -> None:
    config = WebhooksConfig(timeout="10s", concurrency=4)
    assert lease(config, 8) == timedelta(seconds=2 * 10 + 30)


def test_settings_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "smscope.toml"
    path.write_text('[webhooks]\ntimeout = "3s"\nbackoff = ["1m", "1h"]\n', encoding="utf-8")
    config = load_config(path, environ={"SMSCOPE_WEBHOOKS_MAX_ATTEMPTS": "4"})
    assert config.webhooks.timeout == timedelta(seconds=3)
    assert config.webhooks.backoff == [timedelta(minutes=1), timedelta(hours=1)]
    assert config.webhooks.max_attempts == 4


@pytest.mark.parametrize(("text", "says"), [
    ('timeout = "1h"', "[webhooks] timeout: the timeout must be between 0.1s and 5m"),
    ("backoff = []", "[webhooks] backoff: give at least one delay"),
    ('backoff = ["soon"]', "[webhooks] backoff: 'soon' is not a duration"),
    ("max_attempts = 0", "[webhooks] max_attempts"),
    ("concurrency = 1000", "[webhooks] concurrency"),
    ("retries = 3", "[webhooks] retries: unknown setting"),
])
def test_wrong_settings_name_their_place(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "smscope.toml"
    path.write_text(f"[webhooks]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as wrong:
        load_config(path, environ={})
    assert says in str(wrong.value)


def test_webhooks_give_way_to_receipts_only_while_they_pour_in() -> None:
    import asyncio
    import time

    from smscope.webhooks.runner import GiveWay

    busy = [True]
    way = GiveWay(lambda: busy[0], ratio=4.0)
    way.spent(0.0)

    async def pause_after(seconds: float) -> float:
        way.spent(seconds)
        started = time.monotonic()
        await way.wait()
        return time.monotonic() - started

    assert 0.35 <= asyncio.run(pause_after(0.1)) < 1.5
    assert asyncio.run(pause_after(10.0)) < 2.0  # a second at once, not forty

    async def two_at_once() -> list[float]:
        # while busy, webhook work goes one piece at a time: the second waits for the
        # first to say how long it took, then for its pause
        started = time.monotonic()
        ends: list[float] = []

        async def piece() -> None:
            await way.wait()
            await asyncio.sleep(0.05)
            way.spent(0.05)
            ends.append(time.monotonic() - started)

        await asyncio.gather(piece(), piece())
        return ends

    first, second = asyncio.run(two_at_once())
    assert second - first >= 0.04 * 4
    busy[0] = False
    assert asyncio.run(pause_after(0.1)) < 0.05
