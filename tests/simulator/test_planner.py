"""Each message's fate: reproducible, per number, shared by the parts of a message."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smscope.simulator.planner import Planner
from smscope.simulator.profile import Profile, load_profile

NUMBERS = [f"+3361234{i:04d}" for i in range(10, 410)]


def profile(**extra: Any) -> Profile:
    data: dict[str, Any] = {
        "outcomes": [{"stat": "DELIVRD", "share": 0.5},
                     {"stat": "UNDELIV", "err": "027", "share": 0.5}],
        "latency": {"distribution": "uniform", "min": 1, "max": 10},
    }
    data.update(extra)
    return Profile.model_validate(data)


def fates(planner: Planner, numbers: list[str]) -> list[tuple[str, float]]:
    plans = [planner.plan(n)[0] for n in numbers]
    return [(p.outcome.stat, p.latency) for p in plans]


def test_same_seed_same_fates_other_seed_other_fates() -> None:
    realistic = load_profile("realistic")
    assert fates(Planner(realistic, 5), NUMBERS) == fates(Planner(realistic, 5), NUMBERS)
    assert fates(Planner(realistic, 5), NUMBERS) != fates(Planner(realistic, 6), NUMBERS)


def test_a_numbers_fate_does_not_depend_on_other_numbers_messages() -> None:
    one, two = Planner(profile(), 1), Planner(profile(), 1)
    alone = fates(one, NUMBERS[:50])
    mixed = []
    for number, other in zip(NUMBERS[:50], NUMBERS[200:250], strict=True):
        two.plan(other)
        mixed.extend(fates(two, [number]))
    assert alone == mixed


def test_a_second_message_to_a_number_is_drawn_again() -> None:
    planner = Planner(profile(), 2)
    first = fates(planner, NUMBERS)
    second = fates(planner, NUMBERS)
    assert first != second
    # about half the absent subscribers are reached on the next attempt
    retried = [b for a, b in zip(first, second, strict=True) if a[0] == "UNDELIV"]
    delivered = sum(stat == "DELIVRD" for stat, _ in retried)
    assert 0.3 < delivered / len(retried) < 0.7


def test_parts_of_one_message_share_its_fate_and_only_the_first_is_first() -> None:
    planner = Planner(profile(), 3)
    group = ("SHOP", NUMBERS[0], 7, 3)
    results = [planner.plan(NUMBERS[0], group, 3) for _ in range(3)]
    assert len({id(plan) for plan, _ in results}) == 1
    assert [first for _, first in results] == [True, False, False]
    # the message is complete: the same reference later is a new message
    again, first = planner.plan(NUMBERS[0], group, 3)
    assert first is True and again is not results[0][0]


def test_shares_hold_over_many_numbers() -> None:
    planner = Planner(load_profile("realistic"), 11)
    numbers = [f"+336{i:08d}" for i in range(100_000, 120_000)]
    counts = Counter(planner.plan(n)[0].outcome.stat for n in numbers)
    # numbers ending 0001/0002 are overridden to UNDELIV: 2 in 10,000
    assert abs(counts["DELIVRD"] / len(numbers) - 0.935) < 0.01
    assert abs(counts["EXPIRED"] / len(numbers) - 0.010) < 0.004


def test_override_fixes_the_outcome_and_keeps_other_numbers_unchanged() -> None:
    plain = Planner(profile(), 4)
    overridden = Planner(profile(overrides=[{"pattern": "*0013", "stat": "REJECTD",
                                             "err": "013"}]), 4)
    numbers = NUMBERS[:10]  # +33612340010 .. 0019
    for number, a, b in zip(numbers, fates(plain, numbers), fates(overridden, numbers),
                            strict=True):
        if number.endswith("0013"):
            assert b[0] == "REJECTD"
        else:
            assert a == b


def test_override_submit_status_refuses_and_override_reply_replies() -> None:
    planner = Planner(profile(overrides=[
        {"pattern": "*0010", "submit_status": "ESME_RINVDSTADR"},
        {"pattern": "*0011", "stat": "DELIVRD", "reply": "STOP"},
    ]), 5)
    refused, _ = planner.plan("+33612340010")
    assert refused.submit_status == 0x0B
    replied, _ = planner.plan("+33612340011")
    assert replied.submit_status == 0 and replied.reply == "STOP"
    assert replied.outcome.stat == "DELIVRD"


def test_replies_only_from_delivered_messages_at_their_rates() -> None:
    planner = Planner(profile(mo={"reply_rate": 0.2, "stop_rate": 0.1, "replies": ["OK"],
                                  "stops": ["STOP", "stop"]}), 6)
    plans = [planner.plan(f"+336{i:08d}")[0] for i in range(4000)]
    delivered = [p for p in plans if p.outcome.stat == "DELIVRD"]
    assert all(p.reply is None for p in plans if p.outcome.stat != "DELIVRD")
    stops = sum(p.reply in ("STOP", "stop") for p in delivered) / len(delivered)
    oks = sum(p.reply == "OK" for p in delivered) / len(delivered)
    assert abs(stops - 0.1) < 0.03 and abs(oks - 0.2) < 0.04
    assert {p.reply for p in delivered} == {None, "OK", "STOP", "stop"}


def test_intermediates_come_in_time_order_before_the_final_receipt() -> None:
    planner = Planner(profile(intermediate={"acceptd": 0.5, "enroute": 0.5}), 7)
    plans = [planner.plan(n)[0] for n in NUMBERS]
    with_both = [p for p in plans if len(p.intermediates) == 2]
    assert with_both and any(not p.intermediates for p in plans)
    for plan in plans:
        times = [at for _, at in plan.intermediates]
        assert times == sorted(times)
        assert all(0 <= at <= plan.latency for at in times)


def test_outcome_latency_replaces_the_profile_latency() -> None:
    planner = Planner(profile(outcomes=[
        {"stat": "EXPIRED", "share": 1, "latency": {"distribution": "fixed", "value": "1h"}}
    ]), 8)
    assert planner.plan(NUMBERS[0])[0].latency == 3600.0
