"""A campaign sent end to end through an HTTP provider: a real HTTP server started here
plays Twilio (accepts sends, answers with sids, then posts signed status callbacks),
smscope's web app receives them on a real socket, and the real worker sends. Repeats,
callbacks out of order, one before its send is even answered, and forged ones
included: every message ends with the status its callbacks say."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from smscope.app import Smscope
from smscope.campaigns import service
from smscope.campaigns.fanout import parse_numbers
from smscope.campaigns.worker import Worker
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import BlacklistEntry, Message
from smscope.db.types import utcnow
from smscope.web.app import create_app
from smscope.web.server import BackgroundServer, bind
from tests.campaigns.helpers import Engine, make_config, number

TOKEN = "e2e-twilio-auth-token-0123456789ab"
SID = "AC0000000000000000000000000000e2e0"

#: what the fake provider does for each recipient
DELIVERED, OUT_OF_ORDER, UNKNOWN, OPTED_OUT, BEFORE_ANSWER = range(5)
PLAN = {number(1): DELIVERED, number(2): DELIVERED, number(3): DELIVERED,
        number(4): OUT_OF_ORDER, number(5): UNKNOWN, number(6): OPTED_OUT,
        number(7): BEFORE_ANSWER, number(8): DELIVERED}
EXPECTED = {DELIVERED: "received", OUT_OF_ORDER: "received", UNKNOWN: "permanent_error_absence",
            OPTED_OUT: "blacklisted", BEFORE_ANSWER: "received"}


@dataclass
class FakeTwilio:
    """Twilio's Messages resource and its status callbacks, signed with Twilio's SDK."""

    sent: list[dict[str, str]] = field(default_factory=list)
    #: (sid, status, was the signature forged, our answer's HTTP status)
    callbacks: list[tuple[str, str, bool, int]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def app(self) -> Starlette:
        return Starlette(routes=[Route(f"/2010-04-01/Accounts/{SID}/Messages.json",
                                       self.create, methods=["POST"])])

    async def post(self, client: httpx.AsyncClient, url: str, sid: str, to: str,
                   status: str, error: str = "", *, forged: bool = False) -> None:
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "From": "SHOP",
                "To": to, "MessageStatus": status, "SmsStatus": status,
                "ApiVersion": "2010-04-01"}
        if error:
            form["ErrorCode"] = error
        token = "forged-token-0123456789abcdefghij" if forged else TOKEN
        signature = RequestValidator(token).compute_signature(url, form)
        answer = await client.post(url, content=urlencode(form), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature})
        self.callbacks.append((sid, status, forged, answer.status_code))

    async def report(self, url: str, sid: str, to: str, plan: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            if plan == OUT_OF_ORDER:
                await self.post(client, url, sid, to, "delivered")
                await self.post(client, url, sid, to, "sent")
            elif plan == UNKNOWN:
                await self.post(client, url, sid, to, "sent")
                await self.post(client, url, sid, to, "undelivered", "30005")
            elif plan == OPTED_OUT:
                await self.post(client, url, sid, to, "failed", "21610")
            elif plan == DELIVERED:
                await self.post(client, url, sid, to, "sent")
                await self.post(client, url, sid, to, "delivered")
                await self.post(client, url, sid, to, "delivered")  # a repeat
                # a forged failure after the fact: refused, changes nothing
                await self.post(client, url, sid, to, "undelivered", "30005", forged=True)

    async def create(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization", "") != httpx.BasicAuth(SID, TOKEN)._auth_header:
            return JSONResponse({"code": 20003, "message": "Authenticate"}, 401)
        form = dict(await request.form())
        sid = f"SM{len(self.sent) + 1:032x}"
        to, url = str(form["To"]), str(form["StatusCallback"])
        self.sent.append({"sid": sid, "to": to})
        plan = PLAN[to]
        if plan == BEFORE_ANSWER:
            # the receipt overtakes the send's answer: smscope keeps it as an orphan
            async with httpx.AsyncClient(timeout=10) as client:
                await self.post(client, url, sid, to, "delivered")
        else:
            task = asyncio.get_running_loop().create_task(self.report(url, sid, to, plan))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return JSONResponse({"sid": sid, "status": "queued", "to": to}, 201)


def run_worker_until_final(app: Smscope, campaign_id: int, timeout: float = 60) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        worker = Worker(app, campaign_id=campaign_id, poll=0.05, housekeeping=0.2)
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                with app.db.session() as session:
                    statuses = list(session.scalars(select(Message.status).where(
                        Message.campaign_id == campaign_id)))
                if statuses and all(s in EXPECTED.values() for s in statuses):
                    await asyncio.sleep(0.5)  # the last callbacks (repeats, forgeries)
                    return
            raise AssertionError(f"not final after {timeout}s: {statuses}")
        finally:
            stop.set()
            await task

    asyncio.run(main())


def test_a_campaign_through_a_twilio_like_provider_ends_with_every_right_status(
        db: Database) -> None:
    provider = FakeTwilio()
    provider_server = BackgroundServer(provider.app(), bind("127.0.0.1", 0)).start()
    web_socket = bind("127.0.0.1", 0)
    host, port = web_socket.getsockname()[:2]
    config = make_config(public_url=f"http://{host}:{port}")
    engine = Engine(db, config=config).setup()
    with db.transaction() as session:
        add_connector(session, "tw", "http", {
            "provider": "twilio", "account_sid": SID, "auth_token": TOKEN,
            "api_url": provider_server.url, "rate": 200, "window": 4})
        campaign = service.create_campaign(
            session, name="http", sender="SHOP", text="Bonjour", config=config,
            now=utcnow(), lists=[], numbers=parse_numbers(list(PLAN), "FR"),
            type_="transactional", connector="tw")
        campaign_id = campaign.id
    smscope = Smscope(config, database_url=db.url)
    web = BackgroundServer(create_app(smscope), web_socket).start()
    try:
        with db.transaction() as session:
            service.send(session, campaign_id, config=config, prices=smscope.price_table(),
                         now=utcnow())
        run_worker_until_final(smscope, campaign_id)
    finally:
        web.stop()
        provider_server.stop()
        smscope.close()
    statuses = {m.number: m.status for m in engine.messages(campaign_id)}
    assert statuses == {to: EXPECTED[plan] for to, plan in PLAN.items()}
    assert len(provider.sent) == len(PLAN)  # each message sent once
    forged = [code for _, _, was_forged, code in provider.callbacks if was_forged]
    genuine = [code for _, _, was_forged, code in provider.callbacks if not was_forged]
    assert forged and set(forged) == {403}
    assert set(genuine) == {200}
    with db.session() as session:
        assert list(session.scalars(select(BlacklistEntry.number))) == [number(6)]
    report = engine.report(campaign_id)
    assert report["statuses"]["received"] == 6 and report["sent"] == len(PLAN)
