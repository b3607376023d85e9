"""Held receipts: planned at submit time, sent only once released, then all of them
through the usual path (window, acknowledgement); by SIGUSR2 for the CLI process."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from smscope.receipts.pdu import receipt_from_pdu
from smscope.simulator import Profile, Simulator, load_profile
from smscope.smpp.client import SMPPClient
from tests.simulator.esme import RawESME
from tests.simulator.test_cli import port_of
from tests.support.aio import run, until


def profile(**extra: Any) -> Profile:
    data: dict[str, Any] = {"outcomes": [{"stat": "DELIVRD", "share": 1}],
                            "resend_after": 0.2}
    data.update(extra)
    return Profile.model_validate(data)


async def _silent(esme: RawESME, seconds: float) -> bool:
    """Nothing arrives on ``esme`` for ``seconds``."""
    try:
        await esme.read(timeout=seconds)
    except TimeoutError:
        return True
    return False


def test_held_receipts_and_replies_wait_for_release_then_all_come() -> None:
    replying = profile(overrides=[{"pattern": "*0003", "stat": "DELIVRD", "reply": "STOP"}])

    async def body() -> None:
        sim = Simulator(replying, hold_receipts=True, deliver_window=4)
        await sim.start()
        try:
            assert sim.holding_receipts
            esme = await RawESME.bind(sim.port)
            ids = [(await esme.submit(f"+3361234{i:04d}")).message_id for i in range(10)]
            assert await _silent(esme, 0.3)
            record = sim.record
            assert record.receipts.planned == 10 and record.receipts.sent == 0
            assert record.mo.planned == 1 and record.mo.sent == 0

            sim.release_receipts()
            assert not sim.holding_receipts
            # the window still applies: 4 outstanding, the next ones once answered
            got = await esme.deliveries(4)
            assert await _silent(esme, 0.2)
            for pdu in got:
                esme.ack(pdu)
            while len(got) < 11:
                batch = await esme.deliveries(min(4, 11 - len(got)))
                for pdu in batch:
                    esme.ack(pdu)
                got.extend(batch)
            receipts = [p for p in got if p.esm_class & 0x04]
            assert sorted(receipt_from_pdu(p).id for p in receipts) == sorted(ids)
            assert [p.short_message for p in got if not p.esm_class & 0x04] == [b"STOP"]
            await until(lambda: sim.record.receipts.acked == 10 and sim.record.mo.acked == 1)
            assert sim.record.receipts.resent == 0
            # released for good: a later submit's receipt comes at once
            later = (await esme.submit("+33612349999")).message_id
            (pdu,) = await esme.deliveries(1)
            assert receipt_from_pdu(pdu).id == later
            esme.ack(pdu)
            await esme.close()
        finally:
            await sim.close()

    run(body)


def test_release_reaches_a_client_that_binds_after_it_and_resends_unanswered() -> None:
    async def body() -> None:
        sim = Simulator(profile(), hold_receipts=True, deliver_timeout=0.3)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            ids = {(await esme.submit(f"+3361234{i:04d}")).message_id for i in range(3)}
            await esme.close()
            sim.release_receipts()
            esme = await RawESME.bind(sim.port)
            first = await esme.deliveries(3)
            assert {receipt_from_pdu(p).id for p in first} == ids
            # unanswered: the usual resend after deliver_timeout + resend_after
            again = await esme.deliveries(3, timeout=3)
            assert {receipt_from_pdu(p).id for p in again} == ids
            for pdu in again:
                esme.ack(pdu)
            await until(lambda: sim.record.receipts.acked == 3)
            await esme.close()
        finally:
            await sim.close()

    run(body)


def test_early_receipts_are_held_too() -> None:
    """A receipt the profile sends before its submit_sm_resp is held like the others."""

    async def body() -> None:
        sim = Simulator(profile(faults={"early_receipts": 1.0}), hold_receipts=True)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            message_id = (await esme.submit("+33612340001")).message_id
            assert await _silent(esme, 0.2)
            sim.release_receipts()
            (pdu,) = await esme.deliveries(1)
            assert receipt_from_pdu(pdu).id == message_id
            esme.ack(pdu)
            await until(lambda: sim.record.receipts.acked == 1)
            assert sim.record.early == 0
            await esme.close()
        finally:
            await sim.close()

    run(body)


def test_without_hold_release_does_nothing() -> None:
    async def body() -> None:
        sim = Simulator(profile())
        await sim.start()
        try:
            assert not sim.holding_receipts
            sim.release_receipts()
            esme = await RawESME.bind(sim.port)
            await esme.submit("+33612340001")
            (pdu,) = await esme.deliveries(1)
            esme.ack(pdu)
            await esme.close()
        finally:
            await sim.close()

    run(body)


def test_cli_holds_receipts_until_sigusr2(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "smscope", "simulator", "--port", "0", "--profile",
         "instant", "--hold-receipts"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        port = port_of(process)

        async def body() -> None:
            delivered: list[object] = []

            async def on_receipts(batch: list[object]) -> None:
                delivered.extend(batch)

            async with SMPPClient("127.0.0.1", port, "smscope", "secret",
                                  on_receipts=on_receipts) as client:
                for i in range(20):
                    assert (await client.submit("hello", "SHOP", f"+3361234{i:04d}")).ok
                await asyncio.sleep(0.3)
                assert delivered == []
                process.send_signal(signal.SIGUSR2)
                await until(lambda: len(delivered) == 20)

        run(body)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "20 submitted to 20 numbers, 20 receipts sent, 20 acknowledged, 0 pending" in stdout


def test_instant_profile_holds_too() -> None:
    """The benchmark's case: the instant profile's receipts (due at once) are held."""

    async def body() -> None:
        sim = Simulator(load_profile("instant"), hold_receipts=True)
        await sim.start()
        try:
            esme = await RawESME.bind(sim.port)
            for i in range(5):
                await esme.submit(f"+3361234{i:04d}")
            assert await _silent(esme, 0.2)
            sim.release_receipts()
            for pdu in await esme.deliveries(5):
                esme.ack(pdu)
            await until(lambda: sim.record.receipts.acked == 5)
            await esme.close()
        finally:
            await sim.close()

    run(body)
