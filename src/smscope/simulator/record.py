"""The simulator's own account of what it did: what the tests compare smscope against.

Counted by the simulator, never by smscope, so a test can check that smscope sent
each message once and stored each receipt: ``submitted`` must equal what smscope
believes it sent, and ``receipts.acked`` what it stored.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Record"]


@dataclass
class _Tally:
    #: created (due now or later)
    planned: int = 0
    #: sent at least once
    sent: int = 0
    #: sends after the first (no answer, an error answer, or a new bind)
    resent: int = 0
    #: answered by a deliver_sm_resp with status 0 (never sent again)
    acked: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"planned": self.planned, "sent": self.sent, "resent": self.resent,
                "acked": self.acked, "pending": self.planned - self.acked}


@dataclass
class _Clicks:
    #: tracked links the simulator will open (one per clicking recipient)
    planned: int = 0
    #: opened: the server answered (a redirect)
    fetched: int = 0
    #: refused, an error answer, or no answer in time
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"planned": self.planned, "fetched": self.fetched, "failed": self.failed}


@dataclass
class Record:
    """Counts since the simulator started."""

    #: submit_sm accepted (one per part of a long message)
    submitted: int = 0
    #: submit_sm refused by an override's ``submit_status``
    refused: int = 0
    #: submit_sm refused with ESME_RTHROTTLED (``--max-rate``)
    throttled: int = 0
    #: messages that will never get a final receipt (``silent`` outcomes)
    silent: int = 0
    #: final receipts sent twice at once on purpose (``[faults] duplicate_receipts``)
    duplicated: int = 0
    #: final receipts sent before their submit_sm_resp (``[faults] early_receipts``)
    early: int = 0
    numbers: set[str] = field(default_factory=set)
    receipts: _Tally = field(default_factory=_Tally)
    mo: _Tally = field(default_factory=_Tally)
    clicks: _Clicks = field(default_factory=_Clicks)
    #: final receipts planned, by stat
    by_stat: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "refused": self.refused,
            "throttled": self.throttled,
            "distinct_numbers": len(self.numbers),
            "silent": self.silent,
            "duplicated": self.duplicated,
            "early": self.early,
            "receipts": self.receipts.as_dict(),
            "mo": self.mo.as_dict(),
            "clicks": self.clicks.as_dict(),
            "by_stat": dict(sorted(self.by_stat.items())),
        }

    def summary(self) -> str:
        """One line for people."""
        r = self.receipts
        return (
            f"{self.submitted:,} submitted to {len(self.numbers):,} numbers, "
            f"{r.sent:,} receipts sent, {r.acked:,} acknowledged, "
            f"{r.planned - r.acked:,} pending; {self.mo.acked:,} of {self.mo.planned:,} "
            f"replies acknowledged; {self.throttled:,} throttled, {self.refused:,} refused"
        )

    def write(self, path: Path) -> None:
        """Write the record as JSON, atomically (a reader never sees half a file)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.as_dict(), out, indent=2)
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
