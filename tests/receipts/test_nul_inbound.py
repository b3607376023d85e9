"""A NUL character in what operators and providers send: a reply or a receipt in UCS-2
or Latin-1 may hold one, which PostgreSQL cannot store — the batch failed there while
SQLite stored it. An SMSC's texts cannot be refused (the PDU is answered either way),
so their NULs are dropped; a provider's HTTP callback holding one is unusable (422),
and nothing is stored — the same on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from smscope import signing
from smscope.app import Smscope
from smscope.connectors.registry import add_connector
from smscope.db import Database
from smscope.db.tables import Receipt, Reply
from smscope.web.app import create_app
from tests.campaigns.helpers import NOW, Engine, garbage, make_config, mo, number, receipt

SECRET = "generic-secret-0123456789abcdef"


def stored_texts(db: Database) -> tuple[list[str], list[str]]:
    with db.session() as session:
        return (list(session.scalars(select(Reply.text).order_by(Reply.id))),
                list(session.scalars(select(Receipt.raw).order_by(Receipt.id))))


def test_nuls_in_an_smscs_replies_and_receipts_are_dropped(db: Database) -> None:
    engine = Engine(db).setup()
    campaign_id = engine.campaign(numbers=[number(1)])
    sent = engine.send_all()[number(1)]
    # a reply in UCS-2 and one in Latin-1, each with a NUL
    latin = mo("Merci!")
    latin.data_coding, latin.short_message = 3, b"Merci\x00 \xe0 vous"
    assert engine.replies([mo("Thanks\x00 é"), latin], NOW + timedelta(minutes=1)) == 2
    # a receipt (Latin-1) with a NUL in its text, and a text that is no receipt
    good = receipt(sent)
    good.data_coding, good.short_message = 3, good.short_message + b"\x00!"
    junk = garbage()
    junk.data_coding, junk.short_message = 8, "not a receipt\x00".encode("utf-16-be")
    result = engine.receipts([good, junk], NOW + timedelta(minutes=2))
    assert (result.stored, result.applied, result.unparseable) == (2, 1, 1)
    replies, raws = stored_texts(db)
    assert replies == ["Thanks é", "Merci à vous"]
    assert raws[1] == "not a receipt" and raws[0].endswith("text:hi!")
    assert engine.message(campaign_id, number(1)).status == "received"


@pytest.fixture
def client(db: Database) -> Iterator[tuple[TestClient, Engine]]:
    engine = Engine(db, config=make_config(public_url="https://sms.example.com"),
                    id_format="string").setup()
    with db.transaction() as session:
        add_connector(session, "gen", "http", {"provider": "generic",
                                               "api_url": "http://127.0.0.1:9/send",
                                               "secret": SECRET})
    smscope = Smscope(engine.config.model_copy(update={"database_url": db.url}))
    with TestClient(create_app(smscope), raise_server_exceptions=False) as test_client:
        yield test_client, engine
    smscope.close()


@pytest.mark.parametrize(("report", "said"), [
    ({"id": "g\x001", "status": "received"}, "NUL character"),
    ({"id": "g1", "status": "UNDELIV", "error": "0\x0001"}, "NUL character"),
    ({"id": "g1", "status": "received", "number": "+336\x00"}, "NUL character"),
    ({"id": "g1", "status": "received", "sender": "SH\x00OP"}, "NUL character"),
    ({"id": "g1", "status": "received\x00"}, "unknown status"),  # no status has one
])
def test_a_providers_callback_with_a_nul_is_unusable_and_stores_nothing(
        client, db: Database, report: dict[str, str], said: str) -> None:
    test_client, _ = client
    body = json.dumps(report).encode()
    answer = test_client.post("/hooks/gen/receipts", content=body, headers={
        "Content-Type": "application/json", **signing.headers(SECRET, body)})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "unusable_callback"
    assert said in answer.json()["error"]["message"]
    assert stored_texts(db) == ([], [])


def test_a_nul_in_a_receivers_connector_name_is_404(client) -> None:
    test_client, _ = client
    body = b'{"id": "g1", "status": "received"}'
    answer = test_client.post("/hooks/ge%00n/receipts", content=body, headers={
        "Content-Type": "application/json", **signing.headers(SECRET, body)})
    assert answer.status_code == 404, answer.text
