"""Cost in credits, and the account's credit balance.

``cost = segments × price of the destination country``. The price table is editable
(the ``prices`` table, seeded from the ``[prices]`` config section); the default is 1
credit per segment for every country (CONTRACTS §2).

The balance is changed only through :class:`CreditBank`, whose operations are single
conditional ``UPDATE`` statements (``… WHERE balance >= :amount``): the database
decides atomically, so two workers reserving at the same moment can never take the
balance below zero, on SQLite or PostgreSQL, without any lock of our own. CHECK
constraints on the table are the second line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from smscope import numbers, text
from smscope.db.sql import dialect_insert
from smscope.db.tables import CreditAccount, CreditLedger, CreditReservation, Price
from smscope.db.types import CREDIT_QUANTUM, parse_credits, utcnow
from smscope.errors import InsufficientCreditError, NotFoundError, UsageError
from smscope.output import credits_text
from smscope.pagination import Page, fetch_page_desc

DEFAULT_PRICE = Decimal("1")
DEFAULT_KEY = "default"


def credits(value: Decimal | int | float | str) -> Decimal:
    """A credit amount as an exact 4-place decimal; refuses nonsense with a clear error."""
    try:
        return parse_credits(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@dataclass(frozen=True)
class PriceTable:
    """Credits per segment by destination country (ISO alpha-2), with a default."""

    default: Decimal = DEFAULT_PRICE
    by_country: Mapping[str, Decimal] = field(default_factory=dict)

    def price_for(self, region: str | None) -> Decimal:
        if region is None:
            return self.default
        return self.by_country.get(region.upper(), self.default)

    def cost(self, e164: str, message: str, header_octets: int = 6) -> Decimal:
        """What one message costs: its segments times its destination's price."""
        segments = text.measure(message, header_octets).segments
        return self.cost_of_segments(e164, segments)

    def cost_of_segments(self, e164: str, segments: int) -> Decimal:
        return (self.price_for(numbers.region_of(e164)) * segments).quantize(CREDIT_QUANTUM)

    @classmethod
    def from_mapping(cls, prices: Mapping[str, Decimal | str | int]) -> PriceTable:
        """From ``{"default": 1, "FR": 0.8}`` (the config section's shape)."""
        table = {k.upper(): credits(v) for k, v in prices.items() if k.lower() != DEFAULT_KEY}
        default = next(
            (credits(v) for k, v in prices.items() if k.lower() == DEFAULT_KEY), DEFAULT_PRICE
        )
        return cls(default=default, by_country=table)


def cost(e164: str, message: str, table: PriceTable | None = None) -> Decimal:
    """``segments × price`` of the destination country (1 credit/segment by default)."""
    return (table or PriceTable()).cost(e164, message)


# ----------------------------------------------------------------------------- storage


def load_price_table(session: Session, baseline: Mapping[str, Decimal] | None = None,
                     over: Mapping[str, Decimal | str] | None = None) -> PriceTable:
    """The price table: ``baseline`` (the config file's ``[prices]``) overridden by the
    prices edited in smscope and stored in the database, ``over`` (the environment's)
    over both."""
    stored = dict(session.execute(select(Price.country, Price.credits)).all())
    return PriceTable.from_mapping({**(baseline or {}), **stored, **(over or {})})


def set_price(session: Session, country: str, price: Decimal | str | int) -> Decimal:
    """Set the price of one country (ISO alpha-2) or of ``default``."""
    key = country.strip()
    key = DEFAULT_KEY if key.lower() == DEFAULT_KEY else key.upper()
    if key != DEFAULT_KEY and not (len(key) == 2 and key.isalpha()):
        raise UsageError(f"{country!r} is not a country; use an ISO code like FR, or 'default'")
    amount = credits(price)
    if amount < 0:
        raise UsageError("a price cannot be negative")
    insert = dialect_insert(session)
    stmt = insert(Price).values(country=key, credits=amount, updated_at=utcnow())
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Price.country],
            set_={"credits": stmt.excluded.credits, "updated_at": stmt.excluded.updated_at},
        )
    )
    return amount


def remove_price(session: Session, country: str) -> None:
    """Remove a country's price: it then costs the default."""
    key = country.strip().upper()
    removed = session.execute(delete(Price).where(Price.country == key).returning(Price.country))
    if removed.first() is None:
        raise NotFoundError(f"no price is set for {key!r} in smscope; "
                            "'smscope prices list' shows the table")


def seed_prices(session: Session, prices: Mapping[str, Decimal]) -> None:
    """Write the config file's ``[prices]`` into the table (the file is the baseline)."""
    for country, price in prices.items():
        set_price(session, country, price)


# ----------------------------------------------------------------------------- balance


@dataclass(frozen=True)
class Balance:
    available: Decimal
    reserved: Decimal


class CreditBank:
    """The account's credits: add, reserve, charge, release — never below zero.

    Every method works inside the caller's transaction, so a charge can be committed
    together with the status change it pays for.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _ensure_account(self) -> None:
        if self.session.get(CreditAccount, 1) is None:
            insert = dialect_insert(self.session)
            self.session.execute(
                insert(CreditAccount)
                .values(id=1, balance=Decimal(0), reserved=Decimal(0), updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=[CreditAccount.id])
            )

    def balance(self) -> Balance:
        row = self.session.execute(
            select(CreditAccount.balance, CreditAccount.reserved).where(CreditAccount.id == 1)
        ).first()
        return Balance(*row) if row else Balance(Decimal(0), Decimal(0))

    def _apply(self, kind: str, amount: Decimal, balance_delta: Decimal,
               reserved_delta: Decimal) -> Balance:
        """One atomic change of the account; refused (nothing changed) below zero."""
        self._ensure_account()
        stmt = (
            update(CreditAccount)
            .where(CreditAccount.id == 1)
            .values(
                balance=CreditAccount.balance + balance_delta,
                reserved=CreditAccount.reserved + reserved_delta,
                updated_at=utcnow(),
            )
            .returning(CreditAccount.balance, CreditAccount.reserved)
        )
        if balance_delta < 0:
            stmt = stmt.where(CreditAccount.balance >= -balance_delta)
        if reserved_delta < 0:
            stmt = stmt.where(CreditAccount.reserved >= -reserved_delta)
        row = self.session.execute(stmt).first()
        if row is None:
            current = self.balance()
            raise InsufficientCreditError(
                f"not enough credit to {kind} {credits_text(amount)}: "
                f"{credits_text(current.available)} available, "
                f"{credits_text(current.reserved)} reserved; "
                "add credits with 'smscope credits add N'"
            )
        return Balance(row[0], row[1])

    def _move(self, kind: str, amount: Decimal, *, balance_delta: Decimal,
              reserved_delta: Decimal, reservation_id: int | None = None,
              campaign_id: int | None = None, message_id: int | None = None,
              note: str = "", actor: str | None = None) -> Balance:
        """Apply a change and write it to the ledger with the balance after it."""
        after = self._apply(kind, amount, balance_delta, reserved_delta)
        self.session.add(CreditLedger(
            kind=kind, amount=amount, balance_after=after.available,
            reserved_after=after.reserved, reservation_id=reservation_id,
            campaign_id=campaign_id, message_id=message_id, note=note, actor=actor,
        ))
        return after

    def add(self, amount: Decimal | int | str, *, note: str = "", actor: str | None = None
            ) -> Balance:
        """Top up the balance (a negative amount takes credits away, never below zero)."""
        value = credits(amount)
        if value == 0:
            raise UsageError("adding 0 credits changes nothing; give a positive amount")
        return self._move("add", value, balance_delta=value, reserved_delta=Decimal(0),
                          note=note, actor=actor)

    def reserve(self, amount: Decimal | int | str, *, campaign_id: int | None = None,
                note: str = "") -> int:
        """Hold credits for later charges; returns the reservation id."""
        value = self._positive(amount)
        after = self._apply("reserve", value, -value, value)
        reservation = CreditReservation(campaign_id=campaign_id, amount=value, initial=value,
                                        note=note)
        self.session.add(reservation)
        self.session.flush()
        self.session.add(CreditLedger(
            kind="reserve", amount=value, balance_after=after.available,
            reserved_after=after.reserved, reservation_id=reservation.id,
            campaign_id=campaign_id, note=note,
        ))
        return reservation.id

    def _take_from_reservation(self, reservation_id: int, value: Decimal) -> None:
        taken = self.session.execute(
            update(CreditReservation)
            .where(CreditReservation.id == reservation_id, CreditReservation.amount >= value)
            .values(amount=CreditReservation.amount - value)
            .returning(CreditReservation.id)
        ).first()
        if taken is None:
            exists = self.session.get(CreditReservation, reservation_id)
            if exists is None:
                raise NotFoundError(f"credit reservation {reservation_id} does not exist")
            raise InsufficientCreditError(
                f"reservation {reservation_id} holds {credits_text(exists.amount)}, "
                f"less than {credits_text(value)}"
            )

    def charge(self, amount: Decimal | int | str, *, reservation_id: int | None = None,
               campaign_id: int | None = None, message_id: int | None = None,
               note: str = "") -> Balance:
        """Spend credits: from a reservation when given, else from the available balance."""
        value = self._positive(amount)
        if reservation_id is None:
            return self._move("charge", value, balance_delta=-value,
                              reserved_delta=Decimal(0), campaign_id=campaign_id,
                              message_id=message_id, note=note)
        self._take_from_reservation(reservation_id, value)
        return self._move("charge", value, balance_delta=Decimal(0), reserved_delta=-value,
                          reservation_id=reservation_id, campaign_id=campaign_id,
                          message_id=message_id, note=note)

    def release(self, reservation_id: int, amount: Decimal | int | str | None = None,
                *, note: str = "") -> Balance:
        """Give reserved credits back to the balance (all that is left when no amount)."""
        reservation = self.session.get(CreditReservation, reservation_id)
        if reservation is None:
            raise NotFoundError(f"credit reservation {reservation_id} does not exist")
        self.session.refresh(reservation)
        value = reservation.amount if amount is None else self._positive(amount)
        if value == 0:
            return self.balance()
        self._take_from_reservation(reservation_id, value)
        after = self._move("release", value, balance_delta=value, reserved_delta=-value,
                           reservation_id=reservation_id,
                           campaign_id=reservation.campaign_id, note=note)
        if amount is None:
            reservation.closed_at = utcnow()
        return after

    @staticmethod
    def _positive(amount: Decimal | int | str) -> Decimal:
        value = credits(amount)
        if value <= 0:
            raise UsageError(f"the amount must be positive, not {value}")
        return value


def ledger_page(session: Session, *, cursor: str | None = None,
                limit: int | None = None) -> Page[dict[str, Any]]:
    """The credit ledger, newest first: every movement with the balance after it."""
    rows, next_cursor = fetch_page_desc(session, select(CreditLedger), CreditLedger.id,
                                        cursor=cursor, limit=limit)
    return Page([{"id": r.id, "at": r.at, "kind": r.kind, "amount": r.amount,
                  "balance_after": r.balance_after, "reserved_after": r.reserved_after,
                  "campaign_id": r.campaign_id, "message_id": r.message_id,
                  "note": r.note, "actor": r.actor} for r in rows], next_cursor)
