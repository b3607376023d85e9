"""Simulated clicks: the simulator opens the first tracked link of a share of delivered
messages over HTTP, only tracked links of its public URL, and follows no redirect."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smscope.errors import ConfigError
from smscope.simulator import Profile, Simulator, load_profile
from smscope.simulator.clicks import USER_AGENT
from smscope.simulator.planner import Planner
from smscope.simulator.record import Record
from smscope.smpp import SubmitSM
from smscope.smpp.pdu import build_concat_udh
from smscope.tracking.clicks import is_bot
from smscope.web import server
from tests.simulator.esme import RawESME
from tests.support.aio import run, until

TOKEN = "0000000bvBdL"


def profile(**extra: Any) -> Profile:
    data: dict[str, Any] = {"outcomes": [{"stat": "DELIVRD", "share": 0.5},
                                         {"stat": "UNDELIV", "err": "001", "share": 0.5}],
                            "resend_after": 0.2}
    data.update(extra)
    return Profile.model_validate(data)


class Landing:
    """A web app that logs the paths asked of it; ``/c/…`` redirects to ``/landing``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

        async def tracked(request: Request) -> Response:
            self.seen.append((request.url.path, request.headers.get("user-agent", "")))
            return RedirectResponse("/landing", 302)

        async def other(request: Request) -> Response:
            self.seen.append((request.url.path, ""))
            return Response("hello")

        self.app = Starlette(routes=[Route("/c/{token}", tracked), Route("/{path:path}", other)])


def test_profiles_without_clicks_draw_the_same_fates_as_before() -> None:
    realistic = load_profile("realistic")
    assert realistic.clicks.rate > 0
    without = realistic.model_copy(update={"clicks": Profile.model_fields["clicks"].default})
    with_clicks, plain = Planner(realistic, seed=3), Planner(without, seed=3)
    for i in range(2000):
        a, _ = with_clicks.plan(f"+336{i:08d}")
        b, _ = plain.plan(f"+336{i:08d}")
        assert a.outcome == b.outcome
        assert (a.latency, a.intermediates, a.reply) == (b.latency, b.intermediates, b.reply)
        assert b.click_delay is None
        if a.click_delay is not None:
            assert a.outcome.stat == "DELIVRD"


def test_the_click_rate_is_the_share_of_delivered_messages() -> None:
    planner = Planner(profile(clicks={"rate": 0.3}), seed=1)
    plans = [planner.plan(f"+336{i:08d}")[0] for i in range(4000)]
    delivered = [p for p in plans if p.outcome.stat == "DELIVRD"]
    clicked = [p for p in plans if p.click_delay is not None]
    assert set(clicked) <= set(delivered)
    assert 0.25 < len(clicked) / len(delivered) < 0.35


def test_a_bad_clicks_section_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[outcomes]]\nstat = "DELIVRD"\nshare = 1\n[clicks]\nrate = 2\n')
    with pytest.raises(ConfigError, match=r"\[clicks\] rate"):
        load_profile(path)


def _submit(text: str, to: str = "+33612345678", **kwargs: Any) -> SubmitSM:
    return SubmitSM(destination_addr=to, registered_delivery=1,
                    short_message=text.encode("ascii"), **kwargs)


def test_only_tracked_links_of_the_public_url_are_opened_and_never_followed() -> None:
    landing = Landing()
    sock = server.bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clicking = profile(outcomes=[{"stat": "DELIVRD", "share": 1}],
                       clicks={"rate": 1.0, "delay": {"distribution": "fixed", "value": 0}})

    async def body() -> None:
        sim = Simulator(clicking, public_url=base)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            texts = [f"Go {base}/c/{TOKEN}, then {base}/c/1111111bvBdL",  # first only
                     f"Go {base}/elsewhere and http://evil.example/c/{TOKEN}",
                     f"Go http://localhost:1/c/{TOKEN}",
                     "No link at all"]
            for i, text in enumerate(texts):
                resp = await esme.request(_submit(text, to=f"+3361234567{i}"))
                assert resp.command_status == 0
            await until(lambda: sim.record.clicks.fetched == 1, timeout=10)
            await asyncio.sleep(0.3)
            await esme.close()
        finally:
            await sim.close()
        assert sim.record.clicks.as_dict() == {"planned": 1, "fetched": 1, "failed": 0}
        assert sim.record.as_dict()["clicks"]["planned"] == 1

    with server.BackgroundServer(landing.app, sock):
        run(body, timeout=30)
    assert landing.seen == [(f"/c/{TOKEN}", USER_AGENT)]
    assert not is_bot(USER_AGENT)


def test_a_link_cut_across_the_parts_of_a_long_message_is_clicked() -> None:
    landing = Landing()
    sock = server.bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clicking = profile(outcomes=[{"stat": "DELIVRD", "share": 1}],
                       clicks={"rate": 1.0, "delay": {"distribution": "fixed", "value": 0}})
    text = "x" * 140 + f" {base}/c/{TOKEN} bye"
    parts = [text[:150], text[150:]]

    async def body() -> None:
        sim = Simulator(clicking, public_url=base)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            for seq in (2, 1):  # out of order on purpose
                udh = build_concat_udh(7, 2, seq)
                resp = await esme.request(SubmitSM(
                    destination_addr="+33612345678", esm_class=0x40, registered_delivery=1,
                    short_message=udh + parts[seq - 1].encode("ascii")))
                assert resp.command_status == 0
            await until(lambda: sim.record.clicks.fetched == 1, timeout=10)
            await esme.close()
        finally:
            await sim.close()

    with server.BackgroundServer(landing.app, sock):
        run(body, timeout=30)
    assert landing.seen == [(f"/c/{TOKEN}", USER_AGENT)]


def test_without_a_public_url_the_simulator_clicks_nothing() -> None:
    clicking = profile(outcomes=[{"stat": "DELIVRD", "share": 1}], clicks={"rate": 1.0})

    async def body() -> None:
        sim = Simulator(clicking)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            resp = await esme.request(_submit(f"Go http://127.0.0.1:8000/c/{TOKEN}"))
            assert resp.command_status == 0
            await esme.close()
        finally:
            await sim.close()
        assert sim.record.clicks.planned == 0

    run(body)


def test_a_click_on_a_server_that_is_down_is_counted_failed() -> None:
    sock = server.bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # nobody listens there any more
    record = Record()

    async def body() -> None:
        from smscope.simulator.clicks import Clicker

        clicker = Clicker(base, record)
        assert clicker.click(f"see {base}/c/{TOKEN}", 0)
        await until(lambda: record.clicks.failed == 1, timeout=10)
        await clicker.close()

    run(body)
    assert record.clicks.as_dict() == {"planned": 1, "fetched": 0, "failed": 1}
