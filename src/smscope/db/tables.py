"""The whole data model of smscope, as SQLAlchemy tables.

Designed for the whole product (SPEC.md), not only for the screens built so far, so
that later work extends it by migrations instead of reshaping it. Groups:

* people and access: ``users``, ``api_tokens``, ``login_attempts``, ``web_sessions``,
  ``settings``;
* money: ``prices``, ``credit_account`` (one row), ``credit_reservations``,
  ``credit_ledger``;
* address book: ``contacts``, ``lists``, ``list_members``, ``contact_events`` (the
  hygiene log, reversible), ``blacklist`` + ``blacklist_log``, ``imports`` +
  ``import_rejects``;
* sending: ``connectors``, ``connector_leases`` (one worker owns a bind), ``campaigns``,
  ``campaign_lists``, ``campaign_events`` (the timeline), ``messages``,
  ``message_parts`` (one per segment and attempt, with the operator's id);
* outcomes: ``receipts`` (every raw receipt, applied, orphan or unparseable),
  ``status_events`` (every transition), ``replies`` (MO), ``counters`` and
  ``stat_counters`` (kept in the same transaction as each status change, so reports
  cost the same for 100 or 10 million messages);
* tracking and webhooks: ``links``, ``tracked_links``, ``clicks``,
  ``webhook_endpoints``, ``webhook_deliveries``.

Conventions: integer ids; times are :class:`UTCDateTime`; credits are
:class:`Credits`; statuses and states are stored as their stable string ids.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from smscope.db.types import Credits, UTCDateTime, utcnow

# Named constraints, so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

E164 = String(16)  # "+" and at most 15 digits (ITU-T E.164)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(), Decimal: Credits(), dict[str, Any]: JSON(),
    }


# --------------------------------------------------------------------------- people


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # admin | member | readonly
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("role IN ('admin', 'member', 'readonly')", name="role"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Failed and successful logins, for throttling by account and by address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )


class WebSession(Base):
    """A signed-in browser. ``id`` is the SHA-256 of the cookie's value, so a copy of
    the database does not hand out live sessions; ``csrf_token`` is checked on every
    form the session posts."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Setting(Base):
    """Settings changed in the UI (they override the config file's defaults)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(254))


# --------------------------------------------------------------------------- money


class Price(Base):
    """Credits per segment for one destination country; ``country='default'`` otherwise."""

    __tablename__ = "prices"

    country: Mapped[str] = mapped_column(String(7), primary_key=True)
    credits: Mapped[Decimal]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("credits >= 0", name="credits_not_negative"),)


class CreditAccount(Base):
    """The account's credit balance: one row (id 1).

    ``balance`` is what can still be reserved or spent; ``reserved`` is held for
    campaigns that are sending. Both are changed only by conditional single-statement
    updates, and the CHECK constraints make a negative value impossible even if a bug
    tried.
    """

    __tablename__ = "credit_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    balance: Mapped[Decimal] = mapped_column(default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )


class CreditReservation(Base):
    __tablename__ = "credit_reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal]  # still held
    initial: Mapped[Decimal]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)


class CreditLedger(Base):
    """Every movement of credits, with the balance after it."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # add | reserve | charge | release
    amount: Mapped[Decimal]
    balance_after: Mapped[Decimal]
    reserved_after: Mapped[Decimal]
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("credit_reservations.id"))
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    message_id: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str | None] = mapped_column(String(254))


# --------------------------------------------------------------------------- address book


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(E164, unique=True)
    region: Mapped[str | None] = mapped_column(String(2))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    state_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("state IN ('active', 'invalid', 'blacklisted')", name="state"),
    )


class ContactList(Base):
    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListMember(Base):
    __tablename__ = "list_members"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactEvent(Base):
    """What happened to a contact: state changes and list removals, with why and who.

    Hygiene removals are rows with ``kind='removed_from_list'``; ``smscope contacts
    restore`` puts the contact back in those lists and sets ``restored_at``.
    """

    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(254), default="system")
    message_id: Mapped[int | None]
    restored_at: Mapped[datetime | None]


class BlacklistEntry(Base):
    """A number that asked to receive nothing more. Never texted again while here."""

    __tablename__ = "blacklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(E164, unique=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    # manual | import | api | stop_reply | provider_optout
    source: Mapped[str] = mapped_column(String(32), default="manual")
    actor: Mapped[str] = mapped_column(String(254), default="system")
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    reply_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class BlacklistLog(Base):
    """Every addition and removal: a removal is never silent."""

    __tablename__ = "blacklist_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(E164, index=True)
    action: Mapped[str] = mapped_column(String(8))  # add | remove
    reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(32), default="manual")
    actor: Mapped[str] = mapped_column(String(254), default="system")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Import(Base):
    """One CSV import into a list, with its row-by-row totals."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(254), default="cli")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: the file's size and how much of it is read so far: the progress of a running
    #: import, as its page shows it (migration 0013)
    size: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: the file's header row, so the rejected rows download with their columns
    header: Mapped[list[str] | None] = mapped_column(JSON)
    #: what the import was asked: default region, delimiter, phone column, mapping
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ImportReject(Base):
    """A row of an import that was not imported (invalid or duplicate), with why."""

    __tablename__ = "import_rejects"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # invalid | duplicate
    reason: Mapped[str] = mapped_column(String(500))
    cells: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"values": [...]}


# --------------------------------------------------------------------------- sending


class Connector(Base):
    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))  # smpp | http | simulator
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="db")  # db | config
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConnectorLease(Base):
    """Which worker holds a connector's bind, until when (renewed while alive)."""

    __tablename__ = "connector_leases"

    connector_id: Mapped[int] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16), default="marketing")
    # draft | scheduled | sending | paused | suspended | completed | cancelled
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    schedule_at: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the ad-hoc numbers of ``--numbers FILE`` (``[{"number", "region"}, …]``), read by
    # the fan-out only: deferred, so that loading a campaign never decodes a list that
    # may hold millions of numbers
    numbers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, deferred=True)
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("type IN ('marketing', 'transactional', 'test')", name="type"),
        CheckConstraint(
            "state IN ('draft', 'scheduled', 'sending', 'paused', 'suspended', "
            "'completed', 'cancelled')",
            name="state",
        ),
    )


class CampaignList(Base):
    __tablename__ = "campaign_lists"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True
    )


class CampaignEvent(Base):
    """The campaign timeline: every transition and notable event, who/what and why."""

    __tablename__ = "campaign_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(254), default="system")
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


#: the predicates of the search's partial indexes: a query repeats them word for word
#: to use them (SQLite matches a partial index's WHERE by its terms, not by logic)
SEARCH_PROBLEM = "category NOT IN ('delivered', 'pending')"
SEARCH_TEST = "kind = 'test'"
#: the receipts' partial indexes hold orphans only; a query says so with
#: :data:`ORPHAN_RECEIPT`, a literal: SQLite also matches a bound parameter (it plans
#: with the bound values), but a generic plan of a prepared statement on PostgreSQL can
#: use a partial index only when the query says its WHERE as a constant
RECEIPT_ORPHAN = "state = 'orphan'"


class Message(Base):
    """One SMS to one number: its text, cost, and current status.

    ``list_ids`` keeps the lists the contact was in when the message was created, so
    per-list figures stay true after hygiene removes the contact from a list.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="campaign")  # campaign|test|single
    number: Mapped[str] = mapped_column(E164)
    region: Mapped[str | None] = mapped_column(String(2))
    sender: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(32))
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    credits: Mapped[Decimal] = mapped_column(default=Decimal(0))  # charged so far
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    list_ids: Mapped[list[int] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32), default="queued")
    category: Mapped[str] = mapped_column(String(16), default="pending")
    status_is_guess: Mapped[bool] = mapped_column(Boolean, default=False)
    status_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]  # schedule or sending window
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_submitted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]  # first time an operator accepted it
    validity_until: Mapped[datetime | None]
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    client_ref: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        Index("ix_messages_campaign_status", "campaign_id", "status", "id"),
        # a campaign's test sends, listed in its report without scanning its messages
        Index("ix_messages_campaign_kind", "campaign_id", "kind"),
        Index("ix_messages_dispatch", "status", "next_attempt_at"),
        Index("ix_messages_duplicate", "number", "text_hash", "created_at"),
        Index("ix_messages_created", "created_at", "id"),
        Index("ix_messages_number", "number", "created_at"),
        # the monitoring search: newest first after the filtered column (migration 0006)
        Index("ix_messages_search_campaign", "campaign_id", "created_at", "id"),
        Index("ix_messages_search_sender", "sender", "created_at", "id"),
        Index("ix_messages_search_connector", "connector_id", "created_at", "id"),
        Index("ix_messages_search_problem", "status", "created_at", "id",
              sqlite_where=sql_text(SEARCH_PROBLEM),
              postgresql_where=sql_text(SEARCH_PROBLEM)),
        Index("ix_messages_search_test", "created_at", "id",
              sqlite_where=sql_text(SEARCH_TEST),
              postgresql_where=sql_text(SEARCH_TEST)),
        UniqueConstraint("client_ref", name="uq_messages_client_ref"),
    )


class MessagePart(Base):
    """One submitted segment of one attempt, with the id the operator gave it."""

    __tablename__ = "message_parts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    part_no: Mapped[int] = mapped_column(Integer, default=1)
    part_count: Mapped[int] = mapped_column(Integer, default=1)
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    operator_id: Mapped[str | None] = mapped_column(String(128))  # as the operator wrote it
    operator_key: Mapped[str | None] = mapped_column(String(128))  # normalised for matching
    status: Mapped[str] = mapped_column(String(32), default="queued")
    submitted_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_message_parts_operator", "connector_id", "operator_key"),
    )


class Receipt(Base):
    """Every receipt as it arrived: applied, orphan (no message yet), or unparseable.

    ``dedup_key`` makes a re-sent receipt a no-op (idempotence) by a unique index.
    """

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    source: Mapped[str] = mapped_column(String(16), default="smpp")  # smpp | http
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    operator_id: Mapped[str | None] = mapped_column(String(128))
    operator_key: Mapped[str | None] = mapped_column(String(128))
    raw: Mapped[str] = mapped_column(Text)
    #: the PDU's addresses (the recipient's number, our sender): what matches a receipt
    #: to an in-doubt submit whose response was never recorded
    source_addr: Mapped[str | None] = mapped_column(String(32))
    dest_addr: Mapped[str | None] = mapped_column(String(32))
    stat: Mapped[str | None] = mapped_column(String(32))
    err: Mapped[str | None] = mapped_column(String(32))
    network_error: Mapped[str | None] = mapped_column(String(32))
    done_date: Mapped[str | None] = mapped_column(String(32))
    mapped_status: Mapped[str | None] = mapped_column(String(32))
    # applied | orphan | unparseable | ignored
    state: Mapped[str] = mapped_column(String(16), default="orphan")
    message_id: Mapped[int | None] = mapped_column(index=True)
    part_id: Mapped[int | None]
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    applied_at: Mapped[datetime | None]

    __table_args__ = (
        # Orphans only: every query by operator key or by age is about orphans, and
        # nearly every receipt is stored applied, so it costs these indexes nothing
        # (two fewer B-tree entries to write per receipt on the hot path)
        Index("ix_receipts_orphan_key", "connector_id", "operator_key",
              sqlite_where=sql_text(RECEIPT_ORPHAN), postgresql_where=sql_text(RECEIPT_ORPHAN)),
        Index("ix_receipts_orphan_age", "received_at",
              sqlite_where=sql_text(RECEIPT_ORPHAN), postgresql_where=sql_text(RECEIPT_ORPHAN)),
    )


#: "this receipt is an orphan", in the words of the receipts' partial indexes
ORPHAN_RECEIPT = Receipt.state == literal_column("'orphan'")


class StatusEvent(Base):
    """One transition of one message: the full history behind its current status."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    part_id: Mapped[int | None]
    receipt_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(500), default="")


class Reply(Base):
    """An MO message, linked to its contact and the campaign that last texted it."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    number: Mapped[str] = mapped_column(String(32), index=True)
    sender: Mapped[str] = mapped_column(String(32))  # the address it was sent to (ours)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    contact_id: Mapped[int | None] = mapped_column(index=True)
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    message_id: Mapped[int | None]
    is_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Counter(Base):
    """A campaign figure kept up to date in the same transaction as the change.

    ``list_id`` 0 is the whole campaign; ``name`` is a status id or a figure such as
    ``sent``, ``replies``, ``clicks``, ``unique_clicks``, ``unsubscribes``. Values are
    summed over ``shard`` so that busy workers can spread updates over several rows.
    """

    __tablename__ = "counters"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StatCounter(Base):
    """The figures of :class:`Counter` again, by the quarter hour (UTC) the messages
    were created in and by country, sender and connector: statistics over a date range
    in any time zone read these rows (a quarter hour lies within one day of every zone
    in use), never the messages. ``campaign_id`` 0: a message of no campaign."""

    __tablename__ = "stat_counters"

    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    region: Mapped[str] = mapped_column(String(2), primary_key=True, default="")
    sender: Mapped[str] = mapped_column(String(20), primary_key=True, default="")
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class StatDay(Base):
    """The figures of :class:`StatCounter` summed by day of one zone (the account's, named
    in the ``stat_days`` setting): a range of days reads a few rows per day. Kept with
    every status change while the setting names a zone; made again from the quarter
    hours when the account's zone changes."""

    __tablename__ = "stat_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    region: Mapped[str] = mapped_column(String(2), primary_key=True, default="")
    sender: Mapped[str] = mapped_column(String(20), primary_key=True, default="")
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --------------------------------------------------------------------------- tracking


class Link(Base):
    """An original URL found in a campaign's text, numbered within its campaign.

    Click tokens carry the message id and this ``position`` (see
    :mod:`smscope.tracking.tokens`), so no row is written per recipient."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("campaign_id", "position",
                                       name="uq_links_campaign_position"),)


class TrackedLink(Base):
    """A stored token per recipient and link. Unused: click tokens are signed and
    checked without a row (:mod:`smscope.tracking.tokens`); kept for links that would
    need one."""

    __tablename__ = "tracked_links"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Click(Base):
    """One visit of a tracked link. ``bot``: a link-preview fetcher or crawler by its
    user agent, recorded but not counted."""

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    bot: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------- webhooks


class WebhookEndpoint(Base):
    """A URL that receives each status change (of one campaign, or of the account).

    ``cursor``: every ``status_events`` row up to this id has been turned into this
    endpoint's deliveries, or never will be (see :mod:`smscope.webhooks.pump`); an
    endpoint starts at the last event that existed when it was added. A removed
    endpoint is kept inactive, with its delivery log."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    removed_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event to deliver to one endpoint, retried with back-off until accepted.

    ``event_id`` is the same for every endpoint and every attempt (receivers de-duplicate
    on it); ``status_event_id`` the transition it tells of. ``claimed_by`` /
    ``claimed_until``: the worker posting it, so that two workers never post it at once.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(64))
    status_event_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        # what a sender claims: one endpoint's due deliveries, oldest first
        Index("ix_webhook_deliveries_due", "endpoint_id", "state", "next_attempt_at"),
        # the delivery log, newest first, of one endpoint or all
        Index("ix_webhook_deliveries_log", "endpoint_id", "id"),
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_event"),
        CheckConstraint("state IN ('pending', 'done', 'failed')", name="state"),
    )
