"""Sending through an HTTP provider's REST API: generic, Twilio, Vonage SMS API,
Vonage Messages API.

:class:`HttpSender` has the SMPP client's ``submit`` (a :class:`~smscope.smpp.client.
SubmitResult` per text), so the worker's claim → submit → record is one path for every
connector. Each provider is a request builder and an answer reader; their errors become
the SMPP command statuses :func:`smscope.campaigns.dispatch.submit_error_status` knows,
so that one table decides: throttling and the provider's own failures (429, 5xx) are
temporary (``ESME_RTHROTTLED`` / ``ESME_RSYSERR``: retried later, as an SMSC's are), a
refused number is a routing error (``ESME_RINVDSTADR``), a number whose owner opted out
is ``blacklisted`` and blacklisted (:data:`~smscope.campaigns.dispatch.OPTED_OUT`),
anything else the provider refuses is ``rejected``.

A request that never left (connection refused, DNS) gives ``None``: the message is
released and claimed again. A request that left without an answer (a timeout while
reading, a dropped connection) is *in doubt*: never sent again on its own, as with SMPP.

The receipts come back through the web app (:mod:`smscope.web.hooks`), at
``public_url`` + ``/hooks/{connector}/{route}``: Twilio and Vonage SMS are told that
address with every message; generic and Messages API providers are configured with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from smscope import signing
from smscope.campaigns.dispatch import OPTED_OUT
from smscope.errors import UsageError
from smscope.receipts.http import PROVIDERS, route_of
from smscope.receipts.http.vonage import METHODS
from smscope.smpp.client import PartResult, SubmitResult
from smscope.smpp.constants import CommandStatus
from smscope.text import is_gsm7

__all__ = ["DEFAULT_API_URLS", "HttpSender", "check_settings", "hook_url"]

log = logging.getLogger(__name__)

#: each provider's REST API, unless ``--api-url`` says otherwise
DEFAULT_API_URLS = {"twilio": "https://api.twilio.com", "vonage": "https://rest.nexmo.com",
                    "vonage-messages": "https://api.nexmo.com"}

#: (required settings, optional settings) of each provider
_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "generic": (("api_url", "secret"), ()),
    "twilio": (("account_sid", "auth_token"), ("api_url",)),
    "vonage": (("api_key", "api_secret"), ("api_url", "signature_secret", "signature_method")),
    "vonage-messages": (("application_id", "private_key", "signature_secret"), ("api_url",)),
}
_COMMON = frozenset({"provider", "rate", "window", "timeout", "id_format"})

_THROTTLED = int(CommandStatus.ESME_RTHROTTLED)
_FAILED_THERE = int(CommandStatus.ESME_RSYSERR)
_BAD_NUMBER = int(CommandStatus.ESME_RINVDSTADR)
_REFUSED = int(CommandStatus.ESME_RSUBMITFAIL)
#: throttled answers retried at once (after Retry-After, at most this long) before
#: the message is given back as a temporary error
_THROTTLE_RETRIES = 3
_MAX_WAIT = 5.0


def _option(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def check_settings(name: str, settings: Mapping[str, Any]) -> None:
    """UsageError, in one line, unless ``settings`` can work for their provider."""
    provider = settings.get("provider")
    if provider not in PROVIDERS:
        raise UsageError(f"connector {name}: --provider must be one of {', '.join(PROVIDERS)}")
    required, optional = _SETTINGS[provider]
    for key in required:
        if not settings.get(key):
            raise UsageError(f"connector {name}: a {provider} connector needs {_option(key)}")
    for key in settings:
        if key not in _COMMON and key not in required and key not in optional:
            raise UsageError(f"connector {name}: {_option(key)} is not an option of "
                             f"{provider} connectors")
    method = settings.get("signature_method")
    if method is not None:
        if method not in METHODS:
            raise UsageError(f"connector {name}: --signature-method must be one of "
                             f"{', '.join(METHODS)}")
        if not settings.get("signature_secret"):
            raise UsageError(f"connector {name}: --signature-method needs --signature-secret")
    url = settings.get("api_url")
    if url is not None:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"connector {name}: --api-url {url!r} is not an http(s) URL")
    if provider == "vonage-messages":
        try:
            jwt.encode({"iat": 0}, str(settings["private_key"]), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise UsageError(f"connector {name}: --private-key is not a PEM private key "
                             f"(the application's private.key): {exc}") from None


def hook_url(public_url: str, connector_name: str, provider: str) -> str:
    """Where ``provider`` posts the receipts of ``connector_name``."""
    return f"{public_url.rstrip('/')}/hooks/{connector_name}/{route_of(provider)}"


class _Refused(Exception):
    """The provider answered and refused the message."""

    def __init__(self, status: int, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.retry_after = status, error, retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return min(float(value), _MAX_WAIT) if value.isdigit() else None


def _http_error(response: httpx.Response, detail: str) -> _Refused:
    """The SMPP-equivalent status of an HTTP error answer."""
    code = response.status_code
    if code == 429:
        return _Refused(_THROTTLED, f"throttled (HTTP 429): {detail}", _retry_after(response))
    if code >= 500:
        return _Refused(_FAILED_THERE, f"provider error (HTTP {code}): {detail}")
    return _Refused(_REFUSED, f"refused (HTTP {code}): {detail}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class HttpSender:
    """Sends texts through one HTTP connector: ``await open()``, ``await submit(...)``,
    ``await close()``. At most ``window`` requests at once, at most ``rate`` a second."""

    def __init__(self, name: str, settings: Mapping[str, Any], *, public_url: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = name
        self.settings = dict(settings)
        self.provider = str(settings["provider"])
        self.api_url = str(settings.get("api_url")
                           or DEFAULT_API_URLS.get(self.provider, "")).rstrip("/")
        self.callback_url = hook_url(public_url, name, self.provider)
        self.timeout = float(settings.get("timeout") or 10.0)
        self._window = asyncio.Semaphore(int(settings.get("window") or 10))
        rate = settings.get("rate")
        self._interval = 1.0 / float(rate) if rate else 0.0
        self._next_slot = 0.0
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport,
                                         headers={"User-Agent": "smscope"})

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def submit(self, text: str, sender: str, number: str, *,
                     validity_period: timedelta | None = None,
                     mode: str | None = None) -> SubmitResult | None:
        """Send one text; its result (None: it never left, send it again later)."""
        if self._client is None:
            raise UsageError(f"connector {self.name} is not open")
        async with self._window:
            for attempt in range(_THROTTLE_RETRIES + 1):
                await self._pace()
                try:
                    return await self._send(text, sender, number, validity_period)
                except _Refused as refused:
                    if refused.status == _THROTTLED and attempt < _THROTTLE_RETRIES:
                        await asyncio.sleep(refused.retry_after or 0.5 * 2 ** attempt)
                        continue
                    return SubmitResult((PartResult("failed", status=refused.status,
                                                    error=refused.error[:500]),))
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol,
                        httpx.PoolTimeout) as exc:
                    log.warning("connector %s: cannot reach %s: %s", self.name, self.api_url,
                                exc)
                    return None
                except httpx.HTTPError as exc:
                    # it may have arrived: never sent twice on our own
                    return SubmitResult((PartResult("in_doubt", error=f"no answer from the "
                                                    f"provider: {exc!r}"[:500]),))
        return None  # not reached

    async def _send(self, text: str, sender: str, number: str,
                    validity: timedelta | None) -> SubmitResult:
        send = {"generic": self._generic, "twilio": self._twilio, "vonage": self._vonage,
                "vonage-messages": self._vonage_messages}[self.provider]
        ids = await send(text, sender, number, validity)
        return SubmitResult(tuple(PartResult("ok", message_id=i[:128]) for i in ids))

    # -- generic ------------------------------------------------------------------------

    async def _generic(self, text: str, sender: str, number: str,
                       validity: timedelta | None) -> list[str]:
        payload: dict[str, Any] = {"to": number, "from": sender, "text": text,
                                   "status_url": self.callback_url}
        if validity is not None:
            payload["validity_seconds"] = int(validity.total_seconds())
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json",
                   **signing.headers(str(self.settings["secret"]), body)}
        assert self._client is not None
        response = await self._client.post(self.api_url, content=body, headers=headers)
        answer = _json(response)
        if not response.is_success:
            detail = answer.get("error") if isinstance(answer, dict) else None
            raise _http_error(response, str(detail or response.text[:200]))
        if not isinstance(answer, dict) or not str(answer.get("id") or "").strip():
            raise _Refused(_FAILED_THERE, "the provider's answer has no \"id\"")
        return [str(answer["id"]).strip()]

    # -- Twilio -------------------------------------------------------------------------

    async def _twilio(self, text: str, sender: str, number: str,
                      validity: timedelta | None) -> list[str]:
        sid = str(self.settings["account_sid"])
        form = {"To": number, "From": sender, "Body": text,
                "StatusCallback": self.callback_url}
        if validity is not None:
            # Twilio accepts 1 to 36,000 seconds
            form["ValidityPeriod"] = str(max(1, min(36_000, int(validity.total_seconds()))))
        assert self._client is not None
        response = await self._client.post(
            f"{self.api_url}/2010-04-01/Accounts/{sid}/Messages.json", data=form,
            auth=(sid, str(self.settings["auth_token"])))
        answer = _json(response)
        if not response.is_success:
            code = str(answer.get("code")) if isinstance(answer, dict) else ""
            detail = f"{code} {answer.get('message', '')}".strip() if isinstance(
                answer, dict) else response.text[:200]
            if code in ("21211", "21612", "21614", "21408"):
                raise _Refused(_BAD_NUMBER, f"Twilio error {detail}")
            if code == "21610":  # Attempt to send to unsubscribed recipient
                raise _Refused(OPTED_OUT, f"Twilio error {detail}")
            raise _http_error(response, f"Twilio error {detail}")
        if not isinstance(answer, dict) or not answer.get("sid"):
            raise _Refused(_FAILED_THERE, "Twilio's answer has no sid")
        return [str(answer["sid"])]

    # -- Vonage SMS API -----------------------------------------------------------------

    async def _vonage(self, text: str, sender: str, number: str,
                      validity: timedelta | None) -> list[str]:
        form = {"api_key": str(self.settings["api_key"]),
                "api_secret": str(self.settings["api_secret"]),
                "from": sender, "to": number.lstrip("+"), "text": text,
                "callback": self.callback_url, "status-report-req": "1"}
        if not is_gsm7(text):
            form["type"] = "unicode"
        if validity is not None:
            form["ttl"] = str(max(20_000, int(validity.total_seconds() * 1000)))
        assert self._client is not None
        response = await self._client.post(f"{self.api_url}/sms/json", data=form)
        answer = _json(response)
        if not response.is_success:
            raise _http_error(response, response.text[:200])
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not isinstance(messages, list) or not messages:
            raise _Refused(_FAILED_THERE, "Vonage's answer has no messages")
        ids = []
        for part in messages:
            status = str(part.get("status", "")) if isinstance(part, dict) else ""
            if status != "0":
                raise _vonage_refusal(status, str(part.get("error-text", ""))
                                      if isinstance(part, dict) else "")
            ids.append(str(part.get("message-id") or ""))
        if not all(ids):
            raise _Refused(_FAILED_THERE, "Vonage's answer has a message without message-id")
        # a long text is several messages, each with its id and its own DLR: the parts
        return ids

    # -- Vonage Messages API ------------------------------------------------------------

    async def _vonage_messages(self, text: str, sender: str, number: str,
                               validity: timedelta | None) -> list[str]:
        payload: dict[str, Any] = {"message_type": "text", "channel": "sms",
                                   "to": number.lstrip("+"), "from": sender, "text": text}
        if validity is not None:
            payload["ttl"] = max(300, int(validity.total_seconds()))
        now = int(time.time())
        token = jwt.encode({"application_id": str(self.settings["application_id"]),
                            "iat": now, "exp": now + 900, "jti": str(uuid.uuid4())},
                           str(self.settings["private_key"]), algorithm="RS256")
        assert self._client is not None
        response = await self._client.post(f"{self.api_url}/v1/messages", json=payload,
                                           headers={"Authorization": f"Bearer {token}"})
        answer = _json(response)
        if not response.is_success:
            detail = (f"{answer.get('title', '')} {answer.get('detail', '')}".strip()
                      if isinstance(answer, dict) else response.text[:200])
            kind = str(answer.get("type", "")) if isinstance(answer, dict) else ""
            if kind.endswith("#1040"):
                raise _Refused(_BAD_NUMBER, f"Vonage: {detail}")
            if kind.endswith("#1050"):  # Number barred: may not receive messages
                raise _Refused(OPTED_OUT, f"Vonage: {detail}")
            raise _http_error(response, f"Vonage: {detail}")
        if not isinstance(answer, dict) or not answer.get("message_uuid"):
            raise _Refused(_FAILED_THERE, "Vonage's answer has no message_uuid")
        return [str(answer["message_uuid"])]


#: Vonage SMS API ``status`` values of a refused message
#: (https://developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms)
_VONAGE_TEMPORARY = frozenset({"1", "5"})  # Throttled, Internal Error
_VONAGE_BAD_NUMBER = frozenset({"6", "29", "33"})  # Invalid Message (prefix), not
#                                                  # whitelisted, number de-activated


def _vonage_refusal(status: str, text: str) -> _Refused:
    detail = f"Vonage status {status}: {text}".strip()
    if status == "1":
        return _Refused(_THROTTLED, detail)
    if status == "7":  # Number Barred: blacklisted, may not receive messages
        return _Refused(OPTED_OUT, detail)
    if status in _VONAGE_TEMPORARY:
        return _Refused(_FAILED_THERE, detail)
    if status in _VONAGE_BAD_NUMBER:
        return _Refused(_BAD_NUMBER, detail)
    return _Refused(_REFUSED, detail)
