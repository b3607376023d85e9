"""The simulator on a real socket: binds, submits, receipts kept until acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from smscope.receipts.pdu import is_receipt, receipt_from_pdu
from smscope.simulator import Profile, Simulator, load_profile
from smscope.smpp import (
    BindReceiver,
    BindTransmitter,
    CommandStatus,
    DeliverSM,
    SubmitSM,
    Tag,
    build_concat_udh,
)
from smscope.smpp.client import BindError, SMPPClient
from tests.simulator.esme import RawESME
from tests.support.aio import run, until

_S = CommandStatus


def profile(**extra: Any) -> Profile:
    data: dict[str, Any] = {"outcomes": [{"stat": "DELIVRD", "share": 1}],
                            "resend_after": 0.2}
    data.update(extra)
    return Profile.model_validate(data)


@asynccontextmanager
async def simulator(prof: Profile | None = None, **kwargs: Any) -> AsyncIterator[Simulator]:
    sim = Simulator(prof or profile(), **kwargs)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


def test_our_client_gets_a_receipt_per_part_matching_its_ids() -> None:
    async def body() -> None:
        async with simulator(load_profile("instant")) as sim:
            receipts: list[DeliverSM] = []

            async def on_receipts(batch: list[DeliverSM]) -> None:
                receipts.extend(batch)

            async with SMPPClient("127.0.0.1", sim.port, "smscope", "secret",
                                  on_receipts=on_receipts) as client:
                texts = ["Bonjour", "x" * 400, "Ελληνικά " * 20]
                results = await asyncio.gather(*(
                    client.submit(text, "SHOP", f"+3361234{i:04d}")
                    for i, text in enumerate(texts * 10)))
                ids = [mid for r in results for mid in r.message_ids]
                assert all(r.ok for r in results) and len(ids) == 10 * (1 + 3 + 3)
                await until(lambda: len(receipts) == len(ids))
            read = [receipt_from_pdu(p) for p in receipts]
            assert sorted(r.id for r in read) == sorted(ids)  # type: ignore[type-var]
            assert {r.stat for r in read} == {"DELIVRD"}
            record = sim.record.as_dict()
            assert record["submitted"] == len(ids)
            assert record["distinct_numbers"] == 30
            assert record["receipts"] == {"planned": 70, "sent": 70, "resent": 0, "acked": 70,
                                          "pending": 0}
            assert record["by_stat"] == {"DELIVRD": 70}

    run(body)


def test_bad_credentials_are_refused_with_rinvpaswd() -> None:
    async def body() -> None:
        async with simulator() as sim:
            for system_id, password in (("smscope", "wrong"), ("other", "secret")):
                client = SMPPClient("127.0.0.1", sim.port, system_id, password)
                try:
                    await client.connect()
                except BindError as exc:
                    assert exc.command_status == _S.ESME_RINVPASWD
                else:
                    raise AssertionError("bind accepted")

    run(body)


def test_unacknowledged_receipts_come_again_on_the_next_bind_acked_ones_never() -> None:
    async def body() -> None:
        async with simulator(profile(resend_after=60)) as sim:
            esme = await RawESME.bind(sim.port)
            ids = [(await esme.submit(f"+3361234{i:04d}")).message_id for i in range(3)]
            first = await esme.deliveries(3)
            esme.ack(first[0])
            await until(lambda: sim.record.receipts.acked == 1)
            await esme.close()
            esme = await RawESME.bind(sim.port)
            again = await esme.deliveries(2)
            assert sorted(p.short_message for p in again) == sorted(
                p.short_message for p in first[1:])
            assert {receipt_from_pdu(p).id for p in first} == set(ids)
            for pdu in again:
                esme.ack(pdu)
            await until(lambda: sim.record.receipts.acked == 3)
            await asyncio.sleep(0.3)
            assert esme.inbox == []
            await esme.close()
            esme = await RawESME.bind(sim.port)  # nothing left to send
            await asyncio.sleep(0.3)
            assert esme.inbox == [] and await _nothing(esme)
            record = sim.record.as_dict()["receipts"]
            assert record == {"planned": 3, "sent": 3, "resent": 2, "acked": 3, "pending": 0}
            await esme.close()

    run(body)


async def _nothing(esme: RawESME) -> bool:
    try:
        await esme.read(timeout=0.2)
    except TimeoutError:
        return True
    return False


def test_error_status_or_silence_gets_the_same_receipt_again() -> None:
    async def body() -> None:
        async with simulator(deliver_timeout=0.3) as sim:
            esme = await RawESME.bind(sim.port)
            await esme.submit("+33612340001")
            (first,) = await esme.deliveries(1)
            esme.ack(first, status=_S.ESME_RX_T_APPN)
            (second,) = await esme.deliveries(1, timeout=3)  # after resend_after
            assert second.short_message == first.short_message
            assert second.tlvs == first.tlvs
            # no answer at all: sent again after deliver_timeout + resend_after
            (third,) = await esme.deliveries(1, timeout=3)
            assert third.short_message == first.short_message
            esme.ack(third)
            await until(lambda: sim.record.receipts.acked == 1)
            assert sim.record.receipts.resent == 2
            await esme.close()

    run(body)


def test_receipts_wait_for_a_receiver_bind() -> None:
    async def body() -> None:
        async with simulator() as sim:
            tx = await RawESME.connect(sim.port)
            resp = await tx.request(BindTransmitter(system_id="smscope", password="secret"))
            assert resp.command_status == 0
            submitted = [(await tx.submit(f"+3361234{i:04d}")).message_id for i in range(5)]
            await asyncio.sleep(0.2)
            assert sim.record.receipts.sent == 0
            rx = await RawESME.connect(sim.port)
            resp = await rx.request(BindReceiver(system_id="smscope", password="secret"))
            assert resp.command_status == 0
            got = await rx.deliveries(5)
            assert sorted(receipt_from_pdu(p).id for p in got) == sorted(submitted)
            await tx.close()
            await rx.close()

    run(body)


def test_deliver_window_bounds_unanswered_receipts() -> None:
    async def body() -> None:
        async with simulator(deliver_window=4) as sim:
            esme = await RawESME.bind(sim.port)
            for i in range(10):
                await esme.submit(f"+3361234{i:04d}")
            first = await esme.deliveries(4)
            assert await _nothing(esme)
            esme.ack(first[0])
            esme.ack(first[1])
            await esme.deliveries(2)
            assert await _nothing(esme)
            await esme.close()

    run(body)


def test_overrides_refuse_submits_and_fail_numbers_with_network_errors() -> None:
    prof = profile(overrides=[
        {"pattern": "*0009", "submit_status": "ESME_RINVDSTADR"},
        {"pattern": "*0001", "stat": "UNDELIV", "err": "001"},
        {"pattern": "*0003", "stat": "DELIVRD", "reply": "STOP"},
    ])

    async def body() -> None:
        async with simulator(prof) as sim:
            esme = await RawESME.bind(sim.port)
            refused = await esme.submit("+33612340009")
            assert refused.command_status == _S.ESME_RINVDSTADR and refused.message_id == ""
            failed = await esme.submit("+33612340001")
            stopper = await esme.submit("+33612340003", text="Promo")
            got = await esme.deliveries(3)
            for pdu in got:
                esme.ack(pdu)
            receipts = {receipt_from_pdu(p).id: p for p in got if is_receipt(p)}
            bad = receipts[failed.message_id]
            assert receipt_from_pdu(bad).stat == "UNDELIV"
            assert receipt_from_pdu(bad).err == "001"
            assert receipt_from_pdu(bad).network_error == (3, 1)
            assert receipt_from_pdu(receipts[stopper.message_id]).stat == "DELIVRD"
            (mo,) = [p for p in got if not is_receipt(p)]
            assert (mo.source_addr, mo.destination_addr, mo.short_message) == (
                "+33612340003", "SHOP", b"STOP")
            # the reply comes after the final receipt of the message it answers
            assert got.index(mo) > got.index(receipts[stopper.message_id])
            await until(lambda: sim.record.mo.acked == 1)
            record = sim.record.as_dict()
            assert (record["submitted"], record["refused"]) == (2, 1)
            assert record["by_stat"] == {"DELIVRD": 1, "UNDELIV": 1}
            await esme.close()

    run(body)


def test_registered_delivery_zero_gets_nothing_two_gets_failures_only() -> None:
    prof = profile(outcomes=[{"stat": "DELIVRD", "share": 1}],
                   overrides=[{"pattern": "*0001", "stat": "UNDELIV", "err": "001"}])

    async def body() -> None:
        async with simulator(prof) as sim:
            esme = await RawESME.bind(sim.port)
            await esme.submit("+33612340005", registered_delivery=0)
            await esme.submit("+33612340006", registered_delivery=2)
            failed = await esme.submit("+33612340001", registered_delivery=2)
            (only,) = await esme.deliveries(1)
            assert receipt_from_pdu(only).id == failed.message_id
            esme.ack(only)
            assert await _nothing(esme)
            assert sim.record.receipts.planned == 1
            await esme.close()

    run(body)


def test_parts_of_a_long_message_share_one_outcome() -> None:
    prof = profile(outcomes=[{"stat": "DELIVRD", "share": 0.5},
                             {"stat": "UNDELIV", "err": "027", "share": 0.5}])

    async def body() -> None:
        async with simulator(prof, seed=9) as sim:
            esme = await RawESME.bind(sim.port)
            for ref in range(20):
                for seq in (1, 2, 3):
                    udh = build_concat_udh(ref, 3, seq)
                    resp = await esme.request(SubmitSM(
                        destination_addr=f"+3361234{ref:04d}", esm_class=0x40,
                        registered_delivery=1, short_message=udh + b"part"))
                    assert resp.command_status == 0
            got = await esme.deliveries(60)
            by_number: dict[str, set[str]] = {}
            for pdu in got:
                by_number.setdefault(pdu.source_addr, set()).add(receipt_from_pdu(pdu).stat)
            assert all(len(stats) == 1 for stats in by_number.values())
            assert {s for stats in by_number.values() for s in stats} == {"DELIVRD", "UNDELIV"}
            await esme.close()

    run(body)


def test_same_seed_same_outcomes_over_the_wire() -> None:
    async def outcomes(seed: int) -> dict[str, str]:
        # receipts held: all of them are still owed when the heap is read (the
        # realistic profile makes some due within a fraction of a second)
        async with simulator(load_profile("realistic"), seed=seed, hold_receipts=True) as sim:
            esme = await RawESME.bind(sim.port)
            numbers = {}
            for i in range(200):
                numbers[(await esme.submit(f"+336{i:08d}")).message_id] = f"+336{i:08d}"
            await esme.close()
            heap = sim._accounts["smscope"].heap
            return {numbers[item.rid]: item.stat for _, _, item in heap if item.final}

    async def body() -> None:
        first, again, other = await outcomes(4), await outcomes(4), await outcomes(5)
        assert first == again and first != other
        assert len(first) == 200

    run(body)


def test_max_rate_answers_throttled_and_counts_it() -> None:
    async def body() -> None:
        async with simulator(max_rate=5) as sim:
            esme = await RawESME.bind(sim.port)
            statuses = [(await esme.submit(f"+3361234{i:04d}")).command_status
                        for i in range(20)]
            assert statuses.count(_S.ESME_RTHROTTLED) >= 10
            assert statuses.count(0) >= 5
            assert sim.record.throttled == statuses.count(_S.ESME_RTHROTTLED)
            assert sim.record.submitted == statuses.count(0)
            await esme.close()

    run(body)


def test_malformed_submits_are_refused_and_the_session_stays_up() -> None:
    async def body() -> None:
        async with simulator() as sim:
            esme = await RawESME.bind(sim.port)
            no_destination = await esme.submit("")
            assert no_destination.command_status == _S.ESME_RINVDSTADR
            bad_udh = await esme.request(SubmitSM(destination_addr="+33612340007",
                                                  esm_class=0x40, short_message=b"\x09\x00"))
            assert bad_udh.command_status == _S.ESME_RINVMSGLEN
            sar = await esme.request(SubmitSM(
                destination_addr="+33612340008", registered_delivery=1, short_message=b"a",
                tlvs={Tag.SAR_MSG_REF_NUM: 1, Tag.SAR_TOTAL_SEGMENTS: 2,
                      Tag.SAR_SEGMENT_SEQNUM: 1}))
            assert sar.command_status == 0
            (receipt,) = await esme.deliveries(1)
            assert receipt_from_pdu(receipt).id == sar.message_id
            assert sim.record.submitted == 1
            await esme.close()

    run(body)


def test_duplicate_receipts_are_sent_twice_and_counted_once() -> None:
    async def body() -> None:
        async with simulator(profile(faults={"duplicate_receipts": 1.0})) as sim:
            esme = await RawESME.bind(sim.port)
            resp = await esme.submit("+33612340001")
            first, second = await esme.deliveries(2)
            assert first.short_message == second.short_message
            assert first.sequence_number != second.sequence_number
            assert receipt_from_pdu(first).id == resp.message_id
            esme.ack(first)
            esme.ack(second)
            await until(lambda: sim.record.receipts.acked == 1)
            await asyncio.sleep(0.3)
            assert await _nothing(esme)
            record = sim.record.as_dict()
            assert record["duplicated"] == 1
            assert record["receipts"] == {"planned": 1, "sent": 1, "resent": 0, "acked": 1,
                                          "pending": 0}
            await esme.close()

    run(body)


def test_early_receipts_come_before_the_submit_response() -> None:
    async def body() -> None:
        async with simulator(profile(faults={"early_receipts": 1.0})) as sim:
            esme = await RawESME.bind(sim.port)
            esme.send(SubmitSM(sequence_number=77, destination_addr="+33612340001",
                               registered_delivery=1, short_message=b"hi"))
            first = await esme.read()
            second = await esme.read()
            assert isinstance(first, DeliverSM) and is_receipt(first)
            assert second.sequence_number == 77
            assert receipt_from_pdu(first).id == second.message_id  # type: ignore[attr-defined]
            esme.ack(first)
            await until(lambda: sim.record.receipts.acked == 1)
            assert sim.record.as_dict()["early"] == 1
            await esme.close()

    run(body)
