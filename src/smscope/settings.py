"""Settings edited in smscope (the web app's settings page), layered between the
configuration file and the environment.

The file (``smscope.toml``) stays the baseline and the environment still wins over
everything (CONTRACTS §3); what an admin changes in the UI is stored in the
``settings`` table, one row per section (``config.smtp``, ``config.windows``…), in the
file's own shape, and checked by the same loader as the file before it is stored:

    defaults < smscope.toml < settings edited in smscope < SMSCOPE_* variables

:class:`smscope.app.Smscope` builds its ``config`` this way, so the campaign engine,
the reports' e-mail and the pages all read the effective values. Prices have their
own table (``smscope prices set``), which the price table already layers over the
file's ``[prices]``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smscope.config import Config, Layers
from smscope.db.sql import dialect_insert
from smscope.db.tables import Setting
from smscope.db.types import utcnow
from smscope.errors import ConfigError

__all__ = ["EDITABLE", "ORIGINS", "edited_settings", "origin", "save_section",
           "save_window", "window_origin"]

PREFIX = "config."
#: the sections an admin may edit, and their keys (the file's names)
EDITABLE: dict[str, tuple[str, ...]] = {
    "smtp": ("host", "port", "user", "password", "tls", "from"),
    "retry": ("backoff",),
    "validity": ("default",),
    "duplicates": ("window",),
    "suspension": ("soft_bounce", "hard_bounce", "unsubscribe", "min_sample"),
    "stop": ("keywords",),
}
WINDOWS = "windows"
#: where a value comes from, weakest first
ORIGINS = ("default", "file", "smscope", "environment")


def edited_settings(session: Session) -> dict[str, Any]:
    """The sections edited in smscope, in the file's shape: ``{"smtp": {"host": …}}``."""
    rows = session.execute(select(Setting.key, Setting.value)
                           .where(Setting.key.like(PREFIX + "%")))
    return {key.removeprefix(PREFIX): value for key, value in rows
            if isinstance(value, dict) and value}


def origin(layers: Layers, edited: dict[str, Any], section: str, key: str) -> str:
    """Where the effective value of ``[section] key`` comes from (one of ORIGINS)."""
    for name, data in (("environment", layers.env), ("smscope", edited),
                       ("file", layers.file)):
        values = data.get(section)
        if isinstance(values, dict) and key in values:
            return name
    return "default"


def window_origin(layers: Layers, edited: dict[str, Any], country: str) -> str:
    """Where a country's sending window comes from (``default``: built in)."""
    for name, data in (("smscope", edited), ("file", layers.file)):
        windows = data.get(WINDOWS)
        if isinstance(windows, dict) and country.upper() in {k.upper() for k in windows}:
            return name
    return "default"


def _store(session: Session, section: str, values: dict[str, Any], actor: str) -> None:
    key = PREFIX + section
    if not values:
        session.execute(delete(Setting).where(Setting.key == key))
        return
    insert = dialect_insert(session)
    stmt = insert(Setting).values(key=key, value=values, updated_at=utcnow(),
                                  updated_by=actor)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[Setting.key],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at,
              "updated_by": stmt.excluded.updated_by}))


def save_section(session: Session, layers: Layers, section: str,
                 values: dict[str, Any], *, actor: str) -> Config:
    """Set (or, with ``None``, unset) keys of one section, checked like the file's
    values; returns the new effective configuration. Raises
    :class:`~smscope.errors.ConfigError` with ``loc`` naming the wrong key."""
    if section not in EDITABLE:
        raise ConfigError(f"[{section}] cannot be edited here; set it in smscope.toml")
    unknown = set(values) - set(EDITABLE[section])
    if unknown:
        raise ConfigError(f"[{section}] has no setting {sorted(unknown)[0]!r}",
                          loc=(section, sorted(unknown)[0]))
    edited = edited_settings(session)
    merged = dict(edited.get(section, {}))
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    config = _check(layers, {**edited, section: merged})
    _store(session, section, merged, actor)
    return config


def save_window(session: Session, layers: Layers, country: str,
                values: dict[str, Any] | None, *, actor: str) -> Config:
    """Set a country's sending window (days, start, end, holidays), or remove the one
    set in smscope with ``None``; checked like the file's ``[windows.CC]``."""
    import phonenumbers

    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{country!r} is not a country; use an ISO code like FR or BE",
                          loc=(WINDOWS, "country"))
    edited = edited_settings(session)
    windows = {k.upper(): v for k, v in edited.get(WINDOWS, {}).items()}
    if values is None:
        if code not in windows:
            raise ConfigError(f"no sending window for {code} is set in smscope",
                              loc=(WINDOWS, "country"))
        windows.pop(code)
    else:
        windows[code] = values
    config = _check(layers, {**edited, WINDOWS: windows})
    _store(session, WINDOWS, windows, actor)
    return config


def _check(layers: Layers, edited: dict[str, Any]) -> Config:
    try:
        # checked without the environment too: a value it hides must still be right,
        # for the day the variable goes
        Layers(layers.file, {}, layers.path).build(edited)
        return layers.build(edited)
    except ConfigError as exc:
        # the loader names the file; the place is what the form needs
        message = str(exc).split(": ", 1)[-1]
        raise ConfigError(message, loc=exc.loc) from None
