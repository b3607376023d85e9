"""The blacklist (opt-out list): numbers that asked to receive nothing more.

A blacklisted number is never texted again. Adding a number blacklists its contact;
removing it (always logged, never silent) makes the contact active again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from smscope import numbers
from smscope.contacts.book import insert_ignore, set_state
from smscope.csvio import SafeCsvWriter, create_export
from smscope.db.tables import BlacklistEntry, BlacklistLog, Contact
from smscope.db.types import utcnow
from smscope.errors import NotFoundError
from smscope.pagination import Page, fetch_page, fetch_page_desc, text_filter

SOURCES = ("manual", "import", "api", "stop_reply", "provider_optout")
EXPORT_COLUMNS = ["number", "reason", "source", "actor", "created_at"]


def entry_to_json(entry: BlacklistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "number": entry.number,
        "reason": entry.reason,
        "source": entry.source,
        "actor": entry.actor,
        "campaign_id": entry.campaign_id,
        "created_at": entry.created_at,
    }


def add(session: Session, number: str, *, reason: str = "", source: str = "manual",
        actor: str = "cli", default_region: str | None = None,
        campaign_id: int | None = None, reply_id: int | None = None
        ) -> tuple[BlacklistEntry, bool]:
    """Blacklist a number; returns (entry, created). Already there: nothing changes."""
    if source not in SOURCES:
        raise ValueError(f"unknown blacklist source {source!r}")
    e164 = numbers.normalize(number, default_region)
    existing = session.scalar(select(BlacklistEntry).where(BlacklistEntry.number == e164))
    if existing is not None:
        return existing, False
    now = utcnow()
    inserted = session.scalar(
        insert_ignore(session, BlacklistEntry, ["number"]).values(
            number=e164, reason=reason, source=source, actor=actor,
            campaign_id=campaign_id, reply_id=reply_id, created_at=now,
        ).returning(BlacklistEntry.id))
    entry = session.scalars(select(BlacklistEntry).where(BlacklistEntry.number == e164)).one()
    if inserted is None:
        # Added by a concurrent transaction since the check above: that one logs it.
        return entry, False
    session.add(BlacklistLog(number=e164, action="add", reason=reason, source=source,
                             actor=actor, at=now))
    contact = session.scalar(select(Contact).where(Contact.number == e164))
    if contact is not None:
        why = f"blacklisted ({source})" + (f": {reason}" if reason else "")
        set_state(session, contact, "blacklisted", why, actor=actor)
    return entry, True


def remove(session: Session, number: str, *, reason: str = "", actor: str = "cli",
           default_region: str | None = None) -> BlacklistEntry:
    """Take a number off the blacklist (logged); its contact becomes active again."""
    e164 = numbers.normalize(number, default_region)
    entry = session.scalar(select(BlacklistEntry).where(BlacklistEntry.number == e164))
    if entry is None:
        raise NotFoundError(f"{e164} is not on the blacklist")
    deleted = cast(CursorResult[Any], session.execute(
        delete(BlacklistEntry).where(BlacklistEntry.id == entry.id)))
    if deleted.rowcount == 0:
        # Removed by a concurrent transaction since the check above: that one logs it.
        raise NotFoundError(f"{e164} is not on the blacklist")
    session.add(BlacklistLog(number=e164, action="remove", reason=reason, source="manual",
                             actor=actor))
    contact = session.scalar(select(Contact).where(Contact.number == e164))
    if contact is not None and contact.state == "blacklisted":
        why = "removed from the blacklist" + (f": {reason}" if reason else "")
        set_state(session, contact, "active", why, actor=actor)
    return entry


def check(session: Session, number: str, *, default_region: str | None = None
          ) -> BlacklistEntry | None:
    e164 = numbers.normalize(number, default_region)
    return session.scalar(select(BlacklistEntry).where(BlacklistEntry.number == e164))


def is_blacklisted(session: Session, e164: str) -> bool:
    return session.scalar(
        select(BlacklistEntry.id).where(BlacklistEntry.number == e164)) is not None


def list_entries(session: Session, *, search: str | None = None, cursor: str | None = None,
                 limit: int | None = None) -> Page[dict[str, Any]]:
    """One page of the blacklist, oldest first; ``search`` matches number or reason."""
    query = select(BlacklistEntry)
    if search:
        query = query.where(text_filter(search, BlacklistEntry.number, BlacklistEntry.reason))
    entries, next_cursor = fetch_page(session, query, BlacklistEntry.id, cursor=cursor,
                                      limit=limit)
    return Page([entry_to_json(e) for e in entries], next_cursor)


def history(session: Session, number: str, *, default_region: str | None = None
            ) -> list[dict[str, Any]]:
    e164 = numbers.normalize(number, default_region)
    rows = session.scalars(select(BlacklistLog).where(BlacklistLog.number == e164)
                           .order_by(BlacklistLog.id))
    return [{"number": r.number, "action": r.action, "reason": r.reason, "source": r.source,
             "actor": r.actor, "at": r.at} for r in rows]


def iter_entries(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Every entry, oldest first, read in batches as plain rows (bounded memory)."""
    after = 0
    columns = (BlacklistEntry.id, BlacklistEntry.number, BlacklistEntry.reason,
               BlacklistEntry.source, BlacklistEntry.actor, BlacklistEntry.created_at)
    while True:
        rows = session.execute(select(*columns).where(BlacklistEntry.id > after)
                               .order_by(BlacklistEntry.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def export_csv(session: Session, path: str | Path, format_time: Any = str) -> int:
    """Write the whole blacklist as a CSV export; returns the number of rows."""
    count = 0
    with create_export(path) as stream:
        writer = SafeCsvWriter(stream, EXPORT_COLUMNS, raw_columns=["number"])
        for e in iter_entries(session):
            writer.writerow([e.number, e.reason, e.source, e.actor, format_time(e.created_at)])
            count += 1
    return count


def log_page(session: Session, *, search: str | None = None, cursor: str | None = None,
             limit: int | None = None) -> Page[dict[str, Any]]:
    """The blacklist's log, newest first: every addition and removal, who/what/when
    (a STOP reply, a provider's opt-out, a user, an import)."""
    query = select(BlacklistLog)
    if search:
        query = query.where(text_filter(search, BlacklistLog.number, BlacklistLog.reason,
                                        BlacklistLog.actor))
    rows, next_cursor = fetch_page_desc(session, query, BlacklistLog.id, cursor=cursor,
                                        limit=limit)
    return Page([{"id": r.id, "number": r.number, "action": r.action, "reason": r.reason,
                  "source": r.source, "actor": r.actor, "at": r.at} for r in rows],
                next_cursor)
