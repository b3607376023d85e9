"""``smscope users`` and ``smscope tokens``: the contracts (CONTRACTS §2, §12) and a
one-line error for every bad input."""

from __future__ import annotations

import io
import sys

import pytest


def create(smscope, monkeypatch, *args: str, stdin: str | None = None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return smscope("users", "create", *args)


def test_without_password_stdin_and_no_terminal_a_password_is_made_and_shown_once(
        smscope, monkeypatch) -> None:
    run = create(smscope, monkeypatch, "Anne@Example.com", "--admin", "--json", stdin="")
    assert run.code == 0, run.err
    data = run.json()
    assert data["email"] == "anne@example.com" and data["role"] == "admin"
    assert len(data["password"]) >= 16
    listed = smscope("users", "list", "--json").json()
    assert [u["email"] for u in listed["items"]] == ["anne@example.com"]
    assert data["password"] not in smscope("users", "list", "--json").out


def test_password_stdin_is_used_and_not_printed(smscope, monkeypatch) -> None:
    run = create(smscope, monkeypatch, "bob@example.com", "--role", "readonly",
                 "--password-stdin", stdin="s3cret pass\n")
    assert run.code == 0 and "s3cret" not in run.out
    assert run.out.strip() == "user bob@example.com created (readonly)"


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("nobody", "--role", "member"), "", "'nobody' is not an e-mail address"),
    (("a@example.com", "--role", "boss"), "", "role 'boss': use admin, member, readonly"),
    (("a@example.com",), "", "give the user's role"),
    (("a@example.com", "--admin", "--role", "member"), "", "--admin and --role member disagree"),
    (("a@example.com", "--role", "member", "--password-stdin"), "\n",
     "standard input holds no password"),
])
def test_bad_user_input_is_one_line(smscope, monkeypatch, args, stdin, message) -> None:
    run = create(smscope, monkeypatch, *args, stdin=stdin)
    assert run.code != 0
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.err
    assert smscope("users", "list", "--json").json()["items"] == []


def test_a_duplicate_address_is_refused_whatever_its_case(smscope, monkeypatch) -> None:
    assert create(smscope, monkeypatch, "a@example.com", "--admin", stdin="").code == 0
    run = create(smscope, monkeypatch, "A@EXAMPLE.com", "--role", "member", stdin="")
    assert run.code == 1
    assert run.err.strip() == ("smscope: error: a user a@example.com already exists; "
                               "choose another address")


def test_tokens_create_list_revoke(smscope, monkeypatch) -> None:
    create(smscope, monkeypatch, "a@example.com", "--admin", stdin="")
    made = smscope("tokens", "create", "a@example.com", "--name", "ci", "--json")
    assert made.code == 0
    token = made.json()
    assert set(token) == {"id", "name", "token"} and token["name"] == "ci"
    assert token["token"].startswith("smscope_") and len(token["token"]) > 40
    listed = smscope("tokens", "list", "a@example.com", "--json")
    assert token["token"] not in listed.out
    (item,) = listed.json()["items"]
    assert item["id"] == token["id"] and item["user"] == "a@example.com"
    assert item["revoked_at"] is None and item["created_at"].endswith("Z")
    assert smscope("tokens", "revoke", str(token["id"])).code == 0
    (item,) = smscope("tokens", "list", "--json").json()["items"]
    assert item["revoked_at"] is not None


@pytest.mark.parametrize(("args", "message"), [
    (("tokens", "create", "ghost@example.com"), "no user ghost@example.com"),
    (("tokens", "list", "ghost@example.com"), "no user ghost@example.com"),
    (("tokens", "revoke", "42"), "no API token 42"),
    (("tokens", "revoke", "x"), "'x' is not a valid integer"),
])
def test_bad_token_input_is_one_line(smscope, args, message) -> None:
    run = smscope(*args)
    assert run.code != 0
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.err


def test_role_activation_and_password_from_the_command_line(smscope, monkeypatch) -> None:
    create(smscope, monkeypatch, "a@example.com", "--admin", stdin="")
    create(smscope, monkeypatch, "b@example.com", "--role", "member", stdin="")
    assert smscope("users", "set-role", "B@example.com", "readonly", "--json").json()[
        "role"] == "readonly"
    assert smscope("users", "deactivate", "b@example.com").out.strip() == (
        "user b@example.com: readonly, deactivated")
    assert smscope("users", "activate", "b@example.com", "--json").json()["active"] is True
    monkeypatch.setattr(sys, "stdin", io.StringIO("n3w pass\n"))
    run = smscope("users", "password", "b@example.com", "--password-stdin")
    assert run.code == 0 and "n3w" not in run.out
    from smscope.accounts.users import authenticate
    from smscope.app import Smscope
    from smscope.db.types import utcnow
    app = Smscope()
    with app.db.transaction() as session:
        assert authenticate(session, "b@example.com", "n3w pass", now=utcnow()) is not None
    app.close()


@pytest.mark.parametrize(("args", "message"), [
    (("users", "set-role", "a@example.com", "member"), "is the last admin"),
    (("users", "deactivate", "a@example.com"), "is the last admin"),
    (("users", "set-role", "a@example.com", "boss"), "role 'boss'"),
    (("users", "set-role", "ghost@example.com", "member"), "no user ghost@example.com"),
    (("users", "password", "ghost@example.com"), "no user ghost@example.com"),
])
def test_bad_user_changes_are_one_line(smscope, monkeypatch, args, message) -> None:
    create(smscope, monkeypatch, "a@example.com", "--admin", stdin="")
    run = smscope(*args)
    assert run.code != 0
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.err
    assert smscope("users", "list", "--json").json()["items"][0]["role"] == "admin"
