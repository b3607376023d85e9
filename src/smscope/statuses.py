"""Canonical message statuses, their categories, and the precedence rule.

Every message has exactly one current status from :class:`Status` (SPEC §4.1). The
identifiers are stable (they appear in JSON, CSV and the database); labels are for
people and may be translated.

The precedence rule lives here, as pure functions, because every path that changes a
status (submit responses, SMPP receipts, HTTP callbacks, expiry, retries) must agree on
it; if two places decided differently, counters would drift from the messages.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Category(enum.StrEnum):
    """The groups reports count in (SPEC §4.1, CONTRACTS §5)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    SOFT_BOUNCE = "soft_bounce"
    HARD_BOUNCE = "hard_bounce"
    ERROR = "error"
    UNSUBSCRIBED = "unsubscribed"
    NOT_SENT = "not_sent"
    TEST = "test"


class ContactAction(enum.StrEnum):
    """What a final status does to the contact it was sent to."""

    NONE = "none"
    KEEP = "keep"
    MARK_INVALID = "mark_invalid"
    MARK_INVALID_REMOVE_FROM_LISTS = "mark_invalid_remove_from_lists"


class Status(enum.StrEnum):
    """The 25 canonical statuses of SPEC §4.1."""

    # pending
    QUEUED = "queued"
    SCHEDULED = "scheduled"
    SENT = "sent"
    DELIVERED_TO_OPERATOR = "delivered_to_operator"
    RETRY_SCHEDULED = "retry_scheduled"
    # delivered
    RECEIVED = "received"
    # soft bounce
    TEMPORARY_ERROR_OPERATOR = "temporary_error_operator"
    TEMPORARY_ERROR_ABSENCE = "temporary_error_absence"
    TEMPORARY_ERROR_PHONE = "temporary_error_phone"
    TEMPORARY_ERROR_PORTABILITY = "temporary_error_portability"
    EXPIRED = "expired"
    # hard bounce
    PERMANENT_ERROR_ABSENCE = "permanent_error_absence"
    PERMANENT_ERROR_PHONE = "permanent_error_phone"
    PERMANENT_ERROR_PORTABILITY = "permanent_error_portability"
    ROUTING_ERROR = "routing_error"
    # error
    REJECTED = "rejected"
    RECEPTION_ERROR = "reception_error"
    OTHER_ERROR = "other_error"
    INTERNAL_ERROR = "internal_error"
    UNDEFINED = "undefined"
    # unsubscribed / not sent / test
    BLACKLISTED = "blacklisted"
    INVALID_NUMBER = "invalid_number"
    DUPLICATE = "duplicate"
    INSUFFICIENT_CREDIT = "insufficient_credit"
    TEST = "test"

    @property
    def category(self) -> Category:
        return _CATEGORY[self]

    @property
    def is_final(self) -> bool:
        return self.category is not Category.PENDING

    @property
    def contact_action(self) -> ContactAction:
        if self is Status.INVALID_NUMBER:
            return ContactAction.MARK_INVALID
        return _CONTACT_ACTION.get(self.category, ContactAction.NONE)

    @property
    def label(self) -> str:
        """The English label shown to people."""
        return _LABELS[self]

    @property
    def meaning(self) -> str:
        """One sentence for tooltips and help pages (from SPEC §4.1)."""
        return _MEANINGS[self]


_CATEGORY: dict[Status, Category] = {
    Status.QUEUED: Category.PENDING,
    Status.SCHEDULED: Category.PENDING,
    Status.SENT: Category.PENDING,
    Status.DELIVERED_TO_OPERATOR: Category.PENDING,
    Status.RETRY_SCHEDULED: Category.PENDING,
    Status.RECEIVED: Category.DELIVERED,
    Status.TEMPORARY_ERROR_OPERATOR: Category.SOFT_BOUNCE,
    Status.TEMPORARY_ERROR_ABSENCE: Category.SOFT_BOUNCE,
    Status.TEMPORARY_ERROR_PHONE: Category.SOFT_BOUNCE,
    Status.TEMPORARY_ERROR_PORTABILITY: Category.SOFT_BOUNCE,
    Status.EXPIRED: Category.SOFT_BOUNCE,
    Status.PERMANENT_ERROR_ABSENCE: Category.HARD_BOUNCE,
    Status.PERMANENT_ERROR_PHONE: Category.HARD_BOUNCE,
    Status.PERMANENT_ERROR_PORTABILITY: Category.HARD_BOUNCE,
    Status.ROUTING_ERROR: Category.HARD_BOUNCE,
    Status.REJECTED: Category.ERROR,
    Status.RECEPTION_ERROR: Category.ERROR,
    Status.OTHER_ERROR: Category.ERROR,
    Status.INTERNAL_ERROR: Category.ERROR,
    Status.UNDEFINED: Category.ERROR,
    Status.BLACKLISTED: Category.UNSUBSCRIBED,
    Status.INVALID_NUMBER: Category.NOT_SENT,
    Status.DUPLICATE: Category.NOT_SENT,
    Status.INSUFFICIENT_CREDIT: Category.NOT_SENT,
    Status.TEST: Category.TEST,
}

# By category; `invalid_number` is the one not-sent status that touches the contact.
_CONTACT_ACTION: dict[Category, ContactAction] = {
    Category.SOFT_BOUNCE: ContactAction.KEEP,
    Category.ERROR: ContactAction.KEEP,
    Category.HARD_BOUNCE: ContactAction.MARK_INVALID_REMOVE_FROM_LISTS,
}

_LABELS: dict[Status, str] = {
    Status.QUEUED: "Queued",
    Status.SCHEDULED: "Scheduled",
    Status.SENT: "Sent",
    Status.DELIVERED_TO_OPERATOR: "Delivered to operator",
    Status.RETRY_SCHEDULED: "Retry scheduled",
    Status.RECEIVED: "Received",
    Status.TEMPORARY_ERROR_OPERATOR: "Temporary error: operator",
    Status.TEMPORARY_ERROR_ABSENCE: "Temporary error: absence",
    Status.TEMPORARY_ERROR_PHONE: "Temporary error: phone",
    Status.TEMPORARY_ERROR_PORTABILITY: "Temporary error: portability",
    Status.EXPIRED: "Expired",
    Status.PERMANENT_ERROR_ABSENCE: "Permanent error: absence",
    Status.PERMANENT_ERROR_PHONE: "Permanent error: phone",
    Status.PERMANENT_ERROR_PORTABILITY: "Permanent error: portability",
    Status.ROUTING_ERROR: "Routing error",
    Status.REJECTED: "Rejected",
    Status.RECEPTION_ERROR: "Reception error",
    Status.OTHER_ERROR: "Other error",
    Status.INTERNAL_ERROR: "Internal error",
    Status.UNDEFINED: "Undefined",
    Status.BLACKLISTED: "Blacklisted (not sent)",
    Status.INVALID_NUMBER: "Invalid number (not sent)",
    Status.DUPLICATE: "Duplicate (not sent)",
    Status.INSUFFICIENT_CREDIT: "Insufficient credit (not sent)",
    Status.TEST: "Test",
}

_MEANINGS: dict[Status, str] = {
    Status.QUEUED: "Accepted by smscope, not yet submitted.",
    Status.SCHEDULED: "Waiting for its schedule or the sending window of its country.",
    Status.SENT: "Submitted to the operator and accepted.",
    Status.DELIVERED_TO_OPERATOR: "The operator recognised the number; "
    "not yet on the handset.",
    Status.RETRY_SCHEDULED: "A temporary error; another attempt is planned.",
    Status.RECEIVED: "Confirmed received on the handset.",
    Status.TEMPORARY_ERROR_OPERATOR: "The operator was unavailable during the attempts.",
    Status.TEMPORARY_ERROR_ABSENCE: "The subscriber was absent or unreachable.",
    Status.TEMPORARY_ERROR_PHONE: "The handset was unreachable or its memory full.",
    Status.TEMPORARY_ERROR_PORTABILITY: "The number was being ported.",
    Status.EXPIRED: "Not delivered within the validity period.",
    Status.PERMANENT_ERROR_ABSENCE: "The number is not recognised by operators.",
    Status.PERMANENT_ERROR_PHONE: "The number is not allocated.",
    Status.PERMANENT_ERROR_PORTABILITY: "The number was ported to an unknown operator.",
    Status.ROUTING_ERROR: "Unrecognised format or unmanaged destination.",
    Status.REJECTED: "Rejected by the operator (spam filter, barred…).",
    Status.RECEPTION_ERROR: "Not delivered, cause undetermined.",
    Status.OTHER_ERROR: "An undefined operator-side problem.",
    Status.INTERNAL_ERROR: "A malfunction on smscope's side.",
    Status.UNDEFINED: "The status could not be determined.",
    Status.BLACKLISTED: "Not sent: the recipient opted out.",
    Status.INVALID_NUMBER: "Not sent: the number failed validation.",
    Status.DUPLICATE: "Not sent: blocked by the anti-duplicate filter.",
    Status.INSUFFICIENT_CREDIT: "Not sent: not enough credit.",
    Status.TEST: "A test message, kept out of the statistics.",
}

#: Stages of one attempt. `queued` and `scheduled` share a stage: a message waiting
#: for its window may move between them freely. `retry_scheduled` closes an attempt.
_PENDING_STAGE: dict[Status, int] = {
    Status.QUEUED: 0,
    Status.SCHEDULED: 0,
    Status.SENT: 1,
    Status.DELIVERED_TO_OPERATOR: 2,
    Status.RETRY_SCHEDULED: 3,
}

#: Final statuses that are smscope's own guess, not the operator's word: `expired`
#: declared when the validity passed with no receipt, `undefined` of an in-doubt submit.
#: A later final receipt replaces them (CONTRACTS §4).
GUESSES: frozenset[Status] = frozenset({Status.EXPIRED, Status.UNDEFINED})

#: "Worst" order of final categories for multipart roll-up (CONTRACTS §4).
_ROLLUP_SEVERITY: dict[Category, int] = {
    Category.HARD_BOUNCE: 3,
    Category.ERROR: 2,
    Category.SOFT_BOUNCE: 1,
}

PENDING_STATUSES: frozenset[Status] = frozenset(s for s in Status if not s.is_final)
FINAL_STATUSES: frozenset[Status] = frozenset(s for s in Status if s.is_final)


def statuses_in(category: Category | str) -> list[Status]:
    """The statuses of one category, in table order."""
    cat = Category(category)
    return [s for s in Status if s.category is cat]


def parse_status_or_category(value: str) -> tuple[list[Status], str]:
    """Read a ``--status`` filter that accepts a status id or a category id.

    Returns the statuses it stands for and the canonical spelling. Raises
    :class:`ValueError` naming the valid choices.
    """
    key = value.strip().lower()
    if key in Status._value2member_map_:
        return [Status(key)], key
    if key in Category._value2member_map_:
        return statuses_in(key), key
    choices = ", ".join([c.value for c in Category] + [s.value for s in Status])
    raise ValueError(f"unknown status or category {value!r}; use one of: {choices}")


def should_replace(current: Status, new: Status, *, current_is_guess: bool = False) -> bool:
    """Decide whether ``new`` becomes the message's status instead of ``current``.

    The rule every status change goes through (SPEC §4.3, CONTRACTS §4):

    * a final status is never replaced by a pending one, and never by another final
      one — except that the operator's word replaces smscope's own guess
      (``current_is_guess`` with ``current`` in :data:`GUESSES`);
    * a final status replaces any pending one;
    * between pendings, a later stage wins (``sent`` < ``delivered_to_operator``);
      ``queued`` and ``scheduled`` may swap; ``retry_scheduled`` may start the next
      attempt at ``queued`` / ``scheduled``.

    The same status never "replaces" itself, so a repeated receipt changes nothing.
    Pending receipts of an *older* attempt must be filtered by the caller, who knows
    attempt numbers; this rule sees only the two statuses.
    """
    if new is current:
        return False
    if current.is_final:
        return new.is_final and current_is_guess and current in GUESSES
    if new.is_final:
        return True
    cur_stage, new_stage = _PENDING_STAGE[current], _PENDING_STAGE[new]
    if current is Status.RETRY_SCHEDULED:
        return new_stage == 0
    return new_stage > cur_stage or new_stage == cur_stage == 0


def rollup(parts: Iterable[Status]) -> Status:
    """The status of a multipart message, derived from its parts' statuses.

    Pending while any part is pending; ``received`` when every part is; otherwise the
    worst part by category (hard_bounce > error > soft_bounce), and within that
    category the status of the first such part. Other final categories (not sent,
    test, unsubscribed) apply to the whole message at once, so a part that has one
    gives it.
    """
    statuses = list(parts)
    if not statuses:
        raise ValueError("a message has at least one part")
    pending = [s for s in statuses if not s.is_final]
    if pending:
        # The least advanced part tells how far the message as a whole has got.
        return min(pending, key=lambda s: _PENDING_STAGE[s])
    worst: Status | None = None
    for s in statuses:
        if s is Status.RECEIVED:
            continue
        severity = _ROLLUP_SEVERITY.get(s.category, 4)
        if worst is None or severity > _ROLLUP_SEVERITY.get(worst.category, 4):
            worst = s
    return worst if worst is not None else Status.RECEIVED
