"""Configuration: one place, defaults that work out of the box.

Read from ``smscope.toml`` in the working directory, or the file named by
``SMSCOPE_CONFIG``. Environment variables override the file: top-level keys as
``SMSCOPE_<KEY>`` (``SMSCOPE_DATABASE_URL``), section keys as ``SMSCOPE_<SECTION>_<KEY>``
(``SMSCOPE_SMTP_HOST``). Section names never contain ``_``, so the first ``_`` after
the section name splits it from the key.

The schema is declared with pydantic so that a wrong value is reported with its place
(``[smtp] port``) and what was expected, instead of failing later in a worker.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from smscope.db.types import parse_credits
from smscope.errors import ConfigError
from smscope.inputs import has_nul, nul_message

CONFIG_FILE_NAME = "smscope.toml"
ENV_PREFIX = "SMSCOPE_"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Read ``"90s"``, ``"30m"``, ``"2h"``, ``"3d"``, ``"1w"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it like '90s', '30m', '2h' or '3d'")
    amount, unit = match.groups()
    return timedelta(seconds=float(amount) * _UNIT_SECONDS[(unit or "s").lower()])


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SMTPConfig(_Section):
    host: str | None = None
    port: int = Field(default=0, ge=0, le=65535)
    user: str | None = None
    password: str | None = None
    tls: Literal["none", "starttls", "tls"] = "none"
    from_: str = Field(default="smscope@localhost", alias="from")

    @property
    def effective_port(self) -> int:
        """The port to connect to: given, or the usual one for the TLS mode."""
        return self.port or {"none": 25, "starttls": 587, "tls": 465}[self.tls]


#: a duration written like "90s", "30m", "2h", "3d" or a number of seconds
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class RetryConfig(_Section):
    backoff: list[timedelta] = Field(
        default_factory=lambda: [timedelta(hours=2), timedelta(hours=12), timedelta(hours=36)]
    )

    @field_validator("backoff", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> list[timedelta]:
        if isinstance(value, str):
            value = _split_list(value)
        return [parse_duration(v) for v in value]


class ValidityConfig(_Section):
    default: Duration = timedelta(hours=72)


class DuplicatesConfig(_Section):
    """The anti-duplicate filter: same text, same number, within ``window``."""

    window: Duration = timedelta(hours=24)


class SuspensionConfig(_Section):
    soft_bounce: float = Field(default=0.10, ge=0, le=1)
    hard_bounce: float = Field(default=0.05, ge=0, le=1)
    unsubscribe: float = Field(default=0.02, ge=0, le=1)
    min_sample: int = Field(default=200, ge=1)


class WebhooksConfig(_Section):
    """Outbound status webhooks: how long a POST may take, when a failed one is tried
    again (``backoff[n-1]`` after the n-th failure, the last delay repeating), when to
    give up, and how many POSTs one endpoint gets at once."""

    timeout: Duration = timedelta(seconds=10)
    backoff: list[timedelta] = Field(default_factory=lambda: [
        timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5),
        timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6)])
    max_attempts: int = Field(default=10, ge=1, le=100)
    concurrency: int = Field(default=8, ge=1, le=64)

    @field_validator("backoff", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> list[timedelta]:
        if isinstance(value, str):
            value = _split_list(value)
        delays = [parse_duration(v) for v in value]
        if not delays:
            raise ValueError("give at least one delay, like [\"10s\", \"1m\", \"5m\"]")
        return delays

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=0.1) <= value <= timedelta(minutes=5):
            raise ValueError("the timeout must be between 0.1s and 5m")
        return value


DEFAULT_STOP_KEYWORDS = (
    "STOP", "STOPP", "STOPALL", "ARRET", "ARRETER", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
    "BAJA", "ALTO", "PARAR", "CANCELAR", "DESINSCRIPTION", "DESABONNER", "ABMELDEN",
    "STOPSMS", "FIN",
)


class StopConfig(_Section):
    keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_STOP_KEYWORDS))

    @field_validator("keywords", mode="before")
    @classmethod
    def _keywords(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = _split_list(value)
        words = [str(v).strip() for v in value if str(v).strip()]
        if not words:
            raise ValueError("give at least one STOP keyword")
        return words


class WindowConfig(_Section):
    """When marketing SMS may be sent to one country (local time of that country)."""

    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    holidays: bool = False

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = _split_list(value)
        days = [str(d).strip().lower()[:3] for d in value]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown day {bad[0]!r}; use {', '.join(WEEKDAYS)}")
        return days


#: France is built in (CONTRACTS §8): Monday–Saturday 08:00–20:00, no public holidays.
BUILTIN_WINDOWS = {
    "FR": WindowConfig(days=list(WEEKDAYS[:6]), start=time(8), end=time(20), holidays=True)
}


class ConnectorConfig(BaseModel):
    """One operator connection; its settings depend on ``type`` and are checked there."""

    model_config = ConfigDict(extra="allow")

    type: Literal["smpp", "http", "simulator"]
    mapping: dict[str, str] = Field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Config(BaseModel):
    """Everything smscope can be told, with its defaults."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = "sqlite:///smscope.db"
    timezone: str = "UTC"
    public_url: str = "http://127.0.0.1:8000"
    default_region: str | None = None
    smtp: SMTPConfig = Field(default_factory=SMTPConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    validity: ValidityConfig = Field(default_factory=ValidityConfig)
    duplicates: DuplicatesConfig = Field(default_factory=DuplicatesConfig)
    suspension: SuspensionConfig = Field(default_factory=SuspensionConfig)
    stop: StopConfig = Field(default_factory=StopConfig)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    windows: dict[str, WindowConfig] = Field(default_factory=dict)
    prices: dict[str, Decimal] = Field(default_factory=dict)
    connectors: dict[str, ConnectorConfig] = Field(default_factory=dict)
    #: where the values came from, for error messages and ``smscope config``
    source: str = Field(default="defaults", exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like 'Europe/Paris' or 'UTC'"
            ) from None
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        import phonenumbers

        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}; use an ISO country code like 'FR'")
        return code

    @field_validator("windows", mode="before")
    @classmethod
    def _window_keys(cls, value: Any) -> Any:
        return {str(k).upper(): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("prices", mode="before")
    @classmethod
    def _price_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        prices = {}
        for key, price in value.items():
            k = "default" if str(key).lower() == "default" else str(key).upper()
            try:
                prices[k] = parse_credits(price)
            except ValueError as exc:
                raise ValueError(f"[prices] {k}: {exc}") from None
            if prices[k] < 0:
                raise ValueError(f"[prices] {k}: a price cannot be negative")
        return prices

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window_for(self, region: str) -> WindowConfig | None:
        """The sending window of a country, or None when it is always open."""
        return self.windows.get(region.upper()) or BUILTIN_WINDOWS.get(region.upper())


def _split_list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            return [str(v) for v in json.loads(value)]
        except json.JSONDecodeError:
            pass
    return [v.strip() for v in value.split(",") if v.strip()]


def _env_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    top_level = {"database_url", "timezone", "public_url", "default_region"}
    sections = {"smtp", "retry", "validity", "duplicates", "suspension", "stop", "prices",
                "webhooks"}
    data: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key in top_level:
            data[key] = value
            continue
        section, _, sub = key.partition("_")
        if section in sections and sub:
            data.setdefault(section, {})[sub] = value
    return data


def _nul_place(value: Any, loc: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where a NUL character is in the configuration (a TOML file may write one as
    ``\\u0000``): no setting has one, and PostgreSQL could store none of them."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_place(key, (*loc, str(key))) or _nul_place(item, (*loc, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _nul_place(item, loc)
            if found is not None:
                return found
    elif has_nul(value):
        return loc or ("configuration",)
    return None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_path(environ: dict[str, str] | None = None) -> Path | None:
    """The config file in use: ``SMSCOPE_CONFIG``, else ``./smscope.toml`` if present."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_PREFIX + "CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(
                f"SMSCOPE_CONFIG names {named}, which is not a file; "
                "fix the path or unset the variable"
            )
        return path
    local = Path.cwd() / CONFIG_FILE_NAME
    return local if local.is_file() else None


@dataclass
class Layers:
    """The configuration before it is checked, layer by layer: the file's values and
    the environment's kept apart, so that the settings edited in smscope (the
    ``settings`` table, :mod:`smscope.settings`) go between them — file, then smscope,
    then the environment, which always wins (CONTRACTS §3) — and every value's origin
    can be shown."""

    file: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    #: the file's path, or "defaults"
    path: str = "defaults"

    @classmethod
    def of(cls, config: Config) -> Layers:
        """The layers of a configuration made in code: all of it as the file's."""
        data = config.model_dump(by_alias=True, exclude_unset=True, exclude={"source"})
        return cls(file=data, path=config.source)

    def build(self, edited: dict[str, Any] | None = None) -> Config:
        """The checked configuration: ``edited`` (settings edited in smscope) over the
        file, the environment over both."""
        source = self.path + (" + environment" if self.env else "")
        if edited:
            source = f"{self.path} + settings edited in smscope" + (
                " + environment" if self.env else "")
        merged = _merge(_merge(self.file, edited or {}), self.env)
        held = _nul_place(merged)
        if held is not None:
            names = [repr(name) if has_nul(name) else name for name in held]
            place = f"[{'.'.join(names[:-1])}] {names[-1]}" if len(names) > 1 else names[0]
            raise ConfigError(nul_message(f"{source}: {place}"), loc=held)
        try:
            config = Config.model_validate(merged)
        except ValidationError as exc:
            loc = tuple(str(part) for part in exc.errors()[0]["loc"])
            raise ConfigError(f"{source}: {describe_validation_error(exc)}", loc=loc) from None
        config.source = source
        return config


def read_layers(path: Path | None = None, environ: dict[str, str] | None = None) -> Layers:
    """Read the configuration file (if any) and the environment, unchecked."""
    env = os.environ if environ is None else environ
    if path is None:
        path = config_path(dict(env))
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return Layers(file=data, env=_env_overrides(env),
                  path=str(path) if path is not None else "defaults")


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the configuration file (if any) and the environment, and check them."""
    return read_layers(path, environ).build()


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's report into one line that names the place of the first error."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if len(loc) > 1:
        place = f"[{'.'.join(loc[:-1])}] {loc[-1]}"
    else:
        place = loc[0] if loc else "configuration"
    message = first["msg"].removeprefix("Value error, ")
    if message.startswith("["):  # the validator named the place itself
        place, _, message = message.partition(": ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting (check its spelling and section)"
    more = len(exc.errors()) - 1
    return f"{place}: {message}" + (f" (and {more} more)" if more else "")
