"""The account commands of the CLI: ``users`` and ``tokens``, a thin shell over
:mod:`smscope.accounts`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smscope.accounts import tokens as api_tokens
from smscope.accounts import users as accounts
from smscope.app import Smscope
from smscope.db.types import utcnow
from smscope.errors import UsageError
from smscope.inputs import refuse_nul
from smscope.output import local_time, print_json

__all__ = ["register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
EmailArg = Annotated[str, typer.Argument(help="The user's e-mail address.")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of stdin (otherwise: "
                             "prompt on a terminal, or make one up and print it once).")]

users_app = typer.Typer(help="People who log in to the web app.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (Authorization: Bearer TOKEN).", no_args_is_help=True)


class _Consoles:
    out = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)


def register(app: typer.Typer, out: Console, err: Console) -> None:
    """Add ``users`` and ``tokens`` to the main application."""
    _Consoles.out, _Consoles.err = out, err
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The new user's password and whether smscope made it up (then it is printed)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input holds no password; "
                             "pipe one in, e.g. printf '%s\\n' \"$PW\" | smscope users create …")
        # the login form refuses a NUL: such a password could never be typed there
        refuse_nul(password, "--password-stdin: the password")
        return password, False
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if not password:
            raise UsageError("the password is empty")
        refuse_nul(password, "the password")
        return password, False
    return accounts.generate_password(), True


@users_app.command("create")
def users_create(
    email: EmailArg,
    role: Annotated[str | None, typer.Option(
        help="admin, member or readonly.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Short for --role admin.")] = False,
    password_stdin: PasswordStdinOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Create a user who can log in to the web app."""
    if admin and role not in (None, "admin"):
        raise UsageError(f"--admin and --role {role} disagree; give one of them")
    chosen = "admin" if admin else role
    if chosen is None:
        raise UsageError("give the user's role: --role admin|member|readonly (or --admin)")
    accounts.check_role(chosen)
    address = accounts.normalize_email(email)
    password, generated = _password(password_stdin)
    smscope = Smscope()
    with smscope.db.transaction() as session:
        user = accounts.create_user(session, address, role=chosen, password=password)
        data = accounts.user_to_json(user)
    if json_out:
        print_json({**data, "password": password if generated else None})
        return
    _Consoles.out.print(f"user {data['email']} created ({data['role']})")
    if generated:
        _Consoles.out.print(f"password (shown once, keep it): {password}")


@users_app.command("list")
def users_list(json_out: JsonOpt = False) -> None:
    """The users, their role and last login."""
    smscope = Smscope()
    with smscope.db.session() as session:
        items = [accounts.user_to_json(u) for u in accounts.list_users(session)]
    if json_out:
        print_json({"items": items, "next_cursor": None})
        return
    if not items:
        _Consoles.out.print("no users yet; 'smscope users create EMAIL --admin' makes the first")
        return
    zone = smscope.config.zone
    table = Table("id", "email", "role", "active", "created", "last login")
    for u in items:
        table.add_row(str(u["id"]), u["email"], u["role"], "yes" if u["active"] else "no",
                      local_time(u["created_at"], zone), local_time(u["last_login_at"], zone))
    _Consoles.out.print(table)


def _user_line(data: dict[str, object]) -> str:
    return f"user {data['email']}: {data['role']}, {'active' if data['active'] else 'deactivated'}"


@users_app.command("set-role")
def users_set_role(
    email: EmailArg,
    role: Annotated[str, typer.Argument(help="admin, member or readonly.")],
    json_out: JsonOpt = False,
) -> None:
    """Change a user's role (the last admin stays one)."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        data = accounts.user_to_json(
            accounts.set_role(session, accounts.get_user(session, email).id, role))
    if json_out:
        print_json(data)
    else:
        _Consoles.out.print(_user_line(data))


def _set_active(email: str, active: bool, json_out: bool) -> None:
    smscope = Smscope()
    with smscope.db.transaction() as session:
        data = accounts.user_to_json(
            accounts.set_active(session, accounts.get_user(session, email).id, active))
    if json_out:
        print_json(data)
    else:
        _Consoles.out.print(_user_line(data))


@users_app.command("deactivate")
def users_deactivate(
    email: EmailArg,
    json_out: JsonOpt = False,
) -> None:
    """Stop a user: no login, and their sessions and API tokens stop working."""
    _set_active(email, False, json_out)


@users_app.command("activate")
def users_activate(
    email: EmailArg,
    json_out: JsonOpt = False,
) -> None:
    """Let a deactivated user in again."""
    _set_active(email, True, json_out)


@users_app.command("password")
def users_password(
    email: EmailArg,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Set a user's password (their browser sessions end)."""
    smscope = Smscope()
    with smscope.db.session() as session:
        accounts.get_user(session, email)  # an unknown user is said before any prompt
    password, generated = _password(password_stdin)
    with smscope.db.transaction() as session:
        address = accounts.set_password(session, email, password).email
    _Consoles.out.print(f"user {address}: password changed")
    if generated:
        _Consoles.out.print(f"password (shown once, keep it): {password}")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Make an API token; it is printed once and never again."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        new = api_tokens.create_token(session, email, name=name)
    if json_out:
        print_json({"id": new.id, "name": new.name, "token": new.token})
        return
    _Consoles.out.print(f"API token {new.id}{f' ({new.name})' if new.name else ''} "
                        "(shown once, keep it):")
    _Consoles.out.print(new.token, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(
    email: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """API tokens: id, user, name, created, last used (never the token itself)."""
    smscope = Smscope()
    with smscope.db.session() as session:
        items = [api_tokens.token_to_json(t, u)
                 for t, u in api_tokens.list_tokens(session, email)]
    if json_out:
        print_json({"items": items, "next_cursor": None})
        return
    if not items:
        _Consoles.out.print("no API tokens; 'smscope tokens create EMAIL' makes one")
        return
    zone = smscope.config.zone
    table = Table("id", "user", "name", "created", "last used", "revoked")
    for t in items:
        table.add_row(str(t["id"]), t["user"], t["name"], local_time(t["created_at"], zone),
                      local_time(t["last_used_at"], zone), local_time(t["revoked_at"], zone))
    _Consoles.out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (smscope tokens list).")],
    json_out: JsonOpt = False,
) -> None:
    """Revoke an API token: it stops working at once."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        token = api_tokens.revoke_token(session, token_id, now=utcnow())
        revoked_at = token.revoked_at
    if json_out:
        print_json({"id": token_id, "revoked_at": revoked_at})
    else:
        _Consoles.out.print(f"API token {token_id} is revoked")
