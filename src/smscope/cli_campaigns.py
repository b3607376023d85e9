"""The sending commands of the CLI: ``connector``, ``campaign`` and ``worker``.

A thin shell over :mod:`smscope.campaigns` and :mod:`smscope.connectors`, kept apart
from :mod:`smscope.cli` (address book, prices, database) so each stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smscope.app import Smscope
from smscope.campaigns import service, timeline
from smscope.campaigns.fanout import parse_numbers
from smscope.campaigns.numbers_file import read_numbers
from smscope.campaigns.worker import Worker
from smscope.config import parse_duration
from smscope.connectors import options, registry
from smscope.csvio import create_export
from smscope.db.tables import Campaign
from smscope.db.types import utcnow
from smscope.errors import SmscopeError, UsageError
from smscope.output import credits_text, local_time, print_json
from smscope.reports.campaign import FORMULAS, campaign_report
from smscope.reports.exports import write_statistics_csv
from smscope.reports.figures import RATE_OF_CATEGORY
from smscope.reports.recipients import (
    SORTS,
    iter_recipients,
    recipients_page,
    write_recipients_csv,
)

__all__ = ["campaign_app", "connector_app", "register"]

connector_app = typer.Typer(help="Operator connections (SMPP, simulator, HTTP providers).",
                            no_args_is_help=True)
campaign_app = typer.Typer(help="Campaigns: create, send, follow, report.",
                           no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
IdArg = Annotated[int, typer.Argument(help="The campaign's id.")]
FINISHED = ("completed", "cancelled", "suspended", "paused")


class _Consoles:
    out = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)


def register(app: typer.Typer, out: Console, err: Console) -> None:
    """Add the sending commands to the main application."""
    _Consoles.out, _Consoles.err = out, err
    app.add_typer(connector_app, name="connector")
    app.add_typer(campaign_app, name="campaign")
    app.add_typer(receipts_app, name="receipts")
    app.command("worker")(worker_command)


def _zone(smscope: Smscope) -> ZoneInfo:
    return ZoneInfo(smscope.config.timezone)


# --------------------------------------------------------------------------- connectors


@connector_app.command("add")
def connector_add(
    name: Annotated[str, typer.Argument(help="A name for the connector.")],
    smpp: Annotated[str | None, typer.Option("--smpp", help="HOST:PORT of the SMSC.")] = None,
    system_id: Annotated[str | None, typer.Option(help="SMPP system_id.")] = None,
    password: Annotated[str | None, typer.Option(help="SMPP password.")] = None,
    simulator: Annotated[bool, typer.Option(
        "--simulator", help="Run the built-in operator simulator in the worker.")] = False,
    profile: Annotated[str | None, typer.Option(
        help="Simulator profile: realistic, instant or a TOML file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Simulator seed.")] = None,
    rate: Annotated[float | None, typer.Option(help="Most messages a second.")] = None,
    window: Annotated[int | None, typer.Option(help="Most submit_sm awaiting an answer.")
                      ] = None,
    receivers: Annotated[int | None, typer.Option(
        help="Binds that receive receipts and replies, 1-16 (default 1): more give "
             "larger batches where the SMSC's window is per bind.")] = None,
    split: Annotated[str | None, typer.Option(
        help="Long messages: udh8 (default), udh16, sar or payload.")] = None,
    id_format: Annotated[str | None, typer.Option(
        help="Message ids: auto (default), hex, dec or string.")] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        "--map", help="Receipt mapping override STAT[:ERR]=STATUS (repeatable).")] = None,
    provider: Annotated[str | None, typer.Option(
        help="An HTTP provider: generic, twilio, vonage or vonage-messages.")] = None,
    api_url: Annotated[str | None, typer.Option(
        help="Base URL of the provider's REST API (default: the provider's own).")] = None,
    account_sid: Annotated[str | None, typer.Option(help="Twilio account SID.")] = None,
    auth_token: Annotated[str | None, typer.Option(
        help="Twilio auth token (also checks X-Twilio-Signature).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Vonage API key.")] = None,
    api_secret: Annotated[str | None, typer.Option(help="Vonage API secret.")] = None,
    signature_secret: Annotated[str | None, typer.Option(
        help="Vonage signature secret: checks DLR signatures (SMS API) or webhook JWTs "
             "(Messages API).")] = None,
    signature_method: Annotated[str | None, typer.Option(
        help="Vonage SMS API signature method: md5hash (default), md5, sha1, sha256, "
             "sha512.")] = None,
    application_id: Annotated[str | None, typer.Option(
        help="Vonage Messages API application id.")] = None,
    private_key: Annotated[Path | None, typer.Option(
        help="Vonage Messages API application's private key file (PEM).")] = None,
    secret: Annotated[str | None, typer.Option(
        help="Generic provider: the shared secret that signs requests both ways.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add an SMPP connector (--smpp HOST:PORT --system-id ID --password PW), a
    simulator connector (--simulator) or an HTTP provider (--provider NAME ...)."""
    http_options = {"api_url": api_url, "account_sid": account_sid, "auth_token": auth_token,
                    "api_key": api_key, "api_secret": api_secret,
                    "signature_secret": signature_secret,
                    "signature_method": signature_method, "application_id": application_id,
                    "private_key": private_key, "secret": secret}
    if sum([bool(smpp), simulator, provider is not None]) != 1:
        raise UsageError("give either --smpp HOST:PORT (with --system-id and --password), "
                         "--simulator or --provider generic|twilio|vonage|vonage-messages")
    if provider is not None:
        _add_http_connector(name, provider, http_options, rate=rate, window=window,
                            mapping=mapping, json_out=json_out,
                            smpp_only={"--system-id": system_id, "--password": password,
                                       "--profile": profile, "--seed": seed,
                                       "--receivers": receivers, "--split": split,
                                       "--id-format": id_format})
        return
    given = [key for key, value in http_options.items() if value is not None]
    if given:
        raise UsageError(f"--{given[0].replace('_', '-')} is an option of HTTP providers: "
                         "add --provider")
    type_, settings = options.smpp_or_simulator(
        smpp=smpp, system_id=system_id, password=password, simulator=simulator,
        profile=profile, seed=seed, rate=rate, window=window, receivers=receivers,
        split=split, id_format=id_format)
    _store_connector(name, type_, settings, _overrides(mapping), json_out=json_out)


def _overrides(mapping: list[str] | None) -> dict[str, str]:
    return options.parse_mapping(mapping or [])


def _store_connector(name: str, type_: str, settings: dict[str, Any],
                     overrides: dict[str, str], *, json_out: bool, shown_as: str = "") -> None:
    smscope = Smscope()
    with smscope.db.transaction() as session:
        connector = registry.add_connector(session, name, type_, settings, overrides)
        shown = registry.connector_to_json(connector)
    if json_out:
        print_json(shown)
    else:
        _Consoles.out.print(f"connector {name} added ({shown_as or type_})")
        if type_ == "http":
            from smscope.connectors.http import hook_url

            url = hook_url(smscope.config.public_url, name, settings["provider"])
            _Consoles.out.print(f"its receipts: {url}", soft_wrap=True)


def _add_http_connector(name: str, provider: str, options: dict[str, Any], *,
                        rate: float | None, window: int | None, mapping: list[str] | None,
                        json_out: bool, smpp_only: dict[str, Any]) -> None:
    """``connector add NAME --provider ...``: the settings checked per provider
    (:func:`smscope.connectors.http.check_settings`), the private key read from its file."""
    for option, value in smpp_only.items():
        if value is not None:
            raise UsageError(f"{option} is not an option of HTTP providers")
    key_file = options.get("private_key")
    if key_file is not None:
        try:
            options["private_key"] = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--private-key {key_file}: cannot read it: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
    settings = {"provider": provider, "rate": rate, "window": window, **options}
    _store_connector(name, "http", {k: v for k, v in settings.items() if v is not None},
                     _overrides(mapping), json_out=json_out, shown_as=f"http, {provider}")


@connector_app.command("list")
def connector_list(json_out: JsonOpt = False) -> None:
    """List the connectors (the configuration file's included)."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        registry.sync_config_connectors(session, smscope.config)
        items = [registry.connector_to_json(c) for c in registry.list_connectors(session)]
    if json_out:
        print_json({"items": items, "next_cursor": None})
        return
    if not items:
        _Consoles.out.print("no connectors; add one with 'smscope connector add NAME "
                            "--simulator' or '--smpp HOST:PORT ...'")
        return
    table = Table("name", "type", "settings", "source")
    for item in items:
        settings = ", ".join(f"{k}={v}" for k, v in item["settings"].items())
        table.add_row(item["name"], item["type"], settings, item["source"])
    _Consoles.out.print(table)


@connector_app.command("remove")
def connector_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a connector no campaign uses."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        connector = registry.get_connector(session, name)
        used = session.query(Campaign).filter(Campaign.connector_id == connector.id).count()
        if used:
            raise UsageError(f"connector {name} is used by {used} campaign(s); it stays")
        session.delete(connector)
    _Consoles.out.print(f"connector {name} removed")


# --------------------------------------------------------------------------- campaigns


def _parse_schedule(value: str | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--schedule {value!r} is not an ISO 8601 date-time, e.g. "
                         "2026-12-01T09:30 or 2026-12-01T09:30+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Option(help="The campaign's name.")],
    sender: Annotated[str, typer.Option(help="Sender ID: up to 11 letters/digits, or a "
                                              "number.")],
    text: Annotated[str, typer.Option(help="The message; {first_name|default} "
                                            "placeholders.")],
    lists: Annotated[list[str] | None, typer.Option("--list", help="A target list "
                                                                   "(repeatable).")] = None,
    numbers: Annotated[Path | None, typer.Option(
        help="A file of numbers, one per line (or a CSV with a header).")] = None,
    type_: Annotated[str, typer.Option("--type", help="marketing or transactional.")
                     ] = "marketing",
    connector: Annotated[str | None, typer.Option(help="The connector to send through.")
                         ] = None,
    schedule: Annotated[str | None, typer.Option(
        help="When to send (ISO 8601; without an offset, in the account's zone).")] = None,
    validity: Annotated[str | None, typer.Option(
        help="Validity period, e.g. 48h (default: the configuration's).")] = None,
    track_links: Annotated[bool, typer.Option(
        "--track-links/--no-track-links",
        help="Send the text's links as short tracked links (counted in segments).")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Create a draft campaign; 'smscope campaign send ID' sends it."""
    smscope = Smscope()
    config = smscope.config
    raw_numbers = read_numbers(numbers) if numbers is not None else []
    if numbers is not None and not raw_numbers:
        raise UsageError(f"{numbers} holds no number")
    validity_period = service.parse_validity(validity)
    with smscope.db.transaction() as session:
        connector = registry.connector_for_campaign(session, config, connector)
        campaign = service.create_campaign(
            session, name=name, sender=sender, text=text, config=config, now=utcnow(),
            lists=lists or [], numbers=parse_numbers(raw_numbers, config.default_region),
            type_=type_, connector=connector, schedule=_parse_schedule(schedule, _zone(smscope)),
            validity=validity_period, track_links=track_links)
        campaign_id = campaign.id
    if json_out:
        print_json({"id": campaign_id})
    else:
        _Consoles.out.print(f"campaign {campaign_id} created (draft); send it with "
                            f"'smscope campaign send {campaign_id}'")


@campaign_app.command("edit")
def campaign_edit(
    campaign_id: IdArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    sender: Annotated[str | None, typer.Option(help="A new sender ID.")] = None,
    text: Annotated[str | None, typer.Option(help="A new text.")] = None,
    connector: Annotated[str | None, typer.Option(help="Another connector.")] = None,
    schedule: Annotated[str | None, typer.Option(help="A new schedule (ISO 8601).")] = None,
    no_schedule: Annotated[bool, typer.Option("--no-schedule",
                                              help="Send at once when sent.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Change a campaign that has not started."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        campaign = service.edit_campaign(
            session, campaign_id, config=smscope.config, now=utcnow(), name=name,
            sender=sender, text=text, connector=connector,
            schedule=_parse_schedule(schedule, _zone(smscope)), unschedule=no_schedule)
        state = campaign.state
    if json_out:
        print_json({"id": campaign_id, "state": state})
    else:
        _Consoles.out.print(f"campaign {campaign_id} edited ({state})")


def _progress_line(report: dict[str, Any]) -> str:
    counts = report["counts"]
    return (f"{report['state']}: {counts['delivered']:,} delivered, "
            f"{counts['pending']:,} pending, {counts['soft_bounce']:,} soft, "
            f"{counts['hard_bounce']:,} hard, {counts['error']:,} errors, "
            f"{counts['not_sent'] + counts['unsubscribed']:,} not sent")


def _report(smscope: Smscope, campaign_id: int) -> dict[str, Any]:
    with smscope.db.session() as session:
        return campaign_report(session, campaign_id)


async def wait_for_campaign(smscope: Smscope, campaign_id: int, timeout: float) -> bool:
    """Run a worker for the campaign until it is final (True) or ``timeout`` passes."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    worker = Worker(smscope, campaign_id=campaign_id)
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    finished = False
    err = _Consoles.err
    progress = Progress(TextColumn("campaign {task.fields[cid]}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.description}"),
                        TimeElapsedColumn(), console=err, transient=True,
                        disable=not err.is_terminal)
    with progress:
        bar = progress.add_task("starting", total=None, cid=campaign_id)
        while time.monotonic() < deadline and not stop.is_set():
            await asyncio.sleep(0.5)
            if task.done():
                break
            report = await asyncio.to_thread(_report, smscope, campaign_id)
            final = report["recipients"] - report["counts"]["pending"]
            progress.update(bar, total=report["recipients"], completed=final,
                            description=_progress_line(report))
            if report["state"] in FINISHED:
                finished = True
                break
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task  # re-raises what made the worker fail (no connector, bind refused)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
    return finished


@campaign_app.command("send")
def campaign_send(
    campaign_id: IdArg,
    wait: Annotated[bool, typer.Option("--wait", help="Send from this process until "
                                                      "every message is final.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many "
                                                "seconds.", min=1)] = 3600.0,
    json_out: JsonOpt = False,
) -> None:
    """Send a draft campaign now (or at its schedule). Without --wait, 'smscope worker'
    processes do the sending."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        campaign = service.send(session, campaign_id, config=smscope.config,
                                prices=smscope.price_table(), now=utcnow())
        state = campaign.state
    finished = wait and state == "sending" and asyncio.run(
        wait_for_campaign(smscope, campaign_id, timeout))
    if wait and state == "sending" and not finished:
        report = _report(smscope, campaign_id)
        raise SmscopeError(f"campaign {campaign_id} is not finished after {timeout:g}s "
                           f"({_progress_line(report)}); 'smscope worker' goes on with it")
    report = _report(smscope, campaign_id)
    if json_out:
        print_json(report)
    else:
        _Consoles.out.print(f"campaign {campaign_id}: {_progress_line(report)}")
        if not wait and state == "sending":
            _Consoles.out.print("run 'smscope worker' to send it (any number of workers)")


@campaign_app.command("test")
def campaign_test(
    campaign_id: IdArg,
    to: Annotated[list[str], typer.Option("--to", help="A number to test with "
                                                       "(repeatable).")],
    wait: Annotated[bool, typer.Option("--wait", help="Send from this process and wait "
                                                      "for the receipts.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: at most this many seconds.",
                                           min=1)] = 60.0,
    json_out: JsonOpt = False,
) -> None:
    """Send the campaign's text to a few numbers first (kept out of its figures)."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        ids = service.test_send(session, campaign_id, to, config=smscope.config, now=utcnow())
    if wait:
        asyncio.run(_wait_for_tests(smscope, campaign_id, set(ids), timeout))
    tests = [t for t in _report(smscope, campaign_id)["tests"] if t["id"] in ids]
    if json_out:
        print_json({"items": tests, "next_cursor": None})
        return
    for test in tests:
        _Consoles.out.print(f"{test['number']}: {test['status']}"
                            + (f" ({test['error']})" if test["error"] else ""))
    if not wait:
        _Consoles.out.print("a running 'smscope worker' sends them")


async def _wait_for_tests(smscope: Smscope, campaign_id: int, ids: set[int],
                          timeout: float) -> None:
    stop = asyncio.Event()
    worker = Worker(smscope, campaign_id=campaign_id)
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    pending = ("queued", "scheduled", "sent", "delivered_to_operator", "retry_scheduled")
    while time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.3)
        tests = (await asyncio.to_thread(_report, smscope, campaign_id))["tests"]
        if all(t["status"] not in pending for t in tests if t["id"] in ids):
            break
    stop.set()
    await task


@campaign_app.command("status")
def campaign_status(campaign_id: IdArg, json_out: JsonOpt = False) -> None:
    """Where a campaign stands, and its timeline."""
    smscope = Smscope()
    report = _report(smscope, campaign_id)
    with smscope.db.session() as session:
        events = [timeline.event_to_json(e) for e in timeline.timeline(session, campaign_id)]
    if json_out:
        print_json({"id": campaign_id, "state": report["state"],
                    "state_reason": report["state_reason"],
                    "recipients": report["recipients"], "counts": report["counts"],
                    "timeline": events})
        return
    zone = _zone(smscope)
    out = _Consoles.out
    out.print(f"campaign {campaign_id} {report['name']!r}: {_progress_line(report)}")
    for event in events:
        out.print(f"  {local_time(event['at'], zone)}  {event['kind']:<10} "
                  f"{event['message']} ({event['actor']})", soft_wrap=True)


def _transition(action: str, campaign_id: int, json_out: bool) -> None:
    smscope = Smscope()
    fn = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}[action]
    with smscope.db.transaction() as session:
        campaign = fn(session, campaign_id, now=utcnow())
        state = campaign.state
    if json_out:
        print_json({"id": campaign_id, "state": state})
    else:
        _Consoles.out.print(f"campaign {campaign_id} is {state}")


@campaign_app.command("pause")
def campaign_pause(campaign_id: IdArg, json_out: JsonOpt = False) -> None:
    """Stop submitting (receipts are still stored); resume later."""
    _transition("pause", campaign_id, json_out)


@campaign_app.command("resume")
def campaign_resume(campaign_id: IdArg, json_out: JsonOpt = False) -> None:
    """Resume a paused or suspended campaign."""
    _transition("resume", campaign_id, json_out)


@campaign_app.command("cancel")
def campaign_cancel(campaign_id: IdArg, json_out: JsonOpt = False) -> None:
    """Stop for good; messages not submitted stay unsent and credits are released."""
    _transition("cancel", campaign_id, json_out)


@campaign_app.command("report")
def campaign_report_command(
    campaign_id: IdArg,
    json_out: JsonOpt = False,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write the statistics (counts, rates and formulas) as CSV.")] = None,
    pdf_file: Annotated[Path | None, typer.Option(
        "--pdf", help="Write the whole report (charts, timeline, recipients) as PDF.")
                        ] = None,
) -> None:
    """The campaign's figures: counts by category and status, rates, cost, replies."""
    smscope = Smscope()
    report = _report(smscope, campaign_id)
    written = []
    if csv_file is not None:
        with create_export(csv_file) as stream:
            rows = write_statistics_csv(stream, report)
        written.append(f"{rows:,} figures written to {csv_file}")
    if pdf_file is not None:
        from smscope.reports.pdf import write_report_pdf  # WeasyPrint loads slowly

        with smscope.db.session() as session:
            pdf = write_report_pdf(session, campaign_id, pdf_file, zone=_zone(smscope))
        written.append(f"report written to {pdf_file} ({pdf.pages} pages"
                       + (f", the first {pdf.listed:,} of {pdf.recipients:,} recipients; "
                          f"all of them with 'smscope campaign export {campaign_id} --csv "
                          "FILE'" if pdf.truncated else "") + ")")
    if written and not json_out:
        for line in written:
            _Consoles.out.print(line, soft_wrap=True)
        return
    if json_out:
        print_json(report)
        return
    print_report(report, _Consoles.out)


StatusOpt = Annotated[str | None, typer.Option(
    "--status", help="Only this canonical status or category (e.g. received, hard_bounce).")]
SearchOpt = Annotated[str | None, typer.Option(
    "--search", help="Digits of the number, or part of the contact's name.")]


@campaign_app.command("export")
def campaign_export(
    campaign_id: IdArg,
    csv_file: Annotated[Path, typer.Option("--csv", help="File to write.")],
    status: StatusOpt = None,
    search: SearchOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Every recipient of the campaign as CSV (streamed: any size)."""
    smscope = Smscope()
    with smscope.db.session() as session:
        rows = iter_recipients(session, campaign_id, status=status, search=search)
        first = next(rows, None)  # a bad filter or campaign fails before the file exists
        with create_export(csv_file) as stream:
            count = write_recipients_csv(
                stream, itertools.chain([first] if first else [], rows), _zone(smscope))
    if json_out:
        print_json({"file": str(csv_file), "rows": count})
    else:
        _Consoles.out.print(f"{count:,} recipients written to {csv_file}")


@campaign_app.command("share")
def campaign_share(
    campaign_id: IdArg,
    to: Annotated[list[str], typer.Option(
        "--to", help="An email address (repeat --to for several).")],
    json_out: JsonOpt = False,
) -> None:
    """Email the PDF report through the SMTP server of the [smtp] settings."""
    from smscope.reports.share import share_report  # WeasyPrint loads slowly

    smscope = Smscope()
    # a reading session, committed at the end for the timeline entry: rendering and
    # sending take seconds, during which a write transaction would hold up receipts
    with smscope.db.session() as session:
        result = share_report(session, campaign_id, to, config=smscope.config,
                              zone=_zone(smscope), actor="cli")
        session.commit()
    if json_out:
        print_json({"sent_to": list(result.sent_to), "refused": dict(result.refused),
                    "pdf": str(result.pdf), "pages": result.pages})
        return
    _Consoles.out.print(f"report sent to {', '.join(result.sent_to)}; "
                        f"the PDF is saved in {result.pdf}", soft_wrap=True)
    for address, reason in result.refused.items():
        _Consoles.err.print(f"smscope: the server refused {address}: {reason}",
                            soft_wrap=True)


@campaign_app.command("recipients")
def campaign_recipients(
    campaign_id: IdArg,
    status: StatusOpt = None,
    search: SearchOpt = None,
    sort: Annotated[str, typer.Option(help=f"Sort by {' | '.join(SORTS)}.")] = "id",
    desc: Annotated[bool, typer.Option("--desc", help="Largest first.")] = False,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of a page.")] = None,
    limit: Annotated[int | None, typer.Option(help="Rows per page (1-1,000).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """One page of the campaign's recipients: status, attempts, errors, cost, clicks."""
    smscope = Smscope()
    with smscope.db.session() as session:
        page = recipients_page(session, campaign_id, status=status, search=search,
                               sort=sort, descending=desc, cursor=cursor, limit=limit)
    if json_out:
        print_json(page.to_json())
        return
    out = _Consoles.out
    if not page.items:
        out.print("no recipient matches" if status or search or cursor
                  else "this campaign has no recipients")
        return
    zone = _zone(smscope)
    table = Table("id", "number", "name", "status", "updated", "att.", "error", "cost",
                  "clicks", "reply")
    for row in page.items:
        name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
        table.add_row(str(row["id"]), row["number"], name, row["status"],
                      local_time(row["status_updated_at"], zone), str(row["attempts"]),
                      row["error_code"] or "", credits_text(row["cost"]), str(row["clicks"]),
                      row["reply"] or "")
    out.print(table)
    if page.next_cursor:
        out.print(f"more: add --cursor {page.next_cursor}")


def print_report(report: dict[str, Any], out: Console) -> None:
    """A readable summary of :func:`campaign_report`."""
    out.print(f"campaign {report['id']} {report['name']!r} — {report['state']}"
              + (f" ({report['state_reason']})" if report["state_reason"] else ""))
    out.print(f"sender {report['sender']}, {report['type']}, {report['segments']} segment(s) "
              f"{report['encoding']}; {report['recipients']:,} recipients, "
              f"{report['sent']:,} accepted by the operator, "
              f"{credits_text(report['cost_credits'])} credits")
    table = Table("category", "messages", "rate", "formula")
    recipients = report["recipients"] or 1
    rates = report["rates"]
    for category, count in report["counts"].items():
        key = RATE_OF_CATEGORY.get(category)
        rate = rates[key] if key else count / recipients
        table.add_row(category, f"{count:,}", f"{rate:.1%}",
                      FORMULAS.get(key, "") if key else "")
    table.add_row("unsubscribes", f"{report['unsubscribes']:,}",
                  f"{rates['unsubscribe_rate']:.1%}", FORMULAS["unsubscribe_rate"])
    out.print(table)
    statuses = Table("status", "messages")
    for status, count in report["statuses"].items():
        if count:
            statuses.add_row(status, f"{count:,}")
    out.print(statuses)
    out.print(f"delivery rate {rates['delivery_rate']:.1%} ({FORMULAS['delivery_rate']}); "
              f"{report['replies']:,} replies, {report['stop_replies']:,} STOP; "
              f"{report['clicks']:,} clicks by {report['unique_clicks']:,} recipients "
              f"({rates['click_through_rate']:.1%} of the delivered)")
    if report.get("by_list"):
        lists = Table("list", "recipients", "delivered", "soft", "hard", "errors", "not sent",
                      "received %")
        for row in report["by_list"]:
            c = row["counts"]
            lists.add_row(row["name"], f"{row['recipients']:,}", f"{c['delivered']:,}",
                          f"{c['soft_bounce']:,}", f"{c['hard_bounce']:,}", f"{c['error']:,}",
                          f"{c['not_sent'] + c['unsubscribed']:,}",
                          f"{row['rates']['receipt_rate']:.1%}")
        out.print(lists)
    curve = [p for p in report.get("delivery_times", []) if p["received"]]
    if curve:
        steps = ", ".join(
            f"{p['share']:.0%} within {_duration(p['within_seconds'])}"
            if p["within_seconds"] is not None else "the rest later" for p in curve)
        out.print(f"delivery times (first submit to receipt): {steps}")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


@campaign_app.command("list")
def campaign_list(json_out: JsonOpt = False) -> None:
    """The campaigns, newest first."""
    smscope = Smscope()
    with smscope.db.session() as session:
        rows = list(session.query(Campaign).order_by(Campaign.id.desc()).limit(1000))
        items: list[dict[str, Any]] = [
            {"id": c.id, "name": c.name, "state": c.state, "type": c.type,
             "recipients": c.recipients, "created_at": c.created_at} for c in rows]
    if json_out:
        print_json({"items": items, "next_cursor": None})
        return
    if not items:
        _Consoles.out.print("no campaigns yet; create one with 'smscope campaign create'")
        return
    table = Table("id", "name", "state", "type", "recipients", "created")
    zone = _zone(smscope)
    for item in items:
        table.add_row(str(item["id"]), item["name"], item["state"], item["type"],
                      f"{item['recipients']:,}", local_time(item["created_at"], zone))
    _Consoles.out.print(table)


# --------------------------------------------------------------------------- receipts

receipts_app = typer.Typer(help="Receipts that could not be applied.", no_args_is_help=True)


@receipts_app.command("orphans")
def receipts_orphans(
    older_than: Annotated[str, typer.Option(help="Only receipts waiting longer than this.")
                          ] = "10m",
    json_out: JsonOpt = False,
) -> None:
    """Receipts that name no message smscope sent, after waiting for one."""
    from smscope.receipts.orphans import stale_orphans

    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    smscope = Smscope()
    with smscope.db.session() as session:
        count, rows = stale_orphans(session, now=utcnow(), age=age)
    if json_out:
        print_json({"count": count, "items": rows, "next_cursor": None})
        return
    out = _Consoles.out
    if not count:
        out.print(f"no receipt has waited more than {older_than} for its message")
        return
    waited = "receipt has" if count == 1 else "receipts have"
    out.print(f"{count:,} {waited} waited more than {older_than} for a message "
              "(ids from another system, or an id format to set with --id-format):")
    zone = _zone(smscope)
    for row in rows:
        out.print(f"  #{row['id']}  {local_time(row['received_at'], zone)}  "
                  f"connector {row['connector'] or row['connector_id']}  "
                  f"id {row['operator_id']}  stat {row['stat']}", soft_wrap=True)


# --------------------------------------------------------------------------- worker


def worker_command(
    campaign: Annotated[int | None, typer.Option(help="Only this campaign.")] = None,
) -> None:
    """Send what is due and store what comes back, until stopped (Ctrl-C or SIGTERM).
    Start as many as you like: they share the work."""
    smscope = Smscope()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker = Worker(smscope, campaign_id=campaign)
        _Consoles.err.print(f"smscope worker {worker.worker_id} started; Ctrl-C stops it")
        await worker.run(stop)

    asyncio.run(run())
    _Consoles.err.print("smscope worker stopped")
