"""The status model: the table of SPEC §4.1 and the precedence rule, every pair."""

from __future__ import annotations

import itertools

import pytest

from smscope.statuses import (
    GUESSES,
    Category,
    ContactAction,
    Status,
    parse_status_or_category,
    rollup,
    should_replace,
)

# SPEC §4.1, copied row by row: status, category, final, contact action.
TABLE = """
queued                       pending      no  none
scheduled                    pending      no  none
sent                         pending      no  none
delivered_to_operator        pending      no  none
retry_scheduled              pending      no  none
received                     delivered    yes none
temporary_error_operator     soft_bounce  yes keep
temporary_error_absence      soft_bounce  yes keep
temporary_error_phone        soft_bounce  yes keep
temporary_error_portability  soft_bounce  yes keep
expired                      soft_bounce  yes keep
permanent_error_absence      hard_bounce  yes mark_invalid_remove_from_lists
permanent_error_phone        hard_bounce  yes mark_invalid_remove_from_lists
permanent_error_portability  hard_bounce  yes mark_invalid_remove_from_lists
routing_error                hard_bounce  yes mark_invalid_remove_from_lists
rejected                     error        yes keep
reception_error              error        yes keep
other_error                  error        yes keep
internal_error               error        yes keep
undefined                    error        yes keep
blacklisted                  unsubscribed yes none
invalid_number               not_sent     yes mark_invalid
duplicate                    not_sent     yes none
insufficient_credit          not_sent     yes none
test                         test         yes none
"""
ROWS = [line.split() for line in TABLE.strip().splitlines()]


def test_there_are_exactly_the_25_statuses_of_the_spec() -> None:
    assert [row[0] for row in ROWS] == [s.value for s in Status]
    assert len(Status) == 25


@pytest.mark.parametrize(("status", "category", "final", "action"), ROWS)
def test_each_status_has_the_category_finality_and_action_of_the_spec(
    status: str, category: str, final: str, action: str
) -> None:
    s = Status(status)
    assert s.category is Category(category)
    assert s.is_final is (final == "yes")
    assert s.contact_action is ContactAction(action)
    assert isinstance(s, str) and s == status
    assert s.label and s.meaning


def test_categories_are_exactly_the_eight_of_the_spec() -> None:
    assert {c.value for c in Category} == {
        "pending", "delivered", "soft_bounce", "hard_bounce",
        "error", "unsubscribed", "not_sent", "test",
    }


# Pending order of one attempt, written independently of the implementation.
BEFORE_SUBMIT = {Status.QUEUED, Status.SCHEDULED}
ATTEMPT_ORDER = [Status.SENT, Status.DELIVERED_TO_OPERATOR, Status.RETRY_SCHEDULED]


def expected_replace(current: Status, new: Status, guess: bool) -> bool:
    if current == new:
        return False
    finals = {s for s in Status if s.category.value != "pending"}
    if current in finals:
        return new in finals and guess and current.value in ("expired", "undefined")
    if new in finals:
        return True
    if current in BEFORE_SUBMIT:
        return True  # the other waiting state, or any submitted stage
    if current is Status.RETRY_SCHEDULED:
        return new in BEFORE_SUBMIT  # the next attempt starts over
    if new in BEFORE_SUBMIT:
        return False  # a submitted attempt never goes back
    return ATTEMPT_ORDER.index(new) > ATTEMPT_ORDER.index(current)


@pytest.mark.parametrize("guess", [False, True], ids=["operator", "guess"])
@pytest.mark.parametrize(
    ("current", "new"),
    list(itertools.product(Status, Status)),
    ids=lambda s: s.value,
)
def test_precedence_for_every_pair(current: Status, new: Status, guess: bool) -> None:
    assert should_replace(current, new, current_is_guess=guess) is expected_replace(
        current, new, guess
    )


def test_late_enroute_does_not_overwrite_received() -> None:
    assert not should_replace(Status.RECEIVED, Status.DELIVERED_TO_OPERATOR)


def test_delivered_to_operator_beats_sent_but_not_the_reverse() -> None:
    assert should_replace(Status.SENT, Status.DELIVERED_TO_OPERATOR)
    assert not should_replace(Status.DELIVERED_TO_OPERATOR, Status.SENT)


def test_first_final_status_stays() -> None:
    assert not should_replace(Status.RECEIVED, Status.PERMANENT_ERROR_PHONE)
    assert not should_replace(Status.REJECTED, Status.RECEIVED)


def test_operator_receipt_replaces_smscopes_own_expiry_guess() -> None:
    assert should_replace(Status.EXPIRED, Status.RECEIVED, current_is_guess=True)
    assert should_replace(Status.UNDEFINED, Status.REJECTED, current_is_guess=True)
    # ... but an EXPIRED the operator itself reported is its final word
    assert not should_replace(Status.EXPIRED, Status.RECEIVED, current_is_guess=False)
    # ... and a guess never goes back to pending
    assert not should_replace(Status.EXPIRED, Status.DELIVERED_TO_OPERATOR, current_is_guess=True)
    assert {Status.EXPIRED, Status.UNDEFINED} == GUESSES


def test_same_status_twice_changes_nothing() -> None:
    for s in Status:
        assert not should_replace(s, s, current_is_guess=True)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["received"], "received"),
        (["received", "received", "received"], "received"),
        (["received", "delivered_to_operator"], "delivered_to_operator"),
        (["sent", "delivered_to_operator"], "sent"),
        (["received", "temporary_error_absence"], "temporary_error_absence"),
        (["temporary_error_phone", "rejected"], "rejected"),
        (["rejected", "permanent_error_phone", "expired"], "permanent_error_phone"),
        (["routing_error", "permanent_error_absence"], "routing_error"),
        (["expired", "temporary_error_phone"], "expired"),
        (["received", "permanent_error_phone", "sent"], "sent"),
    ],
)
def test_multipart_rollup(parts: list[str], expected: str) -> None:
    assert rollup(Status(p) for p in parts) is Status(expected)


def test_rollup_of_no_parts_is_an_error() -> None:
    with pytest.raises(ValueError):
        rollup([])


def test_status_filter_accepts_a_status_or_a_category() -> None:
    assert parse_status_or_category("RECEIVED") == ([Status.RECEIVED], "received")
    statuses, key = parse_status_or_category("hard_bounce")
    assert key == "hard_bounce" and len(statuses) == 4
    with pytest.raises(ValueError, match="unknown status or category 'nope'"):
        parse_status_or_category("nope")
