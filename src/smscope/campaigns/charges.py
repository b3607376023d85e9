"""Paying for what was sent: a campaign's first attempts from the credits reserved at
its fan-out, test sends (and anything not reserved) from the balance.

Used where a submit is known to have gone out: when its response is recorded
(:func:`smscope.campaigns.dispatch.record`), and when a receipt settles a submit whose
response never was (an in-doubt submit, :mod:`smscope.receipts.ingest`).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.db.tables import CreditReservation
from smscope.errors import InsufficientCreditError
from smscope.pricing import CreditBank

__all__ = ["charge_campaigns"]

log = logging.getLogger(__name__)


def charge_campaigns(session: Session, charges: dict[int, Decimal], *, reserved: bool = True,
                     note: str = "messages sent") -> None:
    """Charge each campaign its amount: from its open reservation when ``reserved``
    (first attempts), else from the balance (test sends)."""
    bank = CreditBank(session)
    for campaign_id, amount in charges.items():
        if amount <= 0:
            continue
        reservation = session.scalar(
            select(CreditReservation.id)
            .where(CreditReservation.campaign_id == campaign_id,
                   CreditReservation.closed_at.is_(None),
                   CreditReservation.amount >= amount)
            .order_by(CreditReservation.id).limit(1)) if reserved else None
        try:
            bank.charge(amount, reservation_id=reservation, campaign_id=campaign_id,
                        note=note)
        except InsufficientCreditError:
            # prices changed since the fan-out and the balance cannot cover it: the
            # messages are already out, so say so rather than fail the record
            log.warning("campaign %s: %s credits could not be charged", campaign_id, amount)
