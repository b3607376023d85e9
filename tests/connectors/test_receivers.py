"""The ``receivers`` setting of SMPP and simulator connectors: links bound to receive."""

from __future__ import annotations

import pytest

from smscope.connectors.registry import add_connector, settings_of
from smscope.connectors.session import ConnectorInfo, ConnectorSession
from smscope.db import Database
from smscope.errors import UsageError
from smscope.receipts.mapping import StatusMapping
from tests.support.aio import run


def _smpp(**settings: object) -> dict[str, object]:
    return {"host": "smsc.example.com", "system_id": "id", "password": "pw", **settings}


def test_receivers_defaults_to_one_and_takes_a_small_whole_number(db: Database) -> None:
    with db.transaction() as session:
        plain = add_connector(session, "plain", "smpp", _smpp())
        four = add_connector(session, "four", "smpp", _smpp(receivers=4))
        assert settings_of(plain)["receivers"] == 1
        assert settings_of(four)["receivers"] == 4
        for wrong in (0, 17, 2.5, "4", True):
            with pytest.raises(UsageError, match="receivers"):
                add_connector(session, f"bad{wrong!s}".replace(".", ""), "smpp",
                              _smpp(receivers=wrong))


def test_a_simulator_connector_opens_its_receivers() -> None:
    async def body() -> None:
        info = ConnectorInfo(1, "sim", "simulator",
                             {"profile": "instant", "receivers": 3}, StatusMapping())
        assert info.receivers == 3

        async def nothing(batch: list[object]) -> None:
            return None

        session = ConnectorSession(info, on_receipts=nothing, on_mo=nothing)
        await session.open()
        try:
            assert session.simulator is not None
            bound = [s for s in session.simulator.server.sessions if s.receives]
            assert len(bound) == 3
            assert (await session.client.submit("hi", "SHOP", "+33612345678")).ok
        finally:
            await session.close()

    run(body)
