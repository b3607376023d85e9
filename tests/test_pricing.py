"""Cost in credits and the credit balance (never negative, even with concurrent workers)."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from smscope.db import Database
from smscope.db.tables import CreditLedger, CreditReservation
from smscope.errors import InsufficientCreditError, NotFoundError, UsageError
from smscope.pricing import CreditBank, PriceTable, cost, load_price_table, set_price

FR = "+33612345678"
BE = "+32470123456"


def test_default_price_is_one_credit_per_segment() -> None:
    assert cost(FR, "hello") == Decimal("1")
    assert cost(FR, "x" * 161) == Decimal("2")  # 2 segments of 153
    assert cost(FR, "é" * 70) == Decimal("1")  # é is GSM-7
    assert cost(FR, "ç" * 71) == Decimal("2")  # ç is not: UCS-2, 67 per part


def test_price_of_the_destination_country_times_segments() -> None:
    table = PriceTable.from_mapping({"default": "0.5", "fr": "0.075"})
    assert table.cost(FR, "x" * 300) == Decimal("0.1500")
    assert table.cost(BE, "x" * 300) == Decimal("1.0000")
    assert table.price_for(None) == Decimal("0.5")


def test_stored_prices_override_the_configured_ones(db: Database) -> None:
    with db.transaction() as session:
        set_price(session, "fr", "0.0651")
        set_price(session, "fr", "0.0652")  # an update, not a second row
    with db.session() as session:
        table = load_price_table(session, {"default": Decimal("2"), "FR": Decimal("9")})
    assert table.price_for("FR") == Decimal("0.0652")
    assert table.price_for("BE") == Decimal("2")


@pytest.mark.parametrize(("country", "price"), [("France", "1"), ("FR", "-1"), ("FR", "abc")])
def test_bad_prices_are_refused(db: Database, country: str, price: str) -> None:
    with pytest.raises(UsageError), db.transaction() as session:
        set_price(session, country, price)


def test_reserve_charge_release_keep_the_books_balanced(db: Database) -> None:
    with db.transaction() as session:
        bank = CreditBank(session)
        bank.add(100)
        reservation = bank.reserve("30.5", campaign_id=None)
        bank.charge("10.25", reservation_id=reservation)
        after = bank.release(reservation)
    assert after.available == Decimal("89.75")
    assert after.reserved == Decimal("0")
    with db.session() as session:
        kinds = session.scalars(select(CreditLedger.kind).order_by(CreditLedger.id)).all()
        assert kinds == ["add", "reserve", "charge", "release"]
        held = session.get(CreditReservation, reservation)
        assert held is not None and held.amount == 0 and held.closed_at is not None


def test_reserving_more_than_the_balance_is_refused_and_changes_nothing(db: Database) -> None:
    with db.transaction() as session:
        CreditBank(session).add(5)
    with pytest.raises(InsufficientCreditError, match="5 available"), db.transaction() as s:
        CreditBank(s).reserve(6)
    with db.session() as session:
        balance = CreditBank(session).balance()
    assert (balance.available, balance.reserved) == (Decimal(5), Decimal(0))


def test_a_charge_cannot_exceed_its_reservation(db: Database) -> None:
    with db.transaction() as session:
        bank = CreditBank(session)
        bank.add(50)
        reservation = bank.reserve(10)
    with pytest.raises(InsufficientCreditError, match="holds 10"), db.transaction() as s:
        CreditBank(s).charge(11, reservation_id=reservation)
    with pytest.raises(NotFoundError), db.transaction() as s:
        CreditBank(s).charge(1, reservation_id=999)


def test_a_direct_charge_without_reservation_uses_the_balance(db: Database) -> None:
    with db.transaction() as session:
        bank = CreditBank(session)
        bank.add(2)
        bank.charge(2, message_id=7)
        with pytest.raises(InsufficientCreditError):
            bank.charge("0.0001")


@pytest.mark.parametrize("amount", ["0", "-3", "nan", "lots"])
def test_nonsense_amounts_are_refused(db: Database, amount: str) -> None:
    with pytest.raises(UsageError), db.transaction() as session:
        bank = CreditBank(session)
        bank.add(10)
        bank.reserve(amount)


def _hammer(db: Database, start: threading.Barrier, seed: int, won: list[Decimal]) -> None:
    rng = random.Random(seed)
    start.wait()
    while True:
        amount = Decimal(rng.randint(1, 700)) / 100
        try:
            with db.transaction() as session:
                bank = CreditBank(session)
                reservation = bank.reserve(amount)
                if rng.random() < 0.5:
                    bank.charge(amount, reservation_id=reservation)
                won.append(amount)
        except InsufficientCreditError:
            if amount <= Decimal("0.01"):
                return
            continue


def test_concurrent_workers_never_take_the_balance_below_zero(db: Database) -> None:
    """Two connections reserve and charge at the same time until the money runs out."""
    with db.transaction() as session:
        CreditBank(session).add(250)
    start = threading.Barrier(2)
    won: list[list[Decimal]] = [[], []]
    threads = [threading.Thread(target=_hammer, args=(db, start, i, won[i])) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    with db.session() as session:
        balance = CreditBank(session).balance()
        held = session.scalar(select(func.coalesce(func.sum(CreditReservation.amount), 0)))
        charged = session.scalars(select(CreditLedger.amount)
                                  .where(CreditLedger.kind == "charge")).all()
    taken = sum(won[0]) + sum(won[1])
    assert balance.available >= 0 and balance.reserved >= 0
    assert balance.available + balance.reserved + sum(charged) == Decimal(250)
    assert taken == Decimal(250) - balance.available
    assert Decimal(held) == balance.reserved
    assert len(won[0]) + len(won[1]) > 1


def test_a_reservation_waits_for_a_concurrent_one_on_postgresql(pg_db: Database) -> None:
    """Connection B's reservation runs while A's is uncommitted: it waits, then sees A's."""
    with pg_db.transaction() as session:
        CreditBank(session).add(10)
    a_reserved, b_done = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def second() -> None:
        a_reserved.wait()
        try:
            with pg_db.transaction() as session:
                CreditBank(session).reserve(6)
            results["b"] = "reserved"
        except InsufficientCreditError as exc:
            results["b"] = exc
        b_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with pg_db.transaction() as session:
        CreditBank(session).reserve(6)
        a_reserved.set()
        assert not b_done.wait(0.5), "B must wait for A's row lock"
    thread.join(timeout=30)
    assert isinstance(results["b"], InsufficientCreditError)
    with pg_db.session() as session:
        balance = CreditBank(session).balance()
    assert (balance.available, balance.reserved) == (Decimal(4), Decimal(6))
