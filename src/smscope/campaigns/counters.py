"""Campaign figures kept in the ``counters`` table, changed in the same transaction as
the statuses they count, so a report reads a few rows whatever the campaign's size.

Every message is counted once under its current status, for the whole campaign
(``list_id`` 0) and for each list it was sent through. Other figures (``accepted``,
``replies``, ``stop_replies``…) are counted by name. A :class:`Tally` gathers the
changes of one transaction and writes them with one statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smscope.db.sql import upsert_rows
from smscope.db.tables import Counter

__all__ = ["ACCEPTED_COUNTER", "ALL_LISTS", "COST_COUNTER", "Tally", "read_counters"]

_COLUMNS = ("campaign_id", "list_id", "name", "shard", "value")

#: ``list_id`` of the figures of the whole campaign
ALL_LISTS = 0
#: the counter of a campaign's charges, in ten-thousandths of a credit
COST_COUNTER = "cost_units"
#: messages an operator accepted at least once (not a status: "sent" is one)
ACCEPTED_COUNTER = "accepted"


class Tally:
    """Counter changes waiting to be written: ``(campaign, list, name) → delta``."""

    def __init__(self) -> None:
        self.deltas: defaultdict[tuple[int, int, str], int] = defaultdict(int)

    def add(self, campaign_id: int | None, list_ids: Iterable[int] | None, name: str,
            delta: int = 1) -> None:
        """Count ``delta`` under ``name`` for the campaign and each of ``list_ids``."""
        if campaign_id is None or not delta:
            return
        self.deltas[(campaign_id, ALL_LISTS, name)] += delta
        for list_id in list_ids or ():
            self.deltas[(campaign_id, list_id, name)] += delta

    def move(self, campaign_id: int | None, list_ids: Iterable[int] | None,
             from_status: str | None, to_status: str) -> None:
        """A message left ``from_status`` (None: it is new) for ``to_status``."""
        ids = list(list_ids or ())
        if from_status is not None:
            self.add(campaign_id, ids, from_status, -1)
        self.add(campaign_id, ids, to_status, 1)

    def __bool__(self) -> bool:
        return any(self.deltas.values())

    def flush(self, session: Session, shard: int = 0) -> None:
        """Write the changes (an upsert adding to the stored values) and forget them."""
        rows = [
            {"campaign_id": c, "list_id": lst, "name": name, "shard": shard, "value": delta}
            for (c, lst, name), delta in sorted(self.deltas.items()) if delta
        ]
        self.deltas.clear()
        if not rows:
            return
        # the same upsert on SQLite and PostgreSQL; one per batch of receipts, so
        # through the DB-API's executemany (Core's statement setup cost more than it)
        upsert_rows(session, Counter, _COLUMNS, rows,
                    conflict=("campaign_id", "list_id", "name", "shard"),
                    add=("value",))


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
