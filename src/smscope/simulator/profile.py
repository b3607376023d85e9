"""Outcome profiles of the operator simulator: what happens to the messages it is sent.

A profile is a TOML file (its schema is in the README, and the built-in ``realistic``
and ``instant`` profiles in ``profiles/`` are commented examples). It says:

* ``[[outcomes]]`` — the share of each final outcome: a receipt ``stat`` with its
  ``err`` code (GSM MAP error codes, as SMSCs in front of a GSM network write them) and
  optionally its own latency, or ``silent`` (the SMSC never sends a final receipt);
* ``[latency]`` — how long after the submit_sm the final receipt comes;
* ``[intermediate]`` — the share of messages that get an ACCEPTD / ENROUTE receipt first;
* ``[receipt]`` — how receipts are written (id in hex or decimal, 10- or 12-digit dates,
  the ``text:`` field, TLVs), because real SMSCs differ there;
* ``[mo]`` — the share of recipients who reply, or reply STOP;
* ``[clicks]`` — the share of delivered messages whose recipient opens the message's
  first tracked link, and when;
* ``[faults]`` — duplicate receipts, receipts before the submit_sm_resp;
* ``[[overrides]]`` — fixed outcomes for destination patterns (``*0001`` always fails),
  so tests can be exact.

This module only reads and checks profiles and draws from their distributions with a
:class:`random.Random` it is given; it does no I/O besides reading the file.
"""

from __future__ import annotations

import fnmatch
import math
import re
import tomllib
from bisect import bisect_right
from functools import cached_property
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from smscope.config import describe_validation_error, parse_duration
from smscope.errors import ConfigError
from smscope.smpp.constants import CommandStatus

__all__ = [
    "BUILTIN_PROFILES",
    "FINAL_STATS",
    "ClicksConfig",
    "Latency",
    "MOConfig",
    "Outcome",
    "Override",
    "Profile",
    "ReceiptFormat",
    "load_profile",
]

#: the stats a final receipt may carry (SMPP 3.4 Appendix B)
FINAL_STATS = ("DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN")
#: the stats that carry an error code (the others are written ``err:000``)
FAILED_STATS = frozenset({"UNDELIV", "REJECTD"})
#: the profiles that ship with smscope, by name
BUILTIN_PROFILES = ("realistic", "instant")

#: shares may be written rounded; they must add up to 1 within this
_SHARE_TOLERANCE = 0.001
# the 95th percentile of a standard normal distribution
_Z95 = 1.6448536269514722


class Uniforms(Protocol):
    """What the draws need of a random generator (:class:`random.Random` has it)."""

    def random(self) -> float: ...
    def uniform(self, a: float, b: float, /) -> float: ...
    def lognormvariate(self, mu: float, sigma: float, /) -> float: ...


def _seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


#: a duration in seconds, written ``"90s"``, ``"2m"``, ``"1.5h"`` or a number of seconds
Seconds = Annotated[float, BeforeValidator(_seconds)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Latency(_Model):
    """A delay distribution. ``fixed``: always ``value``. ``uniform``: between ``min``
    and ``max``. ``lognormal``: ``median`` and ``p95`` (95 % of draws are shorter), never
    above ``max`` when given — the long tail real receipts have."""

    distribution: Literal["fixed", "uniform", "lognormal"] = "lognormal"
    value: Seconds | None = None
    min: Seconds | None = None
    median: Seconds | None = None
    p95: Seconds | None = None
    max: Seconds | None = None

    @model_validator(mode="after")
    def _complete(self) -> Latency:
        needs = {"fixed": ("value",), "uniform": ("min", "max"),
                 "lognormal": ("median", "p95")}[self.distribution]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"a {self.distribution} latency needs {' and '.join(missing)}"
            )
        if self.distribution == "uniform" and self.min > self.max:  # type: ignore[operator]
            raise ValueError("latency min is larger than max")
        if self.distribution == "lognormal" and not (
            0 < self.median <= self.p95  # type: ignore[operator]
        ):
            raise ValueError("latency needs 0 < median <= p95")
        return self

    def draw(self, rng: Uniforms) -> float:
        """One delay in seconds."""
        if self.distribution == "fixed":
            return float(self.value)  # type: ignore[arg-type]
        if self.distribution == "uniform":
            return rng.uniform(self.min, self.max)  # type: ignore[arg-type]
        median, p95 = float(self.median), float(self.p95)  # type: ignore[arg-type]
        sigma = math.log(p95 / median) / _Z95
        delay = rng.lognormvariate(math.log(median), sigma)
        return delay if self.max is None else min(delay, self.max)


def _command_status(value: Any) -> int:
    """``0x0B``, ``11`` or ``"ESME_RINVDSTADR"``."""
    if isinstance(value, str):
        name = value.strip().upper()
        if name in CommandStatus.__members__:
            return int(CommandStatus[name])
        try:
            return int(name, 0)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a command_status: write a number or a name like "
                "ESME_RINVDSTADR"
            ) from None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF:
        return value
    raise ValueError(f"{value!r} is not a command_status")


class _OutcomeFields(_Model):
    stat: str | None = None
    #: written in the receipt as is (``"027"``); only meaningful for UNDELIV/REJECTD
    err: str | None = None
    #: GSM error code of the network_error_code TLV (default: ``err`` when it is digits)
    network_error: int | None = Field(default=None, ge=0, le=0xFFFF)
    #: what the outcome means, for people (``"absent subscriber"``)
    label: str = ""
    latency: Latency | None = None
    #: the SMSC never sends a final receipt for this message
    silent: bool = False

    @field_validator("stat")
    @classmethod
    def _stat(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stat = value.strip().upper()
        if stat not in FINAL_STATS:
            raise ValueError(f"stat {value!r} is not a final stat ({', '.join(FINAL_STATS)})")
        return stat

    @field_validator("err")
    @classmethod
    def _err(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9A-Za-z]{1,10}", value):
            raise ValueError(f"err {value!r} must be 1 to 10 letters or digits, like '027'")
        return value


class Outcome(_OutcomeFields):
    """One final outcome and its share of messages."""

    stat: str  # type: ignore[assignment]
    share: Share

    @property
    def err_text(self) -> str:
        """The ``err`` field as written in the receipt."""
        if self.err is not None:
            return self.err
        return "000"

    @property
    def gsm_error(self) -> int | None:
        """The code of the network_error_code TLV, for failed messages."""
        if self.stat not in FAILED_STATS:
            return None
        if self.network_error is not None:
            return self.network_error
        err = self.err or ""
        return int(err) if err.isdigit() and int(err) <= 0xFFFF else None


class Override(_OutcomeFields):
    """A fixed fate for destinations matching ``pattern`` (a glob on the number's digits,
    ``+`` ignored): ``*0001`` matches every number ending in 0001. Fields left out are
    drawn from the profile as usual."""

    pattern: str
    #: answer the submit_sm with this error (a name like ``ESME_RINVDSTADR`` or a
    #: number) instead of accepting it
    submit_status: Annotated[int, BeforeValidator(_command_status)] | None = None
    #: the recipient replies this text (an MO) once the message is final
    reply: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        pattern = value.strip().lstrip("+")
        if not pattern:
            raise ValueError("an override needs a non-empty pattern, like '*0001'")
        return pattern

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(fnmatch.translate(self.pattern))

    def outcome(self, drawn: Outcome) -> Outcome:
        """``drawn`` with this override's fields put over it."""
        if self.stat is None:
            return drawn.model_copy(update={"silent": self.silent or drawn.silent})
        return Outcome(stat=self.stat, err=self.err, network_error=self.network_error,
                       label=self.label, latency=self.latency or drawn.latency,
                       silent=self.silent, share=0.0)


class Intermediate(_Model):
    """Shares of messages that get an ACCEPTD / ENROUTE receipt before the final one,
    at a random moment between the submit and the final receipt."""

    acceptd: Share = 0.0
    enroute: Share = 0.0


class ReceiptFormat(_Model):
    """How receipts are written. Real SMSCs differ exactly here."""

    #: receipt ids as the submit_sm_resp gave them, or always in hex / decimal
    id: Literal["same", "hex", "dec"] = "same"
    #: YYMMDDhhmm (Appendix B) or YYMMDDhhmmss
    date_digits: Literal[10, 12] = 10
    #: key of the text field: ``text`` (Appendix B), ``Text``, or ``""`` for none
    text_key: Literal["text", "Text", ""] = "text"
    #: receipted_message_id, message_state and network_error_code TLVs as well as text
    tlvs: bool = True


class Faults(_Model):
    """What real SMSCs do that a receipt pipeline must survive."""

    #: share of final receipts sent twice at once (the second is a true duplicate)
    duplicate_receipts: Share = 0.0
    #: share of messages whose final receipt comes before their submit_sm_resp (on a
    #: transceiver bind), so the receipt names an id the client does not know yet
    early_receipts: Share = 0.0


class MOConfig(_Model):
    """Replies: the share of delivered messages whose recipient answers, with a STOP
    keyword or with another text, some ``delay`` after the final receipt."""

    reply_rate: Share = 0.0
    stop_rate: Share = 0.0
    replies: list[str] = Field(default_factory=lambda: ["OK", "Merci !"], min_length=1)
    stops: list[str] = Field(default_factory=lambda: ["STOP"], min_length=1)
    delay: Latency = Latency(distribution="fixed", value=1.0)

    @model_validator(mode="after")
    def _rates(self) -> MOConfig:
        if self.reply_rate + self.stop_rate > 1.0:
            raise ValueError("reply_rate + stop_rate is more than 1")
        return self


class ClicksConfig(_Model):
    """Clicks: the share of delivered messages whose recipient opens the first tracked
    link of the message (``{public_url}/c/<token>``; the simulator fetches nothing
    else), some ``delay`` after the final receipt."""

    rate: Share = 0.0
    delay: Latency = Latency(distribution="fixed", value=1.0)


class Profile(_Model):
    """A whole outcome profile."""

    name: str = ""
    description: str = ""
    #: how submit_sm_resp message ids are written
    submit_ids: Literal["hex", "dec"] = "hex"
    #: a receipt not acknowledged is sent again this long after (and at once when the
    #: client binds again)
    resend_after: Seconds = 10.0
    latency: Latency = Latency(distribution="fixed", value=0.0)
    intermediate: Intermediate = Intermediate()
    receipt: ReceiptFormat = ReceiptFormat()
    outcomes: list[Outcome] = Field(min_length=1)
    mo: MOConfig = MOConfig()
    clicks: ClicksConfig = ClicksConfig()
    faults: Faults = Faults()
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("outcomes")
    @classmethod
    def _shares(cls, outcomes: list[Outcome]) -> list[Outcome]:
        total = sum(o.share for o in outcomes)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(f"the outcome shares add up to {total:g}, they must add up to 1")
        return outcomes

    @cached_property
    def _cumulative(self) -> list[float]:
        return list(accumulate(o.share for o in self.outcomes))

    def draw_outcome(self, rng: Uniforms) -> Outcome:
        """An outcome, each with its share's chance."""
        cumulative = self._cumulative
        index = bisect_right(cumulative, rng.random() * cumulative[-1])
        return self.outcomes[min(index, len(self.outcomes) - 1)]

    def override_for(self, number: str) -> Override | None:
        """The first override whose pattern matches ``number`` (``+`` ignored)."""
        digits = number.lstrip("+")
        for override in self.overrides:
            if override.regex.match(digits):
                return override
        return None


def _read_builtin(name: str) -> str:
    return resources.files("smscope.simulator").joinpath(f"profiles/{name}.toml").read_text(
        encoding="utf-8")


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name (``realistic``, ``instant``) or a profile file.

    :class:`ConfigError` with one line naming the file and the place of the mistake.
    """
    given = str(name_or_path)
    if given in BUILTIN_PROFILES:
        source, text = f"profile {given}", _read_builtin(given)
    else:
        path = Path(given)
        if not path.is_file():
            raise ConfigError(
                f"profile {given!r} is neither a built-in profile "
                f"({', '.join(BUILTIN_PROFILES)}) nor a file"
            )
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    data.setdefault("name", given if given in BUILTIN_PROFILES else Path(given).stem)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc)}") from None
