"""Property tests of the REST API generated from its own OpenAPI schema (schemathesis):
every operation of ``/api/v1/openapi.json``, called in process on the real app over a
database with a little data (a list of contacts, a campaign sent, a blacklisted number),
with valid and invalid generated parameters and bodies.

Whatever the input: never a 5xx; every status is one the schema documents for that
operation; every error is ``{"error": {"code", "message"}}`` and nothing else; with a
read-only token, every write is 403 and changes nothing.

Bounded: a few dozen examples per operation and role, about a minute in all (the
examples are kept small; the database is made once per module and backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    status_code_conformance,
)
from sqlalchemy import func, select
from starlette.testclient import TestClient

from smscope.accounts import tokens, users
from smscope.app import Smscope
from smscope.config import Config
from smscope.db.tables import BlacklistEntry, Campaign, Contact
from smscope.web.api import create_api
from smscope.web.app import create_app
from tests.campaigns.helpers import Engine, number

EXAMPLES = 30
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class World:
    """The app over a database with a little of everything, and a token per role."""

    def __init__(self, url: str) -> None:
        self.smscope = Smscope(Config(database_url=url, default_region="FR",
                                      public_url="http://127.0.0.1:8000"))
        db = self.smscope.db
        engine = Engine(db).setup(credits=1000)
        engine.contacts("clients", [{"number": number(i), "first_name": f"N{i}"}
                                    for i in range(1, 4)])
        engine.campaign(lists=["clients"], name="soldes")
        engine.campaign(numbers=[number(9)], name="draft", send=False)
        with db.transaction() as session:
            users.create_user(session, "admin@example.com", role="admin", password="x" * 12)
            users.create_user(session, "reader@example.com", role="readonly",
                              password="x" * 12)
            self.headers = {
                role: {"Authorization": "Bearer " + tokens.create_token(
                    session, email, name="schemathesis").token}
                for role, email in (("admin", "admin@example.com"),
                                    ("readonly", "reader@example.com"))}
        self.app = create_app(self.smscope)
        self.schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", self.app)

    def fingerprint(self) -> tuple[int, int, int]:
        """What a write would change: campaigns, contacts, blacklist entries."""
        with self.smscope.db.session() as session:
            return tuple(session.scalar(select(func.count()).select_from(table))  # type: ignore[return-value]
                         for table in (Campaign, Contact, BlacklistEntry))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          sqlite_template: Path) -> Iterator[World]:
    from tests.conftest import make_database
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    database = make_database(request.param, pg, sqlite_template,
                             tmp_path_factory.mktemp("api"))
    url = database.url
    database.dispose()
    made = World(url)
    yield made
    made.smscope.close()


def check_error_shape(response: Any) -> None:
    """An error under /api/v1 is the API's one shape, with a code and a message."""
    if response.status_code < 400:
        return
    kind = response.headers.get("content-type")
    assert (kind[0] if isinstance(kind, list) else kind) == "application/json", response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.text


def operations() -> list[str]:
    """Every operation of the schema, as ``METHOD /path`` (read without a database)."""
    paths = create_api().openapi()["paths"]
    return [f"{method.upper()} {path}" for path, methods in paths.items() for method in methods]


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def run_generated(world: World, label: str, role: str, examples: int) -> None:
    """Call ``label`` with generated requests, valid and invalid, as ``role``."""
    operation = world.schema.find_operation_by_label(label)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))
    write = operation.method.upper() in WRITES

    @given(case=cases)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        before = world.fingerprint() if write and role == "readonly" else None
        response = case.call(headers=world.headers[role])
        case.validate_response(response, checks=CHECKS)
        check_error_shape(response)
        if before is not None:
            # negative cases may drop or mangle the token: then 401, else always 403
            sent = response.request.headers.get("Authorization")
            expected = 403 if sent == world.headers[role]["Authorization"] else 401
            assert response.status_code == expected, (label, sent, response.text)
            assert response.json()["error"]["code"] == (
                "forbidden" if expected == 403 else "unauthorized")
            assert world.fingerprint() == before

    call()


@pytest.mark.parametrize("label", operations())
def test_any_input_of_an_admin_gets_a_documented_answer_never_a_5xx(
        world: World, label: str) -> None:
    run_generated(world, label, "admin", EXAMPLES)


@pytest.mark.parametrize("label", [o for o in operations() if o.split()[0] in WRITES])
def test_a_readonly_token_never_writes_and_never_gets_a_5xx(world: World, label: str) -> None:
    run_generated(world, label, "readonly", EXAMPLES)


def test_the_schema_lists_every_route_the_readme_documents() -> None:
    """The generated tests cover what the schema lists: make sure that is the API."""
    paths = set(create_api().openapi()["paths"])
    assert {"/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/send",
            "/campaigns/{campaign_id}/report", "/campaigns/{campaign_id}/recipients",
            "/messages", "/messages/{message_id}", "/stats", "/contacts", "/lists",
            "/blacklist", "/blacklist/{number}"} <= paths


def test_an_unauthenticated_call_is_401_in_the_api_shape(world: World) -> None:
    with TestClient(world.app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/campaigns")
    assert answer.status_code == 401
    check_error_shape(answer)



# -- what the generated tests found, pinned ------------------------------------------


def test_the_campaign_actions_document_their_409() -> None:
    paths = create_api().openapi()["paths"]
    for action in ("send", "pause", "resume", "cancel"):
        assert "409" in paths[f"/campaigns/{{campaign_id}}/{action}"]["post"]["responses"]


def test_a_campaign_id_beyond_the_column_is_refused_not_a_500(any_site) -> None:
    """Campaign ids are 32-bit on PostgreSQL: a larger one was "integer out of range"."""
    from smscope.campaigns.service import get_campaign
    from smscope.errors import NotFoundError
    from tests.web.test_api import clients_of, is_error
    client, headers = clients_of(any_site)
    big = 2632671797
    for path in (f"/campaigns/{big}", f"/campaigns/{big}/report",
                 f"/campaigns/{big}/recipients", f"/messages?campaign={big}"):
        is_error(client.get(f"/api/v1{path}", headers=headers["admin"]), 422,
                 "validation_error")
    is_error(client.post(f"/api/v1/campaigns/{big}/send", headers=headers["admin"]), 422,
             "validation_error")
    with any_site.smscope.db.session() as session, pytest.raises(NotFoundError):
        get_campaign(session, big)
    from tests.web.conftest import signed_in
    page_client, _ = signed_in(any_site, "reader@example.com")
    page = page_client.get("/messages", params={"campaign": str(big)})
    assert page.status_code == 400 and f"There is no campaign {big}." in page.text


@pytest.mark.parametrize(("method", "path", "params", "body", "where"), [
    ("GET", "/messages", {"text": "a\x00"}, None, "query string"),
    ("GET", "/messages", {"sender": "\x00"}, None, "query string"),
    ("GET", "/contacts", {"search": "a\x00"}, None, "query string"),
    ("GET", "/contacts", {"list": "a\x00"}, None, "query string"),
    ("GET", "/blacklist", {"search": "a\x00"}, None, "query string"),
    ("GET", "/campaigns/1/recipients", {"search": "\x00"}, None, "query string"),
    ("POST", "/campaigns", None, {"name": "a\x00", "sender": "SHOP", "text": "x",
                                  "numbers": ["+33612345678"]}, "body"),
    ("POST", "/campaigns", None, {"name": "a", "sender": "SHOP", "text": "x",
                                  "lists": ["x\x00"]}, "body"),
    ("DELETE", "/blacklist/%2B336%00", None, None, "path"),
])
def test_a_nul_anywhere_in_a_request_is_a_400_never_a_500(any_site, method, path, params,
                                                           body, where) -> None:
    """On PostgreSQL a NUL in any text parameter was a 500 ("text fields cannot contain
    NUL"): every route now refuses it first."""
    from tests.web.test_api import clients_of, is_error
    client, headers = clients_of(any_site)
    with any_site.smscope.db.transaction() as session:
        from smscope.db.tables import Campaign
        session.add(Campaign(name="c", sender="SHOP", text="t", state="draft"))
    answer = client.request(method, f"/api/v1{path}", params=params, json=body,
                            headers=headers["admin"])
    error = is_error(answer, 400, "bad_request")
    assert f"request's {where} contains a NUL character" in error["message"]


@pytest.mark.parametrize(("body", "kind"), [(b"{not json", "application/json"),
                                            (b"\xff\xfe", "application/json"),
                                            (b"[1, 2", "application/json"),
                                            (b"a=1&b", "application/x-www-form-urlencoded"),
                                            (b"--x\r\n", "multipart/form-data")])
def test_a_readonly_write_with_a_malformed_body_is_still_a_403(site, body, kind) -> None:
    """The body is parsed before the route's dependencies run: a malformed one was a
    400 for a read-only caller, who may not write whatever the body says."""
    from tests.web.test_api import clients_of, is_error
    client, headers = clients_of(site)
    for path in ("/api/v1/blacklist", "/api/v1/campaigns"):
        sent = {**headers["readonly"], "Content-Type": kind}
        is_error(client.post(path, content=body, headers=sent), 403, "forbidden")
        is_error(client.post(path, content=body, headers={"Content-Type": kind}),
                 401, "unauthorized")
        answer = client.post(path, content=body,
                             headers={**headers["admin"], "Content-Type": kind})
        assert answer.status_code in (400, 422), answer.text
        is_error(answer, answer.status_code, answer.json()["error"]["code"])
