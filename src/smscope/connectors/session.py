"""An open connector: the SMPP session a worker sends through and receives on, or the
HTTP client of a provider's REST API.

``smpp`` connectors bind to the operator's SMSC with :class:`~smscope.smpp.client.
SMPPClient`; ``simulator`` connectors first start the operator simulator in this
process (on a free loopback port) and bind to it, so a demo or a test needs nothing
else running. That simulator clicks tracked links of ``public_url`` (when its profile
has clicks), so a demo's report shows clicks. ``http`` connectors send with
:class:`~smscope.connectors.http.HttpSender` (same ``submit``); their receipts come to
the web app's receivers, not to this session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from smscope.connectors.http import HttpSender
from smscope.errors import UsageError
from smscope.receipts.mapping import StatusMapping
from smscope.simulator import Simulator, load_profile
from smscope.smpp.client import DeliverHandler, SMPPClient, SubmitResult

__all__ = ["ConnectorInfo", "ConnectorSession", "Sender"]


class Sender(Protocol):
    """What a worker submits through: an SMPP client or an HTTP provider's sender."""

    async def submit(self, text: str, sender: str, number: str, *,
                     validity_period: timedelta | None = ...,
                     mode: Any = ...) -> SubmitResult | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ConnectorInfo:
    """What a worker needs to know of a stored connector (read once, then detached)."""

    id: int
    name: str
    type: str
    settings: dict[str, Any]
    mapping: StatusMapping

    @property
    def window(self) -> int:
        return int(self.settings.get("window") or 100)

    @property
    def receivers(self) -> int:
        """Links bound to receive (receipts, replies): 1, or more for larger batches."""
        return int(self.settings.get("receivers") or 1)

    @property
    def id_format(self) -> str:
        return str(self.settings.get("id_format") or "auto")

    @property
    def split(self) -> str:
        return str(self.settings.get("split") or "udh8")


class ConnectorSession:
    """``await open()``, :attr:`client` to submit, ``await close()``."""

    def __init__(self, info: ConnectorInfo, *, on_receipts: DeliverHandler,
                 on_mo: DeliverHandler, public_url: str | None = None,
                 handovers: int = 1) -> None:
        self.info = info
        self.public_url = public_url
        self.on_receipts = on_receipts
        #: batches the handlers may hold at once (see SMPPClient)
        self.handovers = handovers
        self.on_mo = on_mo
        self.simulator: Simulator | None = None
        self._client: Sender | None = None

    @property
    def client(self) -> Sender:
        if self._client is None:
            raise UsageError(f"connector {self.info.name} is not open")
        return self._client

    async def open(self) -> None:
        info, settings = self.info, self.info.settings
        if info.type == "http":
            sender = HttpSender(info.name, settings,
                                public_url=self.public_url or "http://127.0.0.1:8000")
            await sender.open()
            self._client = sender
            return
        if info.type == "simulator":
            password = secrets.token_hex(4)
            self.simulator = Simulator(load_profile(str(settings.get("profile") or "realistic")),
                                       seed=int(settings.get("seed") or 0),
                                       system_id="smscope", password=password,
                                       public_url=self.public_url)
            await self.simulator.start()
            host, port, system_id = "127.0.0.1", self.simulator.port, "smscope"
        elif info.type == "smpp":
            host, port = str(settings["host"]), int(settings.get("port") or 2775)
            system_id, password = str(settings["system_id"]), str(settings["password"])
        else:
            raise UsageError(f"connector {info.name}: {info.type} connectors cannot send yet")
        rate = settings.get("rate")
        client = self._client = SMPPClient(
            host, port, system_id, password, str(settings.get("system_type") or ""),
            bind=settings.get("bind") or "transceiver", window=info.window,
            rate=float(rate) if rate else None, receivers=info.receivers,
            on_receipts=self.on_receipts, on_mo=self.on_mo, handovers=self.handovers)
        try:
            await client.connect()
        except BaseException:
            if self.simulator is not None:
                await self.simulator.close()
            raise

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self.simulator is not None:
            await self.simulator.close()
