"""Campaign figures kept in the ``counters`` table, changed in the same transaction as
the statuses they count, so a report reads a few rows whatever the campaign's size.

Every message is counted once under its current status, for the whole campaign
(``list_id`` 0) and for each list it was sent through. Other figures (``accepted``,
``replies``, ``stop_replies``…) are counted by name. A :class:`Tally` gathers the
changes of one transaction and writes them with one statement per table.

The same changes are counted a second time in ``stat_counters``, by the quarter hour
the message was created in and by its country, sender and connector: the statistics
over a date range read those rows, never the messages. A quarter hour, because every
time zone in use is a whole number of quarter hours from UTC: each bucket falls in one
day of whatever zone the account uses, now or later.

And a third time in ``stat_days``, by day of the zone the ``stat_days`` setting names
(the account's, once ``smscope stats`` has made the table): a month of statistics then
reads a few rows per day instead of 96 quarter hours. The setting is read (and on
PostgreSQL share-locked) in the writing transaction, so a change of zone, which
rebuilds the table under an exclusive lock of that row, never misses a write.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smscope.db.sql import Driver, insert_rows, is_postgresql, upsert_rows
from smscope.db.tables import Counter, Setting, StatCounter, StatDay

__all__ = ["ACCEPTED_COUNTER", "ALL_LISTS", "BUCKET", "COST_COUNTER", "DAYS_SETTING",
           "LATENCY_BOUNDS", "StatKey", "Tally", "bucket_of", "day_zone", "latency_counter",
           "read_counters", "rebuild_days", "stat_key"]

_COLUMNS = ("campaign_id", "list_id", "name", "shard", "value")
_STAT_COLUMNS = ("bucket", "campaign_id", "region", "sender", "connector_id", "name", "value")
_STAT_KEY = ("bucket", "campaign_id", "region", "sender", "connector_id", "name")
_DAY_COLUMNS = ("day", "campaign_id", "region", "sender", "connector_id", "name", "value")
_DAY_KEY = ("day", "campaign_id", "region", "sender", "connector_id", "name")
#: the setting naming the zone ``stat_days`` is kept in (``{"zone": "Europe/Paris"}``)
DAYS_SETTING = "stat_days"

#: ``list_id`` of the figures of the whole campaign
ALL_LISTS = 0
#: the counter of a campaign's charges, in ten-thousandths of a credit
COST_COUNTER = "cost_units"
#: messages an operator accepted at least once (not a status: "sent" is one)
ACCEPTED_COUNTER = "accepted"
#: the width of a statistics bucket
BUCKET = timedelta(minutes=15)
#: upper bounds (seconds) of the delivery-time counters ``latency:<bound>``: how long a
#: message took from its first submit to its ``received`` receipt; the last one,
#: ``latency:more``, has no bound
LATENCY_BOUNDS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400,
                  172800, 259200)

#: ``(bucket, campaign_id or 0, region or "", sender, connector_id or 0)``
StatKey = tuple[datetime, int, str, str, int]


def bucket_of(moment: datetime) -> datetime:
    """The start of the quarter hour ``moment`` falls in."""
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0,
                          microsecond=0)


_last_bucket: tuple[datetime | None, datetime | None] = (None, None)


def stat_key(msg: Mapping[Any, Any]) -> StatKey | None:
    """The statistics key of a message (its ``created_at``, ``campaign_id``,
    ``region``, ``sender``, ``connector_id`` and ``kind``); None for a test send,
    which is tracked but counted nowhere."""
    if msg["kind"] == "test":
        return None
    global _last_bucket
    created = msg["created_at"]
    # a campaign's messages share their creation time: remember the last one
    seen, bucket = _last_bucket
    if created != seen or bucket is None:
        bucket = bucket_of(created)
        _last_bucket = (created, bucket)
    return (bucket, msg["campaign_id"] or 0, msg["region"] or "", msg["sender"] or "",
            msg["connector_id"] or 0)


def latency_counter(seconds: float) -> str:
    """The name of the delivery-time counter for a receipt after ``seconds``."""
    for bound in LATENCY_BOUNDS:
        if seconds <= bound:
            return f"latency:{bound}"
    return "latency:more"


class Tally:
    """Counter changes waiting to be written: ``(campaign, list, name) → delta``."""

    def __init__(self) -> None:
        self.deltas: defaultdict[tuple[int, int, str], int] = defaultdict(int)
        self.stats: defaultdict[tuple[StatKey, str], int] = defaultdict(int)

    def add(self, campaign_id: int | None, list_ids: Iterable[int] | None, name: str,
            delta: int = 1, *, stat: StatKey | None = None) -> None:
        """Count ``delta`` under ``name`` for the campaign and each of ``list_ids``,
        and under the statistics key ``stat`` (see :func:`stat_key`) when given."""
        if not delta:
            return
        if stat is not None:
            self.stats[(stat, name)] += delta
        if campaign_id is None:
            return
        self.deltas[(campaign_id, ALL_LISTS, name)] += delta
        for list_id in list_ids or ():
            self.deltas[(campaign_id, list_id, name)] += delta

    def move(self, campaign_id: int | None, list_ids: Iterable[int] | None,
             from_status: str | None, to_status: str, *,
             stat: StatKey | None = None) -> None:
        """A message left ``from_status`` (None: it is new) for ``to_status``."""
        ids = list(list_ids or ())
        if from_status is not None:
            self.add(campaign_id, ids, from_status, -1, stat=stat)
        self.add(campaign_id, ids, to_status, 1, stat=stat)

    def __bool__(self) -> bool:
        return any(self.deltas.values()) or any(self.stats.values())

    def flush(self, session: Session, shard: int = 0) -> None:
        """Write the changes (an upsert adding to the stored values) and forget them."""
        rows = [
            {"campaign_id": c, "list_id": lst, "name": name, "shard": shard, "value": delta}
            for (c, lst, name), delta in sorted(self.deltas.items()) if delta
        ]
        self.deltas.clear()
        # the same upsert on SQLite and PostgreSQL; one per batch of receipts, so
        # through the DB-API's executemany (Core's statement setup cost more than it)
        if rows:
            upsert_rows(session, Counter, _COLUMNS, rows,
                        conflict=("campaign_id", "list_id", "name", "shard"),
                        add=("value",))
        stat_rows = [(*key, name, delta)
                     for (key, name), delta in sorted(self.stats.items()) if delta]
        self.stats.clear()
        if stat_rows:
            upsert_rows(session, StatCounter, _STAT_COLUMNS,
                        [dict(zip(_STAT_COLUMNS, row, strict=True)) for row in stat_rows],
                        conflict=_STAT_KEY, add=("value",))
            zone = _writers_day_zone(session)
            if zone is not None:
                days = _by_day(((row[:-1], row[-1]) for row in stat_rows), zone)
                upsert_rows(session, StatDay, _DAY_COLUMNS, days, conflict=_DAY_KEY,
                            add=("value",))


_DAY_ZONE = select(Setting.value).where(Setting.key == DAYS_SETTING)
_day_of: dict[tuple[str, datetime], Any] = {}


def day_zone(session: Session) -> ZoneInfo | None:
    """The zone ``stat_days`` is kept in, or None while it is not kept."""
    value = session.execute(_DAY_ZONE).scalar()
    zone = value.get("zone") if isinstance(value, dict) else None
    return ZoneInfo(zone) if zone else None


def _writers_day_zone(session: Session) -> ZoneInfo | None:
    """:func:`day_zone` for a writer, share-locked on PostgreSQL: on the transaction's
    DB-API connection, since it runs with every batch of receipts (through the ORM the
    statement cost more than the rest of the flush)."""
    driver = Driver.of(session)
    q = driver.quote
    rows = driver.rows(
        f"SELECT {q('value')} FROM {q('settings')} WHERE {q('key')} = {driver.mark}"
        + (" FOR SHARE" if driver.postgresql else ""), (DAYS_SETTING,))
    value = rows[0][0] if rows else None
    if isinstance(value, str | bytes):
        value = json.loads(value)
    zone = value.get("zone") if isinstance(value, dict) else None
    return ZoneInfo(zone) if zone else None


def _by_day(rows: Iterable[tuple[tuple[Any, ...], int]], zone: ZoneInfo
            ) -> list[dict[str, Any]]:
    """Quarter-hour rows ``((bucket, campaign, region, sender, connector, name), value)``
    summed into rows of ``stat_days`` for ``zone``."""
    sums: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for (bucket, *rest), value in rows:
        day = _day_of.get((zone.key, bucket))
        if day is None:
            if len(_day_of) > 100_000:
                _day_of.clear()
            day = _day_of[(zone.key, bucket)] = bucket.astimezone(zone).date()
        sums[(day, *rest)] += value
    return [dict(zip(_DAY_COLUMNS, (*key, value), strict=True))
            for key, value in sorted(sums.items()) if value]


def rebuild_days(session: Session, zone: ZoneInfo) -> int:
    """Make ``stat_days`` again for ``zone`` from the quarter hours, and keep it in that
    zone from now on; returns its rows. Holds the setting's row lock until the caller's
    transaction ends, so no writer adds to the table in another zone meanwhile."""
    if is_postgresql(session):
        # writers share-lock the setting's row: wait for them, and keep new ones out
        session.execute(select(Setting.key).where(Setting.key == DAYS_SETTING)
                        .with_for_update())
    setting = session.get(Setting, DAYS_SETTING)
    if setting is None:
        session.add(Setting(key=DAYS_SETTING, value={"zone": zone.key}, updated_by="stats"))
        session.flush()
        if is_postgresql(session):
            session.execute(select(Setting.key).where(Setting.key == DAYS_SETTING)
                            .with_for_update())
    else:
        setting.value = {"zone": zone.key}
    session.execute(delete(StatDay))
    rows = session.execute(select(
        StatCounter.bucket, StatCounter.campaign_id, StatCounter.region, StatCounter.sender,
        StatCounter.connector_id, StatCounter.name, StatCounter.value)
        .where(StatCounter.value != 0))
    days = _by_day(((tuple(row[:-1]), int(row[-1])) for row in rows), zone)
    for start in range(0, len(days), 5000):
        insert_rows(session, StatDay, _DAY_COLUMNS, days[start:start + 5000])
    return len(days)


def read_counters(session: Session, campaign_id: int,
                  list_id: int = ALL_LISTS) -> dict[str, int]:
    """``name → value`` of one campaign (or one of its lists), shards summed."""
    rows = session.execute(
        select(Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id, Counter.list_id == list_id)
        .group_by(Counter.name)
    )
    return {name: int(value) for name, value in rows if value}


def read_list_counters(session: Session, campaign_id: int) -> dict[int, dict[str, int]]:
    """``list_id → name → value`` for every list of a campaign."""
    result: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Counter.list_id, Counter.name, func.sum(Counter.value))
        .where(Counter.campaign_id == campaign_id, Counter.list_id != ALL_LISTS)
        .group_by(Counter.list_id, Counter.name)
    )
    for list_id, name, value in rows:
        if value:
            result[list_id][name] = int(value)
    return dict(result)
