"""The ``smscope`` command line: a thin shell over the services.

Conventions (CONTRACTS §2): with ``--json`` stdout carries exactly one JSON object;
progress bars (only on a terminal) and logs go to stderr; every error is one line on
stderr and a non-zero exit (2 for usage, 1 otherwise), never a traceback unless
``--debug``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from smscope import __version__, numbers
from smscope import text as sms_text
from smscope.app import Smscope
from smscope.cli_accounts import register as register_account_commands
from smscope.cli_campaigns import register as register_sending_commands
from smscope.cli_messages import register as register_message_commands
from smscope.cli_reports import register as register_report_commands
from smscope.cli_webhooks import register as register_webhook_commands
from smscope.contacts import blacklist as bl
from smscope.contacts import book
from smscope.contacts.importer import import_contacts
from smscope.errors import SmscopeError, UsageError
from smscope.inputs import NUL, NulCharacterError, has_nul
from smscope.output import SafeConsole, credits_text, local_time, print_json
from smscope.pricing import CreditBank, remove_price, set_price

err = SafeConsole(stderr=True, highlight=False, markup=False)
# Piped output is not cut at 80 columns: tables keep whole dates and numbers.
out = SafeConsole(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200)

app = typer.Typer(
    name="smscope",
    help="smscope: SMS campaigns with delivery tracking you can trust.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
contacts_app = typer.Typer(help="The address book: import, list, restore.", no_args_is_help=True)
blacklist_app = typer.Typer(help="The blacklist (opt-outs).", no_args_is_help=True)
prices_app = typer.Typer(help="Price per segment by country.", no_args_is_help=True)
credits_app = typer.Typer(help="The account's credit balance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(contacts_app, name="contacts")
app.add_typer(blacklist_app, name="blacklist")
app.add_typer(prices_app, name="prices")
app.add_typer(credits_app, name="credits")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
CursorOpt = Annotated[
    str | None, typer.Option("--cursor", help="next_cursor of the previous page.")
]
LimitOpt = Annotated[int, typer.Option("--limit", help="Items per page (1-1000).")]
RegionOpt = Annotated[
    str | None,
    typer.Option("--default-region", help="Country of national-format numbers, e.g. FR."),
]


class _State:
    debug = False
    verbose = False


_state = _State()


def _app() -> Smscope:
    return Smscope()


def _region(app_: Smscope, given: str | None) -> str | None:
    if given is None:
        return app_.config.default_region
    code = given.strip().upper()
    import phonenumbers

    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"--default-region {given!r} is not a country; use a code like FR")
    return code


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    if not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), console=err, transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def _print_version(value: bool) -> None:
    if value:
        out.print(f"smscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show log lines.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.",
                                          callback=_print_version, is_eager=True)] = False,
) -> None:
    """smscope: SMS campaigns with delivery tracking you can trust."""
    _state.debug = debug or _state.debug
    _state.verbose = verbose
    if verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(name)s %(message)s")
    else:
        # the PDF renderer warns about every glyph a font lacks (an emoji): not the
        # user's business unless they ask for log lines
        for name in ("weasyprint", "fontTools"):
            logging.getLogger(name).setLevel(logging.ERROR)


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(json_out: JsonOpt = False) -> None:
    """Create or upgrade the database schema to this version of smscope."""
    from smscope.db import Database

    smscope = Smscope()
    database = Database(smscope.base_config.database_url)
    before, after = database.upgrade()
    database.dispose()
    if json_out:
        print_json({"database": database.display_url, "from": before, "to": after})
    elif before == after:
        out.print(f"{database.display_url}: schema already at {after}")
    else:
        out.print(f"{database.display_url}: schema upgraded from {before or 'empty'} to {after}")


@db_app.command("status")
def db_status(json_out: JsonOpt = False) -> None:
    """Show the database in use and its schema version."""
    from smscope.db import Database

    smscope = Smscope()
    database = Database(smscope.base_config.database_url)
    current, head = database.current_revision(), database.head_revision()
    database.dispose()
    if json_out:
        print_json({"database": database.display_url, "current": current, "head": head,
                    "up_to_date": current == head})
    else:
        state = "up to date" if current == head else "run 'smscope db upgrade'"
        out.print(f"{database.display_url}: schema {current or 'empty'} (needs {head}; {state})")


# --------------------------------------------------------------------------- contacts


@contacts_app.command("import")
def contacts_import(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    list_name: Annotated[str, typer.Option("--list", help="List to import into.")],
    default_region: RegionOpt = None,
    delimiter: Annotated[str | None, typer.Option(help="Cell delimiter (sniffed).")] = None,
    phone_column: Annotated[str | None, typer.Option(help="Column holding numbers.")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="COLUMN=FIELD (repeatable).")
                    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write invalid rows here.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Import contacts from a CSV file into a list."""
    smscope = _app()
    region = _region(smscope, default_region)
    with _progress(f"Importing {file.name}") as progress:
        result = import_contacts(smscope.db, file, list_name, default_region=region,
                                 delimiter=delimiter, phone_column=phone_column,
                                 mapping=map_ or (), rejects=rejects, progress=progress)
    if json_out:
        print_json(result.to_json())
        return
    table = Table(title=f"Import into list {result.list_name!r}", show_header=False)
    for label, value in (("rows", result.rows), ("imported", result.imported),
                         ("updated", result.updated), ("duplicates in file", result.duplicates),
                         ("invalid", result.invalid)):
        table.add_row(label, f"{value:,}")
    out.print(table)
    if result.reasons:
        out.print("invalid rows by reason: " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(result.reasons.items(), key=lambda kv: -kv[1])))
    if rejects is not None and result.invalid:
        out.print(f"invalid rows and their reason written to {rejects}")
    elif result.invalid:
        out.print("add --rejects FILE to get the invalid rows with their reason")


@contacts_app.command("list")
def contacts_list(
    list_name: Annotated[str | None, typer.Option("--list", help="Only this list.")] = None,
    state: Annotated[str | None, typer.Option(help="active, invalid or blacklisted.")] = None,
    search: Annotated[str | None, typer.Option(help="Match number or name.")] = None,
    cursor: CursorOpt = None,
    limit: LimitOpt = 100,
    json_out: JsonOpt = False,
) -> None:
    """List contacts, a page at a time."""
    smscope = _app()
    with smscope.db.session() as session:
        page = book.list_contacts(session, list_name=list_name, state=state, search=search,
                                  cursor=cursor, limit=limit)
    if json_out:
        print_json(page.to_json())
        return
    zone = smscope.config.zone
    table = Table("number", "name", "state", "lists", "updated")
    for c in page.items:
        name = " ".join(x for x in (c["first_name"], c["last_name"]) if x)
        table.add_row(c["number"], name, c["state"], ", ".join(c["lists"]),
                      local_time(c["updated_at"], zone))
    out.print(table)
    if not page.items:
        out.print("no contacts; import some with 'smscope contacts import FILE --list NAME'")
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")


@contacts_app.command("restore")
def contacts_restore(
    number: Annotated[str, typer.Argument(help="The contact's number.")],
    default_region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Undo hygiene: make a contact active and put it back in the lists it left."""
    smscope = _app()
    with smscope.db.transaction() as session:
        result = book.restore(session, number, _region(smscope, default_region))
    if json_out:
        print_json(result)
    else:
        lists = ", ".join(result["lists"]) or "no list"
        out.print(f"{result['number']} is active again (back in: {lists})")


@app.command("lists")
def lists_command(json_out: JsonOpt = False) -> None:
    """Show the contact lists and how many contacts each holds."""
    smscope = _app()
    with smscope.db.session() as session:
        rows = book.lists_summary(session)
    if json_out:
        print_json({"items": rows, "next_cursor": None})
        return
    table = Table("id", "name", "contacts", "active", "invalid", "blacklisted", "created")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], f"{r['contacts']:,}", f"{r['active']:,}",
                      f"{r['invalid']:,}", f"{r['blacklisted']:,}",
                      local_time(r["created_at"], smscope.config.zone))
    out.print(table)
    if not rows:
        out.print("no lists yet; 'smscope contacts import FILE --list NAME' creates one")


# --------------------------------------------------------------------------- blacklist


@blacklist_app.command("add")
def blacklist_add(
    number: Annotated[str, typer.Argument(help="Number to blacklist.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the log).")] = "",
    default_region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Blacklist a number: it will never be texted again."""
    smscope = _app()
    with smscope.db.transaction() as session:
        entry, created = bl.add(session, number, reason=reason, source="manual", actor="cli",
                                default_region=_region(smscope, default_region))
        data = bl.entry_to_json(entry)
    if json_out:
        print_json({**data, "created": created})
    elif created:
        out.print(f"{data['number']} is blacklisted")
    else:
        out.print(f"{data['number']} was already blacklisted (since "
                  f"{local_time(data['created_at'], smscope.config.zone)})")


@blacklist_app.command("remove")
def blacklist_remove(
    number: Annotated[str, typer.Argument(help="Number to take off the blacklist.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the log).")] = "",
    default_region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take a number off the blacklist (logged); its contact becomes active again."""
    smscope = _app()
    with smscope.db.transaction() as session:
        entry = bl.remove(session, number, reason=reason, actor="cli",
                          default_region=_region(smscope, default_region))
        e164 = entry.number
    if json_out:
        print_json({"number": e164, "removed": True})
    else:
        out.print(f"{e164} is no longer blacklisted (removal logged)")


@blacklist_app.command("check")
def blacklist_check(
    number: Annotated[str, typer.Argument(help="Number to look up.")],
    default_region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Tell whether a number is blacklisted."""
    smscope = _app()
    region = _region(smscope, default_region)
    with smscope.db.session() as session:
        entry = bl.check(session, number, default_region=region)
        e164 = numbers.normalize(number, region)
        data = bl.entry_to_json(entry) if entry else None
    if json_out:
        print_json({"number": e164, "blacklisted": data is not None, "entry": data})
    elif data:
        out.print(f"{e164} is blacklisted since "
                  f"{local_time(data['created_at'], smscope.config.zone)} "
                  f"({data['source']}{': ' + data['reason'] if data['reason'] else ''})")
    else:
        out.print(f"{e164} is not blacklisted")


@blacklist_app.command("list")
def blacklist_list(
    search: Annotated[str | None, typer.Option(help="Match number or reason.")] = None,
    cursor: CursorOpt = None,
    limit: LimitOpt = 100,
    json_out: JsonOpt = False,
) -> None:
    """List blacklisted numbers, a page at a time."""
    smscope = _app()
    with smscope.db.session() as session:
        page = bl.list_entries(session, search=search, cursor=cursor, limit=limit)
    if json_out:
        print_json(page.to_json())
        return
    table = Table("number", "since", "source", "reason")
    for e in page.items:
        table.add_row(e["number"], local_time(e["created_at"], smscope.config.zone),
                      e["source"], e["reason"])
    out.print(table)
    if not page.items:
        out.print("the blacklist is empty")
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")


@blacklist_app.command("export")
def blacklist_export(
    csv_file: Annotated[Path, typer.Option("--csv", help="File to write.")],
    json_out: JsonOpt = False,
) -> None:
    """Export the whole blacklist as CSV."""
    smscope = _app()
    zone = smscope.config.zone
    with smscope.db.session() as session:
        count = bl.export_csv(session, csv_file, lambda t: local_time(t, zone))
    if json_out:
        print_json({"file": str(csv_file), "rows": count})
    else:
        out.print(f"{count:,} numbers written to {csv_file}")


# --------------------------------------------------------------------------- text & money


@app.command("measure")
def measure_command(
    message: Annotated[str, typer.Argument(help="Message text ('-' reads stdin).")],
    to: Annotated[str | None, typer.Option("--to", help="Number, for the cost.")] = None,
    default_region: RegionOpt = None,
    track_links: Annotated[bool, typer.Option(
        "--track-links/--no-track-links",
        help="Count links as the tracked links a campaign sends (the default).")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Show a text's encoding, length, segments and cost, as a campaign sends it."""
    from smscope.tracking import links
    from smscope.tracking.tokens import TOKEN_LENGTH

    if message == "-":
        message = sys.stdin.read().removesuffix("\n")
    smscope = _app()
    tracked = len(links.split_links(message).links) if track_links else 0
    m = sms_text.measure(links.preview(message, smscope.config.public_url)
                         if tracked else message)
    prices = smscope.price_table()
    region = None
    if to is not None:
        e164 = numbers.normalize(to, _region(smscope, default_region))
        region = numbers.region_of(e164)
    price = prices.price_for(region)
    cost = (price * m.segments).quantize(price.__class__("0.0001"))
    data = {"encoding": m.encoding, "characters": m.characters, "units": m.units,
            "segments": m.segments, "per_segment": m.per_segment, "remaining": m.remaining,
            "region": region, "price_per_segment": price, "cost": cost,
            "tracked_links": tracked}
    if json_out:
        print_json(data)
        return
    if tracked:
        length = len(links.tracked_base(smscope.config.public_url)) + TOKEN_LENGTH
        out.print(f"{tracked} link{'s' if tracked != 1 else ''} counted as tracked "
                  f"link{'s' if tracked != 1 else ''} of {length} characters "
                  f"({smscope.config.public_url.rstrip('/')}/c/…)")
    unit = "septets" if m.encoding == "GSM-7" else "UTF-16 units"
    out.print(f"{m.encoding}, {m.characters} characters = {m.units} {unit}, "
              f"{m.segments} segment{'s' if m.segments != 1 else ''} "
              f"({m.per_segment} per segment, {m.remaining} left)")
    where = region or "default price"
    out.print(f"cost: {credits_text(cost)} credits ({credits_text(price)} per segment, {where})")


@prices_app.command("list")
def prices_list(json_out: JsonOpt = False) -> None:
    """Show the price table (credits per segment)."""
    table_ = _app().price_table()
    if json_out:
        print_json({"default": table_.default, "countries": dict(table_.by_country)})
        return
    table = Table("country", "credits per segment")
    table.add_row("default", credits_text(table_.default))
    for country, price in sorted(table_.by_country.items()):
        table.add_row(country, credits_text(price))
    out.print(table)


@prices_app.command("set")
def prices_set(
    country: Annotated[str, typer.Argument(help="ISO code (FR) or 'default'.")],
    price: Annotated[str, typer.Argument(help="Credits per segment.")],
) -> None:
    """Set the price per segment of a country (or the default)."""
    smscope = _app()
    with smscope.db.transaction() as session:
        amount = set_price(session, country, price)
    out.print(f"{country.upper() if country.lower() != 'default' else 'default'}: "
              f"{credits_text(amount)} credits per segment")


@prices_app.command("remove")
def prices_remove(country: Annotated[str, typer.Argument(help="ISO code.")]) -> None:
    """Remove a country's price: it then costs the default."""
    smscope = _app()
    with smscope.db.transaction() as session:
        remove_price(session, country)
    code = country.strip().upper()
    price = smscope.price_table().price_for(code)
    if code in smscope.config.prices:
        out.print(f"{code}: the price set in smscope is removed; the configuration file "
                  f"still sets {credits_text(price)} credits per segment", soft_wrap=True)
    else:
        out.print(f"{code} now costs the default price, {credits_text(price)} credits "
                  "per segment")


@credits_app.command("add")
def credits_add(
    amount: Annotated[str, typer.Argument(help="Credits to add.")],
    note: Annotated[str, typer.Option(help="Kept in the ledger.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Add credits to the balance."""
    smscope = _app()
    with smscope.db.transaction() as session:
        after = CreditBank(session).add(amount, note=note, actor="cli")
    if json_out:
        print_json({"balance": after.available, "reserved": after.reserved})
    else:
        out.print(f"balance: {credits_text(after.available)} credits "
                  f"({credits_text(after.reserved)} reserved)")


@credits_app.command("balance")
def credits_balance(json_out: JsonOpt = False) -> None:
    """Show the credit balance."""
    smscope = _app()
    with smscope.db.session() as session:
        balance = CreditBank(session).balance()
    if json_out:
        print_json({"balance": balance.available, "reserved": balance.reserved})
    else:
        out.print(f"balance: {credits_text(balance.available)} credits "
                  f"({credits_text(balance.reserved)} reserved)")


# --------------------------------------------------------------------------- simulator


@app.command("simulator")
def simulator_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).",
                                      min=0, max=65535)] = 2775,
    system_id: Annotated[str, typer.Option(help="system_id clients bind with.")] = "smscope",
    password: Annotated[str, typer.Option(help="Password clients bind with.")] = "secret",
    profile: Annotated[str, typer.Option(
        help="Outcome profile: realistic, instant, or a TOML file.")] = "realistic",
    seed: Annotated[int, typer.Option(help="Seed: the same seed and messages give the "
                                           "same outcomes.")] = 0,
    max_rate: Annotated[float | None, typer.Option(
        help="Most submit_sm a second; more are answered ESME_RTHROTTLED.", min=0.001)] = None,
    record: Annotated[Path | None, typer.Option(
        help="Write what the simulator did as JSON to this file on exit and on SIGUSR1.",
        dir_okay=False)] = None,
    public_url: Annotated[str | None, typer.Option(
        help="Clicks (the profile's [clicks]) open only tracked links of this URL "
             "(default: public_url of the configuration).")] = None,
    hold_receipts: Annotated[bool, typer.Option(
        "--hold-receipts",
        help="Plan receipts and replies as usual but send none until the process gets "
             "SIGUSR2; then they all go out as fast as the links allow (to measure a "
             "flood of receipts apart from submitting).")] = False,
    deliver_window: Annotated[int, typer.Option(
        help="Most deliver_sm (receipts, replies) sent and not yet answered, per "
             "session.", min=1, max=100_000)] = 100,
    json_out: JsonOpt = False,
) -> None:
    """Run the operator simulator: an SMPP 3.4 SMSC that sends receipts from a profile.

    With --hold-receipts, receipts wait for SIGUSR2 (kill -USR2 PID), which releases
    them all at once.
    """
    import asyncio

    from smscope.simulator import Simulator, load_profile, run_until_signalled

    outcome_profile = load_profile(profile)
    if record is not None and not record.parent.is_dir():
        raise UsageError(f"--record {record}: the folder {record.parent} does not exist")
    if public_url is None and outcome_profile.clicks.rate:
        public_url = _app().base_config.public_url
    simulator = Simulator(outcome_profile, seed=seed, system_id=system_id,
                          password=password, max_rate=max_rate, hold_receipts=hold_receipts,
                          deliver_window=deliver_window, public_url=public_url)

    def ready(sim: Simulator) -> None:
        limit = f", at most {max_rate:g} submit_sm/s" if max_rate else ""
        held = (f"; receipts held until SIGUSR2 (kill -USR2 {os.getpid()})"
                if hold_receipts else "")
        err.print(f"smscope simulator listening on {host}:{sim.port} (system_id "
                  f"{system_id!r}, profile {outcome_profile.name}, seed {seed}{limit}){held}; "
                  "Ctrl-C stops it", soft_wrap=True)

    result = asyncio.run(run_until_signalled(simulator, host, port, record, ready))
    if json_out:
        print_json(result.as_dict())
    else:
        out.print(f"smscope simulator: {result.summary()}", soft_wrap=True)


# --------------------------------------------------------------------------- web


def _elsewhere(public_url: str, port: int) -> bool:
    """Whether tracked links under ``public_url`` name this machine on another port than
    the one served (the default public_url is port 8000 on the loopback): their clicks
    would reach another server, or none."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return False  # a public name: a proxy in front may well map it to this port
    try:
        named = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    return named != port


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
) -> None:
    """Serve the web application (the UI, the REST API under /api/v1, tracked links
    /c/…) until interrupted; 'smscope users create EMAIL --admin' makes the first login."""
    from smscope.web import server
    from smscope.web.app import create_app

    smscope = _app()
    web = create_app(smscope)
    sock = server.bind(host, port)
    bound = sock.getsockname()[1]
    public = smscope.config.public_url.rstrip("/")
    err.print(f"smscope serving {smscope.db.display_url} on http://{host}:{bound} "
              f"(tracked links: {public}/c/…); Ctrl-C stops it", soft_wrap=True)
    if _elsewhere(public, bound):
        err.print(f"smscope: warning: tracked links point to {public}, which is not this "
                  f"server (port {bound}): set public_url in smscope.toml (or "
                  "SMSCOPE_PUBLIC_URL) to the address phones reach it at", soft_wrap=True)
    try:
        server.serve(web, sock, access_log=_state.verbose)
    finally:
        smscope.close()


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo_command(
    recipients: Annotated[int, typer.Option(help="How many recipients.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Exit after the report.")] = False,
    profile: Annotated[str, typer.Option(
        help="Simulator profile: realistic (about 2 minutes), instant, or a TOML file.")
    ] = "realistic",
    json_out: JsonOpt = False,
) -> None:
    """Send a demo campaign through the operator simulator and show its report."""
    from smscope.demo import run_demo
    from smscope.simulator import load_profile

    load_profile(profile)
    run_demo(recipients=recipients, seed=seed, json_out=json_out, no_ui=no_ui,
             console=out, err=err, profile=profile)


# --------------------------------------------------------------------------- sending

register_sending_commands(app, out, err)
register_report_commands(app, out, err)
register_message_commands(app, out, err)
register_account_commands(app, out, err)
register_webhook_commands(app, out, err)


# --------------------------------------------------------------------------- entry point


def _usage_line(exc: click.UsageError) -> str:
    message = " ".join(exc.format_message().split())
    path = exc.ctx.command_path if exc.ctx else "smscope"
    return f"{path}: {message} (see '{path} --help')"


def _argument_with_nul(command: click.Command, args: list[str]) -> str | None:
    """The option or argument whose value holds a NUL character, as ``--help`` names
    it ("--name", "NUMBER"); None when no argument holds one.

    Every command's arguments are checked here, before any is read: nothing given
    with a NUL reaches the database (PostgreSQL refuses one, SQLite would store it).
    """
    held = [arg for arg in args if NUL in arg]
    if not held:
        return None
    cmd, rest = command, list(args)
    try:
        while isinstance(cmd, click.Group):
            # the groups' own options are flags: the first other word is a command
            at = next((i for i, arg in enumerate(rest) if not arg.startswith("-")), None)
            sub = cmd.get_command(click.Context(cmd), rest[at]) if at is not None else None
            if at is None or sub is None:
                break
            cmd, rest = sub, rest[at + 1:]
        else:
            values, _, _ = cmd.make_parser(click.Context(cmd)).parse_args(rest)
            for param in cmd.params:
                if has_nul(values.get(param.name or "")):
                    return (param.human_readable_name if isinstance(param, click.Argument)
                            else max(param.opts, key=len))
    except click.ClickException:
        pass  # named by its value below
    return f"the argument {held[0]!r}"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; turn every failure into one line on stderr and an exit status."""
    args = sys.argv[1:] if argv is None else argv
    _state.debug = "--debug" in args or os.environ.get("SMSCOPE_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        where = _argument_with_nul(command, args)
        if where is not None:
            raise NulCharacterError(where)
        result = command.main(args=args, prog_name="smscope", standalone_mode=False)
    except click.UsageError as exc:
        err.print(_usage_line(exc), soft_wrap=True)
        sys.exit(2)
    except click.exceptions.Abort:
        err.print("smscope: aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("smscope: interrupted")
        sys.exit(130)
    except SmscopeError as exc:
        if _state.debug:
            traceback.print_exc()
        err.print(f"smscope: error: {exc}", soft_wrap=True, markup=False)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        err.print(f"smscope: error: {exc.format_message()}", soft_wrap=True, markup=False)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: say so in one line, the trace only on request
        if _state.debug:
            traceback.print_exc()
        err.print(f"smscope: internal error: {type(exc).__name__}: {exc} "
                  "(run again with --debug for the traceback)", soft_wrap=True, markup=False)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
