"""A NUL character (U+0000) in a command's argument: PostgreSQL refuses one in any text
value, so it was an internal error there while SQLite stored it. Every argument of
every command is now refused before the command runs — one line on stderr naming the
option, exit status 2, nothing stored — on both backends; a NUL in a password read
from standard input is refused too, and NUL bytes in a ``--numbers`` file are dropped,
as in a contact file."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer
from sqlalchemy import select

from smscope import cli
from smscope.connectors.registry import add_connector
from smscope.contacts import book
from smscope.db import Database
from smscope.db.tables import Base, Campaign, Message, User
from smscope.pricing import CreditBank
from tests.conftest import BACKENDS, Run, make_database
from tests.web.test_nul_pages import NUL_CSV

NUL = "\x00"
#: commands that serve or run until stopped: their arguments are checked by the same
#: code, without running them (see the last test)
LONG_RUNNING = {"serve", "simulator", "worker", "demo"}

#: a right invocation of each command that takes arguments: (option or ARGUMENT, value);
#: a value None is a flag
INVOCATIONS: dict[str, list[tuple[str, str | None]]] = {
    "measure": [("MESSAGE", "Bonjour"), ("--to", "+33612000001"),
                ("--default-region", "FR")],
    "stats": [("--from", "2030-01-01"), ("--to", "2030-01-31"), ("--by", "day"),
              ("--csv", "stats.csv"), ("--pdf", "stats.pdf")],
    "contacts import": [("FILE", "contacts.csv"), ("--list", "customers"),
                        ("--default-region", "FR"), ("--delimiter", ","),
                        ("--phone-column", "phone"), ("--map", "prenom=first_name"),
                        ("--rejects", "rejects.csv")],
    "contacts list": [("--list", "customers"), ("--state", "active"), ("--search", "Anne"),
                      ("--cursor", "abc"), ("--limit", "10")],
    "contacts restore": [("NUMBER", "+33612000000"), ("--default-region", "FR")],
    "blacklist add": [("NUMBER", "+33612000003"), ("--reason", "asked"),
                      ("--default-region", "FR")],
    "blacklist remove": [("NUMBER", "+33612000003"), ("--reason", "by mistake"),
                         ("--default-region", "FR")],
    "blacklist check": [("NUMBER", "+33612000003"), ("--default-region", "FR")],
    "blacklist list": [("--search", "asked"), ("--cursor", "abc"), ("--limit", "10")],
    "blacklist export": [("--csv", "blacklist.csv")],
    "prices set": [("COUNTRY", "FR"), ("PRICE", "0.05")],
    "prices remove": [("COUNTRY", "FR")],
    "credits add": [("AMOUNT", "100"), ("--note", "top-up")],
    "connector add": [("NAME", "op2"), ("--smpp", "smsc.example.com:2775"),
                      ("--system-id", "acme"), ("--password", "secret"), ("--rate", "10"),
                      ("--window", "20"), ("--receivers", "1"), ("--split", "udh8"),
                      ("--id-format", "hex"),
                      ("--map", "UNDELIV:001=permanent_error_absence")],
    "connector add --simulator": [("NAME", "sim2"), ("--simulator", None),
                                  ("--profile", "instant"), ("--seed", "7")],
    "connector add --provider": [
        ("NAME", "provider"), ("--provider", "twilio"),
        ("--api-url", "https://api.example.com"), ("--account-sid", "AC123"),
        ("--auth-token", "token"), ("--api-key", "key"), ("--api-secret", "secret"),
        ("--signature-secret", "sig"), ("--signature-method", "hmac-sha256"),
        ("--application-id", "app"), ("--private-key", "key.pem"), ("--secret", "s" * 32)],
    "connector remove": [("NAME", "sim")],
    "campaign create": [("--name", "Soldes"), ("--sender", "SHOP"), ("--text", "Bonjour"),
                        ("--list", "customers"), ("--numbers", "numbers.txt"),
                        ("--type", "marketing"), ("--connector", "sim"),
                        ("--schedule", "2031-01-05T09:30"), ("--validity", "48h")],
    "campaign edit": [("CAMPAIGN_ID", "1"), ("--name", "Soldes"), ("--sender", "SHOP"),
                      ("--text", "Bonjour"), ("--connector", "sim"),
                      ("--schedule", "2031-01-05T09:30")],
    "campaign send": [("CAMPAIGN_ID", "1"), ("--timeout", "5")],
    "campaign test": [("CAMPAIGN_ID", "1"), ("--to", "+33612000009"), ("--timeout", "5")],
    "campaign status": [("CAMPAIGN_ID", "1")],
    "campaign pause": [("CAMPAIGN_ID", "1")],
    "campaign resume": [("CAMPAIGN_ID", "1")],
    "campaign cancel": [("CAMPAIGN_ID", "1")],
    "campaign report": [("CAMPAIGN_ID", "1"), ("--csv", "report.csv"),
                        ("--pdf", "report.pdf")],
    "campaign export": [("CAMPAIGN_ID", "1"), ("--csv", "export.csv"),
                        ("--status", "delivered"), ("--search", "Anne")],
    "campaign share": [("CAMPAIGN_ID", "1"), ("--to", "boss@example.com")],
    "campaign recipients": [("CAMPAIGN_ID", "1"), ("--status", "delivered"),
                            ("--search", "Anne"), ("--sort", "id"), ("--cursor", "abc"),
                            ("--limit", "10")],
    "receipts orphans": [("--older-than", "1h")],
    "messages search": [("--from", "2030-01-01"), ("--to", "2030-01-31"),
                        ("--campaign", "1"), ("--sender", "SHOP"), ("--number", "+336"),
                        ("--text", "Bonjour"), ("--status", "delivered"),
                        ("--category", "delivered"), ("--connector", "sim"),
                        ("--cursor", "abc"), ("--limit", "10"), ("--csv", "messages.csv")],
    "messages show": [("MESSAGE_ID", "1")],
    "users create": [("EMAIL", "new@example.com"), ("--role", "member")],
    "users set-role": [("EMAIL", "reader@example.com"), ("ROLE", "member")],
    "users deactivate": [("EMAIL", "reader@example.com")],
    "users activate": [("EMAIL", "reader@example.com")],
    "users password": [("EMAIL", "reader@example.com")],
    "tokens create": [("EMAIL", "reader@example.com"), ("--name", "laptop")],
    "tokens list": [("EMAIL", "reader@example.com")],
    "tokens revoke": [("TOKEN_ID", "1")],
    "webhooks add": [("URL", "https://hooks.example.com/sms"), ("--campaign", "1"),
                     ("--secret", "s" * 32)],
    "webhooks remove": [("ID", "1")],
    "webhooks deliveries": [("--endpoint", "1"), ("--state", "failed"), ("--cursor", "abc"),
                            ("--limit", "10")],
}


def with_nul(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + NUL + value[middle:]


def tokens(case: str, pairs: list[tuple[str, str | None]], target: str) -> list[str]:
    """The command line of ``case`` ("connector add --simulator": another invocation
    of "connector add") with a NUL in the value of ``target``."""
    args, options = case.split(" --")[0].split(), []
    for key, value in pairs:
        given = with_nul(value) if key == target and value is not None else value
        if key.startswith("--"):
            options += [key] if given is None else [key, given]
        else:
            args.append(given or "")
    return args + options


CASES = [pytest.param(command, key, id=f"{command} {key}")
         for command, pairs in INVOCATIONS.items() for key, value in pairs
         if value is not None]


def leaves() -> Iterator[tuple[str, click.Command]]:
    def walk(command: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    yield from walk(typer.main.get_command(cli.app), [])


def named(param: click.Parameter) -> str:
    return (param.human_readable_name if isinstance(param, click.Argument)
            else max(param.opts, key=len))


def valued(command: click.Command) -> list[click.Parameter]:
    """The parameters of ``command`` that take a value (not the flags)."""
    return [p for p in command.params
            if not (isinstance(p, click.Option) and (p.is_flag or p.count))]


# --------------------------------------------------------------------------- fixtures


def seed(database: Database) -> None:
    """A list with a contact, a connector, credits, users, and a draft campaign."""
    from smscope.accounts import users
    from smscope.campaigns import service
    from smscope.config import Config
    from smscope.db.types import utcnow

    with database.transaction() as session:
        made = book.create_list(session, "customers")
        contact, _ = book.add_to_list(session, made.id, "+33612000000", "FR")
        contact.first_name = "Anne"
        add_connector(session, "sim", "simulator", {"profile": "instant"})
        CreditBank(session).add(100)
        users.create_user(session, "reader@example.com", role="readonly",
                          password="correct horse battery staple")
        service.create_campaign(session, name="Soldes", sender="SHOP", text="Bonjour",
                                config=Config(default_region="FR"), now=utcnow(),
                                lists=["customers"], connector="sim")


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             sqlite_template: Path) -> Iterator[Database]:
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    made = make_database(request.param, pg, sqlite_template, tmp_path_factory.mktemp("cli"))
    seed(made)
    yield made
    made.dispose()


@pytest.fixture
def run(database: Database, smscope, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The CLI in-process on ``database`` (each backend), in a folder with the files
    the invocations name."""
    monkeypatch.setenv("SMSCOPE_DATABASE_URL", database.url)
    monkeypatch.setenv("SMSCOPE_DEFAULT_REGION", "FR")
    (tmp_path / "contacts.csv").write_text("phone,prenom\n0612000005,Zoe\n", encoding="utf-8")
    (tmp_path / "numbers.txt").write_text("+33612000006\n", encoding="utf-8")
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    return smscope


def stored(database: Database) -> dict[str, list[str]]:
    with database.session() as session:
        return {table.name: sorted(repr(tuple(row)) for row in session.execute(
                    select(table)))
                for table in Base.metadata.sorted_tables}


def one_line_refusal(run: Run, name: str) -> None:
    assert run.code == 2, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"smscope: error: {name} contains a NUL character (\\0)"), \
        run.err


# --------------------------------------------------------------------------- tests


def test_every_argument_of_every_command_is_in_a_case() -> None:
    covered = {(case.split(" --")[0], key)
               for case, pairs in INVOCATIONS.items() for key, _ in pairs}
    missing = [(path, named(param)) for path, command in leaves()
               if path not in LONG_RUNNING for param in valued(command)
               if (path, named(param)) not in covered]
    assert missing == []


@pytest.mark.parametrize(("command", "key"), CASES)
def test_a_nul_in_any_argument_is_refused_and_nothing_is_stored(
        run, database: Database, command: str, key: str) -> None:
    before = stored(database)
    answer = run(*tokens(command, INVOCATIONS[command], key))
    one_line_refusal(answer, key)
    assert stored(database) == before


@pytest.mark.parametrize("path", sorted(LONG_RUNNING))
def test_the_long_running_commands_name_the_argument_too(path: str) -> None:
    group = typer.main.get_command(cli.app)
    command = dict(leaves())[path]
    for param in valued(command):
        name = named(param)
        value = "1" if isinstance(param.type, (click.types.IntParamType,
                                               click.types.FloatParamType)) else "x"
        given = ([path, with_nul(value)] if isinstance(param, click.Argument)
                 else [path, name, with_nul(value)])
        assert cli._argument_with_nul(group, ["--debug", *given]) == name


def test_a_nul_outside_any_known_argument_is_named_by_its_value(run) -> None:
    answer = run("camp\x00aign", "list")
    one_line_refusal(answer, "the argument 'camp\\x00aign'")
    answer = run("campaign", "list", "--nope", "x\x00")
    one_line_refusal(answer, "the argument 'x\\x00'")


def test_a_password_with_a_nul_on_standard_input_is_refused(
        run, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("pass\x00word\n"))
    answer = run("users", "create", "new@example.com", "--role", "member",
                 "--password-stdin")
    one_line_refusal(answer, "--password-stdin: the password")
    with database.session() as session:
        assert session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_nul_bytes_in_a_numbers_file_are_dropped_and_the_campaign_sends(
        run, database: Database, tmp_path: Path) -> None:
    (tmp_path / "numbers.txt").write_bytes(
        b"+33 6 12 00\x00 00 07\nnot a \x00number\n\x00\n0612000008\n")
    created = run("campaign", "create", "--name", "Files", "--sender", "SHOP", "--text",
                  "Hi", "--numbers", "numbers.txt", "--type", "transactional",
                  "--connector", "sim", "--json")
    assert created.code == 0, created.err
    campaign_id = created.json()["id"]
    with database.session() as session:
        numbers = session.get(Campaign, campaign_id).numbers
    assert [n["raw"] for n in numbers] == ["+33 6 12 00 00 07", "not a number",
                                           "0612000008"]
    sent = run("campaign", "send", str(campaign_id), "--json")
    assert sent.code == 0, sent.err
    with database.session() as session:
        texts = session.scalars(select(Message.number)
                                .where(Message.campaign_id == campaign_id)).all()
    assert sorted(texts) == ["+33612000007", "+33612000008", "not a number"]


def test_nul_bytes_in_a_contact_file_are_dropped_and_every_row_counts(
        run, database: Database, tmp_path: Path) -> None:
    (tmp_path / "nul.csv").write_bytes(NUL_CSV)
    answer = run("contacts", "import", "nul.csv", "--list", "nul", "--rejects",
                 "rejects.csv", "--json")
    assert answer.code == 0, answer.err
    assert answer.json() == {"list": "nul", "rows": 8, "imported": 7, "updated": 0,
                             "duplicates": 0, "invalid": 1}
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[1].startswith("not a number,Bad,Lyon,")
    listed = run("contacts", "list", "--list", "nul", "--limit", "100", "--json").json()
    assert {c["number"]: c["first_name"] for c in listed["items"]}["+33612000101"] == "Zoé"
    assert NUL not in answer.out + repr(listed)


@pytest.mark.parametrize(("toml", "place"), [
    ('[smtp]\nhost = "mail\\u0000.example.com"\n', "[smtp] host"),
    ('public_url = "https://sms\\u0000.example.com"\n', "public_url"),
    ('[stop]\nkeywords = ["STOP", "AR\\u0000RET"]\n', "[stop] keywords"),
    ('[connectors."fi\\u0000led"]\ntype = "simulator"\n', "[connectors] 'fi\\x00led'"),
])
def test_a_nul_in_the_configuration_file_is_one_error_naming_its_place(
        run, database: Database, tmp_path: Path, toml: str, place: str) -> None:
    """TOML writes a NUL as \\u0000: the configuration is refused as a whole, naming
    the setting, before a command uses it (a public URL with a NUL would have been in
    every tracked link)."""
    (tmp_path / "smscope.toml").write_text(toml, encoding="utf-8")
    before = stored(database)
    answer = run("campaign", "create", "--name", "N", "--sender", "SHOP", "--text", "Hi",
                 "--list", "customers", "--connector", "sim")
    assert answer.code == 1, answer.err
    [line] = answer.err.strip().splitlines()
    assert f"smscope.toml + environment: {place} contains a NUL character (\\0)" in line
    assert stored(database) == before
