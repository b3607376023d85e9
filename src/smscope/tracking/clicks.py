"""Following a tracked link: check its token, find where it leads, record the click.

:func:`resolve` only reads (under SQLite's WAL a read never waits for a writer), so the
redirect is answered at once; :func:`record` writes the click and its counters in one
transaction, which the web app runs after the answer has gone out.

What counts (SPEC §5.3, documented in the README):

* every click of a campaign message adds 1 to ``clicks``; the first counted click of a
  message (whichever of its links) also adds 1 to ``unique_clicks``, for the campaign,
  for each list the message went through, and in the statistics counters;
* a click on a test send is recorded but counted nowhere, like the test itself;
* a request whose user agent is a link-preview fetcher or a crawler (messaging apps
  fetch a link to draw its preview when the SMS arrives, before anyone taps it) is
  redirected and recorded with ``bot`` set, but not counted;
* a ``HEAD`` request is answered like a ``GET`` and recorded nowhere (the web layer
  does not call :func:`record` for it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.campaigns.counters import Tally, stat_key
from smscope.db.sql import table_of
from smscope.db.tables import Click, Link, Message
from smscope.tracking import tokens
from smscope.tracking.store import read_secret

__all__ = ["Target", "is_bot", "record", "resolve"]

#: user agents of link-preview fetchers and crawlers, not people
_BOT_RX: Final = re.compile(
    r"\bbot\b|googlebot|bingbot|twitterbot|slackbot|telegrambot|discordbot|linkedinbot|"
    r"applebot|yandexbot|duckduckbot|baiduspider|petalbot|ahrefsbot|semrushbot|bitlybot|"
    r"facebookexternalhit|facebot|whatsapp|skypeuripreview|vkshare|pinterest|embedly|"
    r"crawler|spider|headlesschrome|preview",
    re.IGNORECASE)
_TRAILING_RX: Final = re.compile(r"[.,:;!?)\]}'\"»…]+$")
_UA_LENGTH: Final = 500
_ADDRESS_LENGTH: Final = 64


def is_bot(user_agent: str) -> bool:
    """True if ``user_agent`` names a link-preview fetcher or a crawler."""
    return _BOT_RX.search(user_agent) is not None


@dataclass(frozen=True, slots=True)
class Target:
    """Where a valid token leads, and what its click is counted against."""

    url: str
    link_id: int
    message_id: int
    #: the message as :func:`~smscope.campaigns.counters.stat_key` reads it
    message: dict[str, Any]


_MESSAGE_COLUMNS = (Message.campaign_id, Message.kind, Message.list_ids, Message.created_at,
                    Message.region, Message.sender, Message.connector_id)


def resolve(session: Session, token: str) -> Target | None:
    """Where ``token`` leads, or None: malformed, forged, of a deleted message, or of
    a link its campaign does not have. Sentence punctuation after the token is
    ignored: some phones take the ``.`` or ``:`` that follows a link as part of it."""
    parsed = tokens.parse(_TRAILING_RX.sub("", token))
    if parsed is None:
        return None
    secret = read_secret(session)
    if secret is None:
        return None
    row = session.execute(select(*_MESSAGE_COLUMNS)
                          .where(Message.id == parsed.message_id)).mappings().first()
    if row is None or row["campaign_id"] is None:
        return None
    if not tokens.valid(secret, parsed, row["campaign_id"]):
        return None
    link = session.execute(select(Link.id, Link.url).where(
        Link.campaign_id == row["campaign_id"], Link.position == parsed.position)).first()
    if link is None:
        return None
    return Target(url=link.url, link_id=link.id, message_id=parsed.message_id,
                  message=dict(row))


def record(session: Session, target: Target, *, at: datetime, user_agent: str = "",
           address: str = "") -> bool:
    """Record one click of ``target`` and count it (see the module's rules); False if
    its message is gone meanwhile."""
    # the message row, locked on PostgreSQL, so two first clicks at once count one
    # unique click (SQLite's write transaction already runs alone)
    locked = session.scalar(select(Message.id).where(Message.id == target.message_id)
                            .with_for_update())
    if locked is None:
        return False
    bot = is_bot(user_agent)
    first = not bot and session.scalar(
        select(Click.id).where(Click.message_id == target.message_id, Click.bot.is_(False))
        .limit(1)) is None
    msg = target.message
    session.execute(table_of(Click).insert().values(
        link_id=target.link_id, message_id=target.message_id,
        campaign_id=msg["campaign_id"], at=at, user_agent=user_agent[:_UA_LENGTH],
        address=address[:_ADDRESS_LENGTH], bot=bot))
    if not bot:
        tally = Tally()
        # a test send is counted nowhere: no campaign, no statistics key
        campaign_id = None if msg["kind"] == "test" else msg["campaign_id"]
        stat = stat_key(msg)
        tally.add(campaign_id, msg["list_ids"], "clicks", stat=stat)
        if first:
            tally.add(campaign_id, msg["list_ids"], "unique_clicks", stat=stat)
        tally.flush(session)
    return True
