"""Connectors (operator connections) as stored: added with the CLI, or read from the
configuration file's ``[connectors.<name>]`` sections on start.

A connector is a name, a type (``smpp``, ``http``, ``simulator``), its settings and its
receipt mapping overrides. What opens the connection lives next to this module, one
file per type.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smscope.config import Config
from smscope.db.tables import Connector
from smscope.errors import NotFoundError, UsageError
from smscope.receipts.mapping import StatusMapping

__all__ = ["add_connector", "connector_for_campaign", "connector_to_json", "get_connector",
           "list_connectors", "sync_config_connectors"]

TYPES = ("smpp", "http", "simulator")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: settings each type understands, with their defaults
DEFAULTS: dict[str, dict[str, Any]] = {
    "smpp": {"host": None, "port": 2775, "system_id": None, "password": None,
             "system_type": "", "bind": "transceiver", "rate": None, "window": 100,
             "receivers": 1, "split": "udh8", "id_format": "auto"},
    "simulator": {"profile": "realistic", "seed": 0, "rate": None, "window": 100,
                  "receivers": 1, "split": "udh8", "id_format": "auto"},
    "http": {"provider": None, "api_url": None, "account_sid": None, "auth_token": None,
             "api_key": None, "api_secret": None, "signature_secret": None,
             "signature_method": None, "application_id": None, "private_key": None,
             "secret": None, "rate": None, "window": 10, "timeout": 10.0,
             "id_format": "string"},
}
#: settings never shown (``connector list``, the API)
SECRETS = frozenset({"password", "auth_token", "api_secret", "signature_secret", "secret",
                     "private_key"})


def _check(name: str, type_: str, settings: dict[str, Any], mapping: dict[str, Any]) -> None:
    if not _NAME.match(name):
        raise UsageError(f"connector name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(at most 64)")
    if type_ not in TYPES:
        raise UsageError(f"connector {name}: type {type_!r} is not one of {', '.join(TYPES)}")
    unknown = set(settings) - set(DEFAULTS[type_])
    if unknown:
        raise UsageError(f"connector {name}: unknown setting {sorted(unknown)[0]!r} for "
                         f"type {type_} (known: {', '.join(DEFAULTS[type_]) or 'none'})")
    if type_ == "http":
        from smscope.connectors.http import check_settings

        check_settings(name, settings)
    if type_ == "smpp":
        for key in ("host", "system_id", "password"):
            if not settings.get(key):
                raise UsageError(f"connector {name}: an smpp connector needs {key}")
    for key in ("rate", "window"):
        value = settings.get(key)
        if value is not None and (not isinstance(value, int | float) or value <= 0):
            raise UsageError(f"connector {name}: {key} must be a positive number")
    receivers = settings.get("receivers")
    if receivers is not None and (isinstance(receivers, bool) or not isinstance(receivers, int)
                                  or not 1 <= receivers <= 16):
        raise UsageError(f"connector {name}: receivers must be a whole number from 1 to 16")
    try:
        StatusMapping.from_overrides(mapping)
    except ValueError as exc:
        raise UsageError(f"connector {name}: {exc}") from None


def add_connector(session: Session, name: str, type_: str, settings: dict[str, Any],
                  mapping: dict[str, Any] | None = None, *, source: str = "db",
                  replace: bool = False) -> Connector:
    """Store a connector; UsageError if the name is taken (unless ``replace``)."""
    settings = {k: v for k, v in settings.items() if v is not None}
    mapping = dict(mapping or {})
    _check(name, type_, settings, mapping)
    existing = session.scalar(select(Connector).where(Connector.name == name))
    if existing is not None:
        if not replace:
            raise UsageError(f"a connector named {name!r} exists; remove it first or pick "
                             "another name")
        existing.type, existing.settings, existing.mapping = type_, settings, mapping
        existing.source = source
        return existing
    connector = Connector(name=name, type=type_, settings=settings, mapping=mapping,
                          source=source)
    session.add(connector)
    session.flush()
    return connector


def sync_config_connectors(session: Session, config: Config) -> None:
    """Make the stored connectors of the configuration file match it."""
    for name, section in config.connectors.items():
        add_connector(session, name, section.type, section.settings, section.mapping,
                      source="config", replace=True)


def connector_for_campaign(session: Session, config: Config, name: str | None) -> str | None:
    """The connector a new campaign sends through: the one named, else the only one
    there is (the configuration file's included), else None (chosen before sending)."""
    sync_config_connectors(session, config)
    if name is None:
        known = list_connectors(session)
        if len(known) == 1:
            return known[0].name
    return name


def get_connector(session: Session, name_or_id: str | int) -> Connector:
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        found = session.get(Connector, int(name_or_id))
    else:
        found = session.scalar(select(Connector).where(Connector.name == name_or_id))
    if found is None:
        names = list(session.scalars(select(Connector.name).order_by(Connector.name)))
        known = f" (known: {', '.join(names)})" if names else ""
        raise NotFoundError(
            f"unknown connector {name_or_id!r}{known}; add one with "
            "'smscope connector add NAME --smpp HOST:PORT ...' or '--simulator'")
    return found


def list_connectors(session: Session) -> list[Connector]:
    return list(session.scalars(select(Connector).order_by(Connector.name)))


def connector_to_json(connector: Connector) -> dict[str, Any]:
    from smscope.connectors.options import mask_settings

    settings = mask_settings(dict(connector.settings or {}))
    return {"id": connector.id, "name": connector.name, "type": connector.type,
            "settings": settings, "mapping": connector.mapping or {},
            "source": connector.source, "enabled": connector.enabled}


def settings_of(connector: Connector) -> dict[str, Any]:
    """The connector's settings with the defaults of its type filled in."""
    return {**DEFAULTS.get(connector.type, {}), **(connector.settings or {})}


def set_enabled(session: Session, name_or_id: str | int, enabled: bool) -> Connector:
    """Enable or disable a stored connector (workers serve only enabled ones, from their
    next start). The configuration file's connectors are changed in the file."""
    connector = _editable(session, name_or_id)
    connector.enabled = enabled
    return connector


def update_limits(session: Session, name_or_id: str | int, *, rate: float | None,
                  window: int | None) -> Connector:
    """Change a stored connector's throughput (messages a second; None: no limit) and
    window (submit_sm awaiting an answer; None: the default), checked as on add."""
    connector = _editable(session, name_or_id)
    settings = {k: v for k, v in (connector.settings or {}).items()
                if k not in ("rate", "window")}
    settings.update({k: v for k, v in (("rate", rate), ("window", window)) if v is not None})
    _check(connector.name, connector.type, settings, connector.mapping or {})
    connector.settings = settings
    return connector


def _editable(session: Session, name_or_id: str | int) -> Connector:
    connector = get_connector(session, name_or_id)
    if connector.source == "config":
        raise UsageError(f"connector {connector.name} comes from the configuration file; "
                         "change it there")
    return connector
