"""The monitoring commands of the CLI: ``messages search`` (SPEC §5.2).

A thin shell over :mod:`smscope.reports.search`: one page as JSON or a table, or the
whole result as a CSV file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from smscope.app import Smscope
from smscope.errors import UsageError
from smscope.output import credits_text, local_time, print_json
from smscope.reports.recipients import message_history
from smscope.reports.search import MessageFilters, export_csv, search_messages

__all__ = ["messages_app", "register"]

messages_app = typer.Typer(help="Every message, whatever its campaign: search, export.",
                           no_args_is_help=True)

#: longest text shown in a table cell (the JSON and the CSV have it whole)
TEXT_WIDTH = 40


class _Consoles:
    out = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)


def register(app: typer.Typer, out: Console | None = None, err: Console | None = None) -> None:
    """Add the monitoring commands to the main application."""
    _Consoles.out = out or _Consoles.out
    _Consoles.err = err or _Consoles.err
    app.add_typer(messages_app, name="messages")


@messages_app.command("search")
def messages_search(
    date_from: Annotated[str | None, typer.Option(
        "--from", help="First day, YYYY-MM-DD in the account's zone (the day a message "
                       "was created).")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", help="Last day, included.")] = None,
    campaign: Annotated[int | None, typer.Option("--campaign", help="A campaign's id.")
                        ] = None,
    sender: Annotated[str | None, typer.Option(help="Sender, exactly as sent.")] = None,
    number: Annotated[str | None, typer.Option(
        help="Recipient's number, in any format (the whole number, not a part).")] = None,
    text: Annotated[str | None, typer.Option(
        help="Text the message contains (a substring, any case).")] = None,
    status: Annotated[str | None, typer.Option(
        help="Canonical status, e.g. received, expired, test.")] = None,
    category: Annotated[str | None, typer.Option(
        help="Category, e.g. delivered, soft_bounce, hard_bounce, test.")] = None,
    connector: Annotated[str | None, typer.Option(help="Connector's name.")] = None,
    cursor: Annotated[str | None, typer.Option(
        "--cursor", help="next_cursor of the previous page.")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", help="Messages per page (1-1000, default 100).")] = None,
    json_out: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout.")] = False,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write every matching message (all pages) to this CSV file.",
        dir_okay=False)] = None,
) -> None:
    """Search every message, newest first: one page, or --csv FILE for all of them."""
    smscope = Smscope()
    filters = MessageFilters.from_options(
        date_from=date_from, date_to=date_to, campaign_id=campaign, sender=sender,
        number=number, text=text, status=status, category=category, connector=connector)
    zone, region = smscope.config.zone, smscope.config.default_region
    if csv_file is not None:
        if cursor is not None or limit is not None:
            raise UsageError("--csv writes every page of the result; drop --cursor and "
                             "--limit")
        with smscope.db.session() as session, _counting(f"Writing {csv_file.name}") as shown:
            count = export_csv(session, filters, csv_file, zone=zone, default_region=region,
                               progress=shown)
        if json_out:
            print_json({"file": str(csv_file), "rows": count})
        else:
            _Consoles.out.print(f"{count:,} messages written to {csv_file}")
        return
    with smscope.db.session() as session:
        page = search_messages(session, filters, cursor=cursor, limit=limit, zone=zone,
                               default_region=region)
    if json_out:
        print_json(page.to_json())
        return
    table = Table("id", "created", "sender", "number", "status", "credits", "sent at",
                  "status updated", "text")
    for m in page.items:
        table.add_row(str(m["id"]), local_time(m["created_at"], zone), m["sender"],
                      m["number"], m["status"], credits_text(m["credits"]),
                      local_time(m["sent_at"], zone),
                      local_time(m["status_updated_at"], zone), _short(m["text"]))
    out = _Consoles.out
    if page.items:
        out.print(table)
    elif page.searched_to is not None:
        out.print("no match yet")
    else:
        out.print("no message matches these filters" if cursor is None
                  else "no more messages")
    if page.searched_to is not None:
        out.print(f"searched the messages created back to "
                  f"{local_time(page.searched_to, zone)}; older ones may match: add "
                  f"--cursor {page.next_cursor} (same filters) to search on, or narrow "
                  "the search with --from/--to, --campaign or --sender", soft_wrap=True)
    elif page.next_cursor:
        out.print(f"more: add --cursor {page.next_cursor} (same filters) for the next "
                  "page, or --csv FILE for all of them", soft_wrap=True)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_WIDTH else flat[:TEXT_WIDTH - 1] + "…"


@contextmanager
def _counting(label: str) -> Iterator[Callable[[int], Any] | None]:
    """A line on stderr counting rows as they are written, when it is a terminal."""
    err = _Consoles.err
    if not err.is_terminal:
        yield None
        return
    with err.status(label) as status:
        yield lambda done: status.update(f"{label}: {done:,} messages")


@messages_app.command("show")
def messages_show(
    message_id: Annotated[int, typer.Argument(help="The message's id.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """One message and everything that happened to it: submits, receipts, statuses,
    clicks and replies, oldest first."""
    smscope = Smscope()
    with smscope.db.session() as session:
        history = message_history(session, message_id)
    if json_out:
        print_json(history)
        return
    out = _Consoles.out
    zone = smscope.config.zone
    name = " ".join(p for p in (history["first_name"], history["last_name"]) if p)
    out.print(f"message {history['id']} to {history['number']}"
              + (f" ({name})" if name else "")
              + (f", campaign {history['campaign_id']}" if history["campaign_id"] else "")
              + f": {history['status']} ({history['category']}), "
              f"{history['attempts']} attempt(s), {history['segments']} segment(s), "
              f"{credits_text(history['cost'])} credits", soft_wrap=True)
    out.print(f"from {history['sender']}: {history['text']}", soft_wrap=True)
    table = Table("when", "what", "details")
    for event in history["history"]:
        table.add_row(local_time(event["at"], zone), event["kind"], _details(event))
    out.print(table)


def _details(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind == "created":
        return f"created as {event['to']}" + (f" ({event['reason']})" if event.get("reason")
                                              else "")
    if kind == "status":
        return f"{event['from']} → {event['to']}: {event['reason']}"
    if kind == "submit":
        return (f"attempt {event['attempt']}, part {event['part']}, operator id "
                f"{event['operator_id'] or '—'}")
    if kind == "receipt":
        return f"stat {event['stat']} err {event['err']} → {event['mapped_status']}"
    if kind == "click":
        return event["user_agent"] or "a click"
    if kind == "reply":
        return event["text"] + (" (STOP)" if event["is_stop"] else "")
    return ""
