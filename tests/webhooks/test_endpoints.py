"""Managing webhooks: the service and ``smscope webhooks``, and each mistake a user can
make answered in one line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smscope.db import Database
from smscope.db.tables import WebhookDelivery
from smscope.errors import NotFoundError, UsageError
from smscope.webhooks.endpoints import (
    add_endpoint,
    check_url,
    deliveries,
    remove_endpoint,
)
from tests.conftest import Run

Cli = Callable[..., Run]


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/smscope", "http://127.0.0.1:8080/h?x=1", "HTTPS://E.COM"])
def test_http_and_https_urls_are_accepted(url: str) -> None:
    assert check_url(f"  {url} ") == url


@pytest.mark.parametrize(("url", "says"), [
    ("", "empty"), ("ftp://example.com/x", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"), ("example.com/hooks", "http://"),
    ("https:///path", "no host"), ("http://exa mple.com", "spaces"),
    ("http://example.com:99999/", "malformed"), ("http://[::1/", "malformed"),
    ("https://example.com/" + "a" * 2000, "longer than"),
])
def test_unusable_urls_are_refused_with_the_reason(url: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_url(url)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_secrets_are_generated_unless_given_and_campaigns_must_exist(db: Database) -> None:
    with db.transaction() as session:
        one, secret = add_endpoint(session, "https://a.example/h")
        two, other = add_endpoint(session, "https://a.example/h")
        assert secret.startswith("whsec_") and len(secret) > 40 and secret != other
        _, given = add_endpoint(session, "https://a.example/h", secret="x" * 16)
        assert given == "x" * 16
        with pytest.raises(UsageError, match="16 to 128"):
            add_endpoint(session, "https://a.example/h", secret="short")
        with pytest.raises(NotFoundError, match="campaign 7 does not exist"):
            add_endpoint(session, "https://a.example/h", campaign_id=7)
        assert one.id != two.id


def test_removing_an_endpoint_keeps_its_log_and_gives_up_what_was_pending(
        db: Database) -> None:
    with db.transaction() as session:
        endpoint, _ = add_endpoint(session, "https://a.example/h")
        for n, state in enumerate(("pending", "done")):
            session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=f"evt_{n}",
                                        payload={}, state=state, attempts=n))
    with db.transaction() as session:
        remove_endpoint(session, endpoint.id)
        with pytest.raises(NotFoundError):
            remove_endpoint(session, endpoint.id)
    with db.session() as session:
        rows, cursor = deliveries(session, endpoint_id=endpoint.id)
    assert cursor is None
    assert [(r.event_id, r.state, r.last_error) for r in rows] == [
        ("evt_1", "done", None), ("evt_0", "failed", "endpoint removed")]


def test_the_delivery_log_pages_newest_first(db: Database) -> None:
    with db.transaction() as session:
        endpoint, _ = add_endpoint(session, "https://a.example/h")
        for n in range(5):
            session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=f"evt_{n}",
                                        payload={}, state="done" if n % 2 else "pending"))
    seen, cursor = [], None
    with db.session() as session:
        while True:
            rows, cursor = deliveries(session, cursor=cursor, limit=2)
            seen.extend(r.event_id for r in rows)
            if cursor is None:
                break
        done, _ = deliveries(session, state="done")
        with pytest.raises(UsageError, match="invalid cursor"):
            deliveries(session, cursor="garbage")
        with pytest.raises(UsageError, match=r"pending\|done\|failed"):
            deliveries(session, state="lost")
        with pytest.raises(NotFoundError):
            deliveries(session, endpoint_id=99)
    assert seen == [f"evt_{n}" for n in (4, 3, 2, 1, 0)]
    assert [r.event_id for r in done] == ["evt_3", "evt_1"]


def test_webhooks_commands(smscope: Cli) -> None:
    added = smscope("webhooks", "add", "https://hooks.example.com/a", "--json")
    assert added.code == 0, added.err
    document = added.json()
    assert document["id"] == 1 and document["secret"].startswith("whsec_")
    readable = smscope("webhooks", "add", "https://hooks.example.com/b")
    assert "shown once" in readable.out and "whsec_" in readable.out
    given = smscope("webhooks", "add", "https://hooks.example.com/c", "--secret",
                    "0123456789abcdef", "--json").json()
    assert given["secret"] is None  # not printed back
    listed = smscope("webhooks", "list", "--json").json()
    assert [i["id"] for i in listed["items"]] == [1, 2, 3] and listed["next_cursor"] is None
    assert all("secret" not in item for item in listed["items"])
    assert listed["items"][0]["deliveries"] == {"pending": 0, "done": 0, "failed": 0}
    assert "whsec_" not in smscope("webhooks", "list").out
    assert smscope("webhooks", "remove", "2", "--json").json()["active"] is False
    assert [i["id"] for i in smscope("webhooks", "list", "--json").json()["items"]] == [1, 3]
    log = smscope("webhooks", "deliveries", "--endpoint", "1", "--state", "failed", "--json")
    assert log.json() == {"items": [], "next_cursor": None}
    assert smscope("webhooks", "deliveries").out.strip() == "no deliveries"


@pytest.mark.parametrize(("args", "code", "says"), [
    (["add", "ftp://x.example"], 2, "must start with http:// or https://"),
    (["add", "https://x.example", "--campaign", "4"], 1, "campaign 4 does not exist"),
    (["add", "https://x.example", "--campaign", "four"], 2, "not a valid integer"),
    (["add", "https://x.example", "--secret", "abc"], 2, "16 to 128 characters"),
    (["add"], 2, "Missing argument"),
    (["remove", "9"], 1, "webhook 9 does not exist"),
    (["deliveries", "--state", "lost"], 2, "pending|done|failed"),
    (["deliveries", "--cursor", "nope"], 2, "invalid cursor"),
    (["deliveries", "--limit", "0"], 2, "--limit"),
    (["deliveries", "--endpoint", "5"], 1, "webhook 5 does not exist"),
])
def test_webhooks_mistakes_are_one_line(smscope: Cli, args: list[str], code: int,
                                        says: str) -> None:
    run = smscope("webhooks", *args)
    assert run.code == code, run.err
    assert run.err.count("\n") == 1 and says in run.err, run.err
    assert run.out == ""
