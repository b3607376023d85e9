"""Receipts from HTTP providers: one module per provider, each parsing and verifying
that provider's status callbacks (``generic``, ``twilio``, ``vonage`` for the Vonage
SMS API's delivery receipts, ``vonage_messages`` for the Vonage Messages API's status
webhooks).

Every module has the same small interface, :class:`Provider`: ``verify(request,
settings, now=…)`` raises :class:`~smscope.errors.SignatureError` unless the request is
authentic, and ``parse(request)`` turns it into :class:`Callback` records (or raises
:class:`~smscope.errors.CallbackError`). What happens next — storing, matching,
applying — is the same pipeline as SMPP receipts
(:meth:`smscope.receipts.ingest.Ingest.callbacks`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl

from smscope.errors import CallbackError
from smscope.statuses import Status

__all__ = ["PROVIDERS", "Callback", "HookRequest", "provider", "route_of"]

#: the HTTP providers a connector can use
PROVIDERS = ("generic", "twilio", "vonage", "vonage-messages")

#: the receiver path segment of each provider: /hooks/{connector}/{route}
_ROUTES = {"generic": "receipts", "twilio": "twilio", "vonage": "vonage",
           "vonage-messages": "vonage"}


@dataclass(frozen=True, slots=True)
class HookRequest:
    """A provider's callback as it arrived, with the public URL it was sent to."""

    method: str
    #: ``public_url`` + path + ``?query`` (what Twilio signs)
    url: str
    query: list[tuple[str, str]]
    #: lower-case names
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def form(self) -> list[tuple[str, str]]:
        """The body as ``application/x-www-form-urlencoded`` pairs."""
        try:
            return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True,
                             strict_parsing=False)
        except UnicodeDecodeError:
            raise CallbackError("the form body is not UTF-8") from None

    def json(self) -> Any:
        """The body as JSON; CallbackError when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CallbackError(f"the body is not valid JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class Callback:
    """One status report of one message from a provider, in smscope's terms."""

    #: the provider's id of the message (Twilio ``MessageSid``, Vonage ``messageId``…)
    provider_id: str
    #: the provider's status word, as written (``delivered``, ``undelivered``…)
    stat: str
    #: the provider's error code, as written, if any
    err: str | None
    #: the canonical status of the provider's table
    status: Status
    #: the recipient's number (E.164 when the provider gives one), and our sender
    number: str | None = None
    sender: str | None = None
    #: the provider says the recipient opted out: the number is blacklisted
    opt_out: bool = False
    #: this report as received (the stored raw receipt; its identity for repeats)
    raw: str = field(default="", compare=False)


def e164(number: str | None) -> str | None:
    """A provider's number as smscope stores numbers: ``+`` and digits (Vonage writes
    international numbers without the ``+``)."""
    if not number:
        return None
    value = number.strip()
    if value.isdigit():
        return "+" + value
    return value


def route_of(provider_name: str) -> str:
    """The last path segment of the receiver of ``provider_name``."""
    return _ROUTES[provider_name]


def provider(provider_name: str) -> ModuleType:
    """The module that reads ``provider_name``'s callbacks."""
    from smscope.receipts.http import generic, twilio, vonage, vonage_messages

    return {"generic": generic, "twilio": twilio, "vonage": vonage,
            "vonage-messages": vonage_messages}[provider_name]


def text(value: Any, limit: int = 128) -> str | None:
    """A JSON or form value as a stripped string (None when absent or empty)."""
    if value is None or isinstance(value, dict | list):
        return None
    out = str(value).strip()
    return out[:limit] or None
