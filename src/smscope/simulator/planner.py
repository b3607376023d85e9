"""What becomes of each submitted message: drawn from the profile, reproducibly.

The fate of a message depends only on the seed, its destination and how many messages
that destination was sent before (so a retry of an absent subscriber may succeed, and
the same run replayed gives the same outcomes whatever the order of other numbers'
messages). The parts of one long message share one fate: a handset that is off misses
every part.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

from smscope.simulator.profile import Outcome, Profile

__all__ = ["Draws", "Plan", "Planner"]

#: parts of long messages whose other parts have not all come yet; a sender that never
#: finishes a message must not grow this without bound
MAX_OPEN_GROUPS: Final = 100_000


@dataclass(frozen=True, slots=True)
class Plan:
    """The fate of one message (every part of it)."""

    #: non-zero: the submit_sm is refused with this command_status; nothing else happens
    submit_status: int
    outcome: Outcome
    #: seconds from the submit_sm to the final receipt
    latency: float
    #: intermediate receipts: (stat, seconds after the submit_sm), in time order
    intermediates: tuple[tuple[str, float], ...] = ()
    #: the recipient's reply (an MO) and when it comes, after the final receipt
    reply: str | None = None
    reply_delay: float = 0.0
    #: the recipient opens the message's first tracked link, this long after the
    #: final receipt (None: never)
    click_delay: float | None = None
    #: the final receipt is sent twice at once
    duplicate: bool = False
    #: the final receipt is sent before the submit_sm_resp
    early: bool = False


class Draws:
    """Uniform numbers drawn from a digest of ``key``: what :class:`random.Random` gives
    (``random``, ``uniform``, ``lognormvariate``) at a fifth of the cost of seeding a
    generator per message, which the simulator does tens of thousands of times a
    second."""

    __slots__ = ("_index", "_key", "_values")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._values: tuple[int, ...] = ()  # hashed when first needed
        self._index = 0

    def random(self) -> float:
        """A float in (0, 1)."""
        if self._index == len(self._values):
            if self._values:
                self._key = hashlib.blake2b(self._key, digest_size=64).digest()
                self._values = _WORDS.unpack(self._key)
            else:
                self._values = _WORDS.unpack(hashlib.blake2b(self._key, digest_size=64).digest())
            self._index = 0
        value = self._values[self._index]
        self._index += 1
        return (value + 0.5) / 2**32

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def lognormvariate(self, mu: float, sigma: float) -> float:
        return math.exp(mu + sigma * _STANDARD_NORMAL.inv_cdf(self.random()))


_WORDS: Final = struct.Struct("<16I")
_STANDARD_NORMAL: Final = NormalDist()

@dataclass(frozen=True, slots=True)
class _Needs:
    """Which draws a profile makes worth doing."""

    outcome: bool
    intermediates: bool
    replies: bool
    overrides: bool
    faults: bool
    clicks: bool


#: (source, destination, reference, total) of a concatenated message
GroupKey = tuple[str, str, int, int]


class Planner:
    """Draws a :class:`Plan` per message. ``plan()`` once per submit_sm."""

    def __init__(self, profile: Profile, seed: int = 0) -> None:
        self.profile = profile
        self.seed = seed
        self._sent: dict[str, int] = {}
        self._groups: dict[GroupKey, tuple[Plan, int]] = {}
        self._needs = _Needs(
            outcome=len(profile.outcomes) > 1,
            intermediates=bool(profile.intermediate.acceptd or profile.intermediate.enroute),
            replies=bool(profile.mo.reply_rate or profile.mo.stop_rate),
            overrides=bool(profile.overrides),
            faults=bool(profile.faults.duplicate_receipts or profile.faults.early_receipts),
            clicks=bool(profile.clicks.rate),
        )

    def _rng(self, destination: str, index: int) -> Draws:
        # a digest, not hash(): str hashes change between processes
        return Draws(f"{self.seed}\x00{destination}\x00{index}".encode())

    def plan(self, destination: str, group: GroupKey | None = None,
             part_count: int = 1) -> tuple[Plan, bool]:
        """The plan of a message to ``destination``; for a part of a long message,
        ``group`` identifies the message and ``part_count`` its number of parts.
        Returns the plan and whether this is the message's first part seen (its reply,
        if any, is sent once)."""
        if group is not None:
            known = self._groups.get(group)
            if known is not None:
                plan, left = known
                if left <= 1:
                    del self._groups[group]
                else:
                    self._groups[group] = (plan, left - 1)
                return plan, False
        plan = self._draw(destination)
        if group is not None and part_count > 1:
            if len(self._groups) >= MAX_OPEN_GROUPS:
                self._groups.pop(next(iter(self._groups)))
            self._groups[group] = (plan, part_count - 1)
        return plan, True

    def _draw(self, destination: str) -> Plan:
        profile, needs = self.profile, self._needs
        index = self._sent.get(destination, 0)
        self._sent[destination] = index + 1
        rng = self._rng(destination, index)
        # every draw happens in the same order whatever the override, so an override
        # changes only what it names; draws the profile makes pointless are skipped
        # (the same ones for every message, so outcomes stay reproducible)
        outcome = profile.draw_outcome(rng) if needs.outcome else profile.outcomes[0]
        base_latency = profile.latency.draw(rng)
        if needs.intermediates:
            intermediate_draws = (rng.random(), rng.random(), rng.random(), rng.random())
        reply_draw, reply_pick = (rng.random(), rng.random()) if needs.replies else (1.0, 0.0)
        reply_delay = profile.mo.delay.draw(rng)
        faults = profile.faults
        duplicate = early = False
        if needs.faults:
            duplicate = rng.random() < faults.duplicate_receipts
            early = rng.random() < faults.early_receipts
        override = profile.override_for(destination) if needs.overrides else None
        if override is not None:
            outcome = override.outcome(outcome)
            if override.submit_status:
                return Plan(submit_status=override.submit_status, outcome=outcome,
                            latency=0.0)
        latency = outcome.latency.draw(rng) if outcome.latency is not None else base_latency
        intermediates: tuple[tuple[str, float], ...] = ()
        if needs.intermediates:
            steps = []
            if intermediate_draws[0] < profile.intermediate.acceptd:
                steps.append(("ACCEPTD", latency * intermediate_draws[1]))
            if intermediate_draws[2] < profile.intermediate.enroute:
                steps.append(("ENROUTE", latency * intermediate_draws[3]))
            intermediates = tuple(sorted(steps, key=lambda item: item[1]))
        reply = self._reply(outcome, reply_draw, reply_pick) if needs.replies else None
        if override is not None and override.reply is not None:
            reply = override.reply
        # drawn last: a profile without clicks draws exactly what it drew before
        click_draw, click_delay = ((rng.random(), profile.clicks.delay.draw(rng))
                                   if needs.clicks else (1.0, 0.0))
        clicks = (click_draw < profile.clicks.rate and outcome.stat == "DELIVRD"
                  and not outcome.silent)
        return Plan(submit_status=0, outcome=outcome, latency=latency,
                    intermediates=intermediates, reply=reply, reply_delay=reply_delay,
                    click_delay=click_delay if clicks else None,
                    duplicate=duplicate, early=early)

    def _reply(self, outcome: Outcome, draw: float, pick: float) -> str | None:
        if outcome.stat != "DELIVRD" or outcome.silent:
            return None
        mo = self.profile.mo
        if draw < mo.stop_rate:
            return mo.stops[int(pick * len(mo.stops)) % len(mo.stops)]
        if draw < mo.stop_rate + mo.reply_rate:
            return mo.replies[int(pick * len(mo.replies)) % len(mo.replies)]
        return None
