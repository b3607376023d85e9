"""The options of ``smscope connector add`` for SMPP and simulator connectors, checked
in one place for the command line and the connectors page: what a person types
(``HOST:PORT``, ``--split``, ``--map STAT:ERR=STATUS``) becomes a type and the settings
:func:`smscope.connectors.registry.add_connector` stores (and checks again)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from smscope.errors import UsageError

__all__ = ["ID_FORMATS", "SPLITS", "mask_settings", "parse_mapping", "smpp_or_simulator"]

SPLITS = ("udh8", "udh16", "sar", "payload")
ID_FORMATS = ("auto", "hex", "dec", "string")
#: settings never shown back (passwords, provider secrets and keys)
_SECRET = re.compile(r"password|secret|token|private_key|api_key", re.IGNORECASE)


def smpp_or_simulator(*, smpp: str | None, system_id: str | None, password: str | None,
                      simulator: bool, profile: str | None = None, seed: int | None = None,
                      rate: float | None = None, window: int | None = None,
                      receivers: int | None = None, split: str | None = None,
                      id_format: str | None = None) -> tuple[str, dict[str, Any]]:
    """The type and settings of an SMPP connector (``smpp`` = ``HOST:PORT``) or of a
    simulator connector; UsageError says which option is wrong and how to write it."""
    if bool(smpp) == simulator:
        raise UsageError("give either --smpp HOST:PORT (with --system-id and --password) "
                         "or --simulator")
    settings: dict[str, Any] = {"rate": rate, "window": window, "receivers": receivers,
                                "split": split, "id_format": id_format}
    if split is not None and split not in SPLITS:
        raise UsageError(f"--split {split!r}: use udh8, udh16, sar or payload")
    if id_format is not None and id_format not in ID_FORMATS:
        raise UsageError(f"--id-format {id_format!r}: use auto, hex, dec or string")
    if smpp:
        host, sep, port = smpp.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--smpp {smpp!r}: write HOST:PORT, e.g. smsc.example.com:2775")
        if not system_id or password is None:
            raise UsageError("an SMPP connector needs --system-id and --password")
        settings.update(host=host, port=int(port), system_id=system_id, password=password)
        return "smpp", settings
    settings.update(profile=profile, seed=seed)
    if profile is not None:
        from smscope.simulator import load_profile

        load_profile(profile)  # a bad profile is refused now, not in the worker
    return "simulator", settings


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``STAT[:ERR]=STATUS`` overrides of the receipt mapping."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--map {item!r}: write STAT[:ERR]=STATUS, e.g. "
                             "UNDELIV:001=permanent_error_absence")
        overrides[key.strip()] = value.strip()
    return overrides


def mask_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as they may be shown: every secret replaced by ``***`` (the registry's
    SECRETS, and any setting whose name says it is one)."""
    from smscope.connectors.registry import SECRETS

    return {k: ("***" if (k in SECRETS or _SECRET.search(k)) and v not in (None, "") else v)
            for k, v in settings.items()}
