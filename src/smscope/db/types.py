"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has neither a decimal nor a time-zone-aware date-time type; rather than let the
two backends disagree (floats that drift, naive times read back in another zone), these
types store what both handle exactly and give Python the same values on both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

#: credits carry 4 decimal places (CONTRACTS §2)
CREDIT_SCALE = 10_000
CREDIT_QUANTUM = Decimal("0.0001")


#: no single amount or balance beyond this (the integer column holds ~9.2e14 credits)
MAX_CREDITS = Decimal(10) ** 12


def parse_credits(value: object) -> Decimal:
    """An amount of credits from text or a number, exact to 4 places.

    Raises :class:`ValueError` saying how to write it: not a number, not finite, or
    more than :data:`MAX_CREDITS`.
    """
    try:
        amount = Decimal(str(value).strip())
        if not amount.is_finite():
            raise ArithmeticError
        if abs(amount) > MAX_CREDITS:
            raise ValueError(f"{value!r} credits is more than the largest amount, "
                             f"{MAX_CREDITS:,}")
        return amount.quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_EVEN)
    except ArithmeticError:
        raise ValueError(
            f"{value!r} is not an amount of credits; write it like 100 or 2.5"
        ) from None


def to_credit_units(value: Decimal | int | float | str) -> int:
    """Credits as an exact integer number of ten-thousandths."""
    amount = Decimal(str(value)).quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_EVEN)
    return int(amount * CREDIT_SCALE)


def from_credit_units(units: int) -> Decimal:
    return (Decimal(units) / CREDIT_SCALE).quantize(CREDIT_QUANTUM)


class Credits(TypeDecorator[Decimal]):
    """An amount of credits, stored as an integer of ten-thousandths.

    Integers add up exactly in SQL ``SUM`` and in atomic ``UPDATE … SET x = x - :n``
    on both backends, which a float column on SQLite would not.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else to_credit_units(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_credit_units(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, always read back as an aware UTC ``datetime``.

    A naive value given to it is taken as UTC; an aware one is converted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite stores text; keep it naive so that string comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # Bulk statements bind one moment ("now") to every row of a batch, and read back
    # rows written at one moment: the conversions, which cost more than the database's
    # own work on the receipt path, are made once per run of equal values. The memo is
    # one tuple, replaced whole, so threads sharing the processor never see half of it.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _memoised(super().bind_processor(dialect))

    def result_processor(self, dialect: Dialect,
                         coltype: object) -> Callable[[Any], Any] | None:
        return _memoised(super().result_processor(dialect, coltype))


def _memoised(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``convert`` remembering its last argument (by equality of immutable values)."""
    if convert is None:
        return None
    memo: list[tuple[Any, Any]] = [(object(), None)]

    def process(value: Any) -> Any:
        last = memo[0]
        if value is None:
            return convert(value)
        # equal and of one type; for moments also the same offset (two aware times in
        # one zone compare by wall clock, ignoring fold: 02:30 before and after the
        # end of summer time are equal, and an hour apart)
        if (value == last[0] and type(value) is type(last[0])
                and getattr(value, "fold", 0) == getattr(last[0], "fold", 0)):
            return last[1]
        out = convert(value)
        memo[0] = (value, out)
        return out

    return process


def utcnow() -> datetime:
    return datetime.now(UTC)
