"""What tracking keeps in the database, and the per-campaign rewriter the fan-out and
test sends use: the tracking secret, a campaign's numbered links, message ids taken
before their messages are written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smscope import text as sms_text
from smscope.db.sql import insert_ignore, is_postgresql
from smscope.db.tables import Campaign, Link, Message, Setting
from smscope.db.types import utcnow
from smscope.tracking import tokens
from smscope.tracking.links import TrackedText, split_links, tracked_base

__all__ = ["SECRET_KEY", "Rewriter", "allocate_message_ids", "ensure_secret", "read_secret",
           "register_links"]

#: the ``settings`` row that holds the tracking secret
SECRET_KEY = "tracking_secret"


def read_secret(session: Session) -> bytes | None:
    """The tracking secret, or None while no link was ever tracked."""
    value = session.scalar(select(Setting.value).where(Setting.key == SECRET_KEY))
    if not value or not isinstance(value.get("hex"), str):
        return None
    return bytes.fromhex(value["hex"])


def ensure_secret(session: Session) -> bytes:
    """The tracking secret, made on first use (the first to write it wins a race)."""
    secret = read_secret(session)
    if secret is not None:
        return secret
    session.execute(insert_ignore(session, Setting, ["key"]).values(
        key=SECRET_KEY, value={"hex": tokens.new_secret().hex()}, updated_at=utcnow(),
        updated_by="system"))
    secret = read_secret(session)
    assert secret is not None
    return secret


def register_links(session: Session, campaign_id: int, urls: Sequence[str]) -> list[int]:
    """The number (``position``) of each of ``urls`` within the campaign: the one it
    already has, or the next free one. Each campaign keeps every URL it ever tracked
    (a test send before an edit still leads where it did). ``-1``: no number left
    (:data:`~smscope.tracking.links.MAX_LINKS`), the link is not tracked."""
    # concurrent senders of one campaign (a test send and the start) take turns here
    session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())
    known = {url: position for url, position in session.execute(
        select(Link.url, Link.position).where(Link.campaign_id == campaign_id))}
    positions = []
    for url in urls:
        position = known.get(url)
        if position is None:
            position = len(known)
            if position >= 1 << tokens.POSITION_BITS:
                positions.append(-1)
                continue
            session.add(Link(campaign_id=campaign_id, position=position, url=url))
            known[url] = position
        positions.append(position)
    session.flush()
    return positions


def allocate_message_ids(session: Session, count: int) -> list[int]:
    """``count`` message ids nobody else will get, for messages written with their id
    (their text holds tokens made of it). PostgreSQL draws them from the table's
    sequence; SQLite's write transaction (taken at BEGIN) owns the next ids."""
    if count <= 0:
        return []
    if is_postgresql(session):
        sequence = func.pg_get_serial_sequence("messages", "id")
        return list(session.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
    last = session.scalar(select(func.max(Message.id))) or 0
    return list(range(last + 1, last + 1 + count))


@dataclass
class Rewriter:
    """A campaign text's tracked links, ready to rewrite for each recipient."""

    campaign_id: int
    tracked: TrackedText
    #: the link number of each link of ``tracked`` (-1: not tracked)
    positions: list[int]
    secret: bytes
    base: str
    #: the rendered pieces when the template has no placeholder (the same for all)
    fixed_pieces: list[str] | None

    @classmethod
    def for_campaign(cls, session: Session, campaign_id: int, template: str,
                     public_url: str) -> Rewriter | None:
        """The rewriter of ``template``, or None if it has no link to track."""
        tracked = split_links(template)
        if not tracked.links:
            return None
        by_slot = register_links(session, campaign_id, tracked.urls)
        positions = [by_slot[slot] for slot in tracked.slots]
        if all(p < 0 for p in positions):
            return None
        fixed = None
        if not any(sms_text.placeholders(piece) for piece in tracked.pieces):
            fixed = [sms_text.render(piece, {}) for piece in tracked.pieces]
        return cls(campaign_id, tracked, positions, ensure_secret(session),
                   tracked_base(public_url), fixed)

    def ids(self, session: Session, count: int) -> Iterator[int]:
        """Ids for the next ``count`` messages (see :func:`allocate_message_ids`)."""
        return iter(allocate_message_ids(session, count))

    def render(self, values: Mapping[str, Any], message_id: int) -> tuple[str, str]:
        """The text for one recipient, as written (what the anti-duplicate filter
        compares) and as sent (links tracked with ``message_id``'s tokens)."""
        tracked = self.tracked
        pieces = self.fixed_pieces
        if pieces is None:
            pieces = [sms_text.render(piece, values) for piece in tracked.pieces]
        written = tracked.join(pieces, [link.written for link in tracked.links])
        links = [
            link.written if position < 0 else self.base + tokens.encode(
                self.secret, message_id, self.campaign_id, position)
            for link, position in zip(tracked.links, self.positions, strict=True)
        ]
        return written, tracked.join(pieces, links)
