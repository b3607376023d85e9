"""The campaign engine driven as the worker drives it, without sockets: campaigns made and
started through the service, claims and records through dispatch, receipts and replies
through :class:`~smscope.receipts.ingest.Ingest` as real deliver_sm PDUs.

Every helper takes an explicit ``now`` (clock injection) and opens its own transaction,
as the worker does, so each step commits before the next one reads.
"""

from __future__ import annotations

from collections import Counter as Multiset
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from smscope.campaigns import dispatch, service
from smscope.campaigns.counters import bucket_of, read_counters
from smscope.campaigns.fanout import parse_numbers
from smscope.config import (
    Config,
    RetryConfig,
    SuspensionConfig,
    ValidityConfig,
    parse_duration,
)
from smscope.connectors.registry import add_connector
from smscope.contacts.book import get_or_create_list
from smscope.db import Database
from smscope.db.tables import (
    Contact,
    ListMember,
    Message,
    MessagePart,
    StatCounter,
    StatusEvent,
)
from smscope.db.tables import Receipt as ReceiptRow
from smscope.pricing import CreditBank, PriceTable
from smscope.receipts.ingest import Ingest, IngestResult
from smscope.receipts.mapping import StatusMapping
from smscope.reports.campaign import campaign_report
from smscope.rules.windows import SendingWindows
from smscope.smpp import DeliverSM, Tag
from smscope.smpp.client import PartResult, SubmitResult

#: a Tuesday, 11:00 in Paris: France's sending window is open
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
#: a Sunday, 11:00 in Paris: France's window is closed until Monday 08:00 Paris
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SENDER = "SHOP"
#: counters kept for a campaign only, not in the statistics
_CAMPAIGN_ONLY = frozenset({"outcomes", "temporary_errors"})

_STATE_OF_STAT = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5,
                  "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8}


def number(i: int) -> str:
    """The i-th French mobile number, E.164."""
    return f"+3361{i:07d}"


def make_config(*, backoff: Sequence[str] = ("2h", "12h", "36h"), validity: str = "72h",
                min_sample: int = 200, **kwargs: Any) -> Config:
    return Config(default_region="FR",
                  retry=RetryConfig(backoff=[parse_duration(b) for b in backoff]),
                  validity=ValidityConfig(default=parse_duration(validity)),
                  suspension=SuspensionConfig(min_sample=min_sample), **kwargs)


@dataclass
class Engine:
    """One database with a simulator connector, the way the worker sees it."""

    db: Database
    config: Config = field(default_factory=make_config)
    connector_id: int = 0
    prices: PriceTable = field(default_factory=PriceTable)
    id_format: str = "hex"

    # -- setup ------------------------------------------------------------------------

    def setup(self, credits: int | str = 1000) -> Engine:
        with self.db.transaction() as session:
            connector = add_connector(session, "sim", "simulator", {"profile": "instant"})
            self.connector_id = connector.id
            if Decimal(credits) > 0:
                CreditBank(session).add(credits)
        return self

    def contacts(self, list_name: str, entries: Sequence[dict[str, Any]]) -> list[int]:
        """Contacts (``number`` plus any Contact column) put in ``list_name``; their ids."""
        ids = []
        with self.db.transaction() as session:
            lst = get_or_create_list(session, list_name)
            for entry in entries:
                contact = session.scalar(select(Contact).where(Contact.number == entry["number"]))
                if contact is None:
                    contact = Contact(region="FR", **entry)
                    session.add(contact)
                    session.flush()
                session.add(ListMember(list_id=lst.id, contact_id=contact.id))
                ids.append(contact.id)
        return ids

    def campaign(self, *, text: str = "Hello", numbers: Sequence[str] = (),
                 lists: Sequence[str] = (), type_: str = "transactional",
                 now: datetime = NOW, send: bool = True, sender: str = SENDER,
                 validity: timedelta | None = None, name: str = "c") -> int:
        with self.db.transaction() as session:
            campaign = service.create_campaign(
                session, name=name, sender=sender, text=text, config=self.config, now=now,
                lists=list(lists), numbers=parse_numbers(list(numbers), "FR") or None,
                type_=type_, connector="sim", validity=validity)
            campaign_id = campaign.id
        if send:
            with self.db.transaction() as session:
                service.send(session, campaign_id, config=self.config, prices=self.prices,
                             now=now)
        return campaign_id

    # -- dispatch ---------------------------------------------------------------------

    def claim(self, now: datetime = NOW, limit: int = 1000,
              worker_id: str = "w1") -> list[dispatch.Claimed]:
        with self.db.transaction() as session:
            return dispatch.claim(session, connector_id=self.connector_id, limit=limit,
                                  now=now, worker_id=worker_id, config=self.config,
                                  prices=self.prices,
                                  windows=SendingWindows.from_config(self.config))

    def record(self, claimed: Sequence[dispatch.Claimed],
               results: Sequence[SubmitResult | None], now: datetime = NOW) -> dict[str, int]:
        with self.db.transaction() as session:
            return dispatch.record(session, claimed, results, connector_id=self.connector_id,
                                   id_format=self.id_format, mapping=StatusMapping(),
                                   config=self.config, now=now)

    def send_all(self, now: datetime = NOW, ids: Sequence[str] | None = None,
                 limit: int = 1000) -> dict[str, str]:
        """Claim everything due (up to ``limit``) and record each as accepted with an
        operator id; returns ``number → operator id``."""
        claimed = self.claim(now, limit=limit)
        ids = list(ids) if ids is not None else [f"{0xa000 + c['id']:x}" for c in claimed]
        self.record(claimed, [ok(i) for i in ids], now)
        return {c["number"]: i for c, i in zip(claimed, ids, strict=True)}

    def expire(self, now: datetime) -> int:
        with self.db.transaction() as session:
            return dispatch.expire(session, config=self.config, now=now)

    # -- receipts ---------------------------------------------------------------------

    def ingest(self, now: datetime = NOW) -> Ingest:
        return Ingest(self.db, connector_id=self.connector_id, config=self.config,
                      id_format=self.id_format, clock=lambda: now, prices=self.prices)

    def receipts(self, pdus: Sequence[DeliverSM], now: datetime = NOW) -> IngestResult:
        return self.ingest(now).receipts(list(pdus))

    def replies(self, pdus: Sequence[DeliverSM], now: datetime = NOW) -> int:
        return self.ingest(now).replies(list(pdus))

    # -- reading ----------------------------------------------------------------------

    def messages(self, campaign_id: int) -> list[Message]:
        with self.db.session() as session:
            return list(session.scalars(select(Message).where(Message.campaign_id == campaign_id)
                                        .order_by(Message.id)))

    def message(self, campaign_id: int, to: str) -> Message:
        with self.db.session() as session:
            return session.scalars(select(Message).where(Message.campaign_id == campaign_id,
                                                         Message.number == to)).one()

    def history(self, message_id: int) -> list[tuple[str | None, str]]:
        """``(from, to)`` of each status change of a message, in order."""
        with self.db.session() as session:
            return [(e.from_status, e.to_status) for e in session.scalars(
                select(StatusEvent).where(StatusEvent.message_id == message_id)
                .order_by(StatusEvent.id))]

    def parts(self, message_id: int) -> list[MessagePart]:
        with self.db.session() as session:
            return list(session.scalars(select(MessagePart)
                                        .where(MessagePart.message_id == message_id)
                                        .order_by(MessagePart.attempt, MessagePart.part_no)))

    def stored_receipts(self) -> list[ReceiptRow]:
        with self.db.session() as session:
            return list(session.scalars(select(ReceiptRow).order_by(ReceiptRow.id)))

    def counters(self, campaign_id: int) -> dict[str, int]:
        with self.db.session() as session:
            return read_counters(session, campaign_id)

    def report(self, campaign_id: int) -> dict[str, Any]:
        """The campaign report, after checking the contract that holds at every moment:
        its figures are the messages' statuses, and ``counts`` and ``statuses`` each sum
        to ``recipients``."""
        with self.db.session() as session:
            report = campaign_report(session, campaign_id)
        actual = Multiset(m.status for m in self.messages(campaign_id) if m.kind != "test")
        nonzero = {k: v for k, v in report["statuses"].items() if v}
        assert nonzero == dict(actual), (nonzero, dict(actual))
        assert sum(report["counts"].values()) == report["recipients"]
        assert sum(report["statuses"].values()) == report["recipients"]
        assert report["recipients"] == sum(actual.values())
        self.check_stat_counters(campaign_id)
        return report

    def check_stat_counters(self, campaign_id: int) -> None:
        """The statistics counters of a campaign (by quarter hour, country, sender,
        connector) add up to its own counters, name by name, and sit in the bucket of
        its messages' creation time."""
        with self.db.session() as session:
            counters = read_counters(session, campaign_id)
            stats: dict[str, int] = dict(session.execute(
                select(StatCounter.name, func.sum(StatCounter.value))
                .where(StatCounter.campaign_id == campaign_id)
                .group_by(StatCounter.name)).all())
            buckets = set(session.scalars(select(StatCounter.bucket).where(
                StatCounter.campaign_id == campaign_id, StatCounter.value != 0)))
            created = set(session.scalars(select(Message.created_at).where(
                Message.campaign_id == campaign_id, Message.kind != "test")))
        shared = {name: value for name, value in counters.items()
                  if not name.startswith("latency:") and name not in _CAMPAIGN_ONLY}
        assert {k: v for k, v in stats.items() if v} == shared, (stats, shared)
        assert buckets <= {bucket_of(c) for c in created}


# -- PDUs -----------------------------------------------------------------------------


def ok(message_id: str) -> SubmitResult:
    return SubmitResult((PartResult("ok", message_id=message_id),))


def refused(status: int, error: str = "refused") -> SubmitResult:
    return SubmitResult((PartResult("failed", status=status, error=error),))


def in_doubt() -> SubmitResult:
    return SubmitResult((PartResult("in_doubt", error="no submit_sm_resp"),))


def receipt(rid: str, stat: str = "DELIVRD", err: str = "000", *, to: str = "+33610000001",
            sender: str = SENDER, tlvs: bool = True, done: str = "2611241531") -> DeliverSM:
    """An Appendix B receipt from the handset ``to`` (its source) to ``sender``."""
    delivered = "001" if stat == "DELIVRD" else "000"
    text = (f"id:{rid} sub:001 dlvrd:{delivered} submit date:2611241530 done date:{done} "
            f"stat:{stat} err:{err} text:hi")
    tlv: dict[int, object] = {}
    if tlvs:
        tlv = {Tag.RECEIPTED_MESSAGE_ID: rid, Tag.MESSAGE_STATE: _STATE_OF_STAT[stat]}
    return DeliverSM(source_addr_ton=1, source_addr_npi=1, source_addr=to.lstrip("+"),
                     dest_addr_ton=5, dest_addr_npi=0, destination_addr=sender,
                     esm_class=0x04, data_coding=0, short_message=text.encode("ascii"),
                     tlvs=tlv)  # type: ignore[arg-type]


def garbage(text: str = "this is not a receipt", *, to: str = "+33610000001") -> DeliverSM:
    return DeliverSM(source_addr_ton=1, source_addr_npi=1, source_addr=to.lstrip("+"),
                     dest_addr_ton=5, dest_addr_npi=0, destination_addr=SENDER,
                     esm_class=0x04, data_coding=0, short_message=text.encode("ascii"))


def mo(text: str, *, frm: str = "+33610000001", to: str = SENDER) -> DeliverSM:
    """A reply (MO) from the handset ``frm`` to our address ``to``."""
    coding = 0 if text.isascii() else 8
    body = text.encode("ascii") if coding == 0 else text.encode("utf-16-be")
    return DeliverSM(source_addr_ton=1, source_addr_npi=1, source_addr=frm.lstrip("+"),
                     dest_addr_ton=5, dest_addr_npi=0, destination_addr=to,
                     data_coding=coding, short_message=body)
