"""``smscope webhooks``: outbound status webhooks (a thin shell over
:mod:`smscope.webhooks.endpoints`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smscope.app import Smscope
from smscope.output import local_time, print_json
from smscope.webhooks import endpoints as service

__all__ = ["register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]

webhooks_app = typer.Typer(help="Outbound status webhooks: URLs that receive each status "
                                "change, signed.", no_args_is_help=True)


class _Consoles:
    out = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)


def register(app: typer.Typer, out: Console, err: Console) -> None:
    """Add ``smscope webhooks`` to the main application."""
    _Consoles.out, _Consoles.err = out, err
    app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="http:// or https:// URL that receives the "
                                            "events.")],
    campaign: Annotated[int | None, typer.Option(
        "--campaign", help="Only this campaign's messages (default: every message).")] = None,
    secret: Annotated[str | None, typer.Option(
        help="Signing secret, 16-128 characters (default: generated and printed once).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a URL that receives each status change as signed JSON, from now on."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        endpoint, used = service.add_endpoint(session, url, campaign_id=campaign, secret=secret)
        document = service.endpoint_to_json(endpoint)
    if json_out:
        print_json({**document, "secret": used if secret is None else None})
        return
    scope = f"campaign {campaign}" if campaign is not None else "every message"
    _Consoles.out.print(f"webhook {document['id']}: {document['url']} ({scope})")
    if secret is None:
        _Consoles.out.print(f"signing secret (shown once, keep it): {used}")


@webhooks_app.command("list")
def webhooks_list(json_out: JsonOpt = False) -> None:
    """List the webhooks and their deliveries by state."""
    smscope = Smscope()
    with smscope.db.session() as session:
        items = service.endpoints_with_counts(session)
    if json_out:
        print_json({"items": items, "next_cursor": None})
        return
    if not items:
        _Consoles.out.print("no webhooks; add one with 'smscope webhooks add URL'")
        return
    zone = smscope.config.zone
    table = Table("id", "url", "campaign", "created", "pending", "done", "failed")
    for item in items:
        counts = item["deliveries"]
        table.add_row(str(item["id"]), item["url"],
                      str(item["campaign_id"]) if item["campaign_id"] else "all",
                      local_time(item["created_at"], zone), f"{counts['pending']:,}",
                      f"{counts['done']:,}", f"{counts['failed']:,}")
    _Consoles.out.print(table)


@webhooks_app.command("remove")
def webhooks_remove(
    endpoint_id: Annotated[int, typer.Argument(metavar="ID", help="The webhook's id.")],
    json_out: JsonOpt = False,
) -> None:
    """Stop sending to a webhook (its delivery log is kept)."""
    smscope = Smscope()
    with smscope.db.transaction() as session:
        endpoint = service.remove_endpoint(session, endpoint_id)
        document = service.endpoint_to_json(endpoint)
    if json_out:
        print_json(document)
        return
    _Consoles.out.print(f"webhook {endpoint_id} removed ({document['url']})")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    endpoint: Annotated[int | None, typer.Option("--endpoint", help="One webhook's id.")
                        ] = None,
    state: Annotated[str | None, typer.Option(help="pending | done | failed.")] = None,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")
                      ] = None,
    limit: Annotated[int | None, typer.Option(help="Items per page (1-1000).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The delivery log, newest first: event, attempts, last error, times."""
    smscope = Smscope()
    with smscope.db.session() as session:
        rows, next_cursor = service.deliveries(session, endpoint_id=endpoint, state=state,
                                               cursor=cursor, limit=limit)
        items = [service.delivery_to_json(row) for row in rows]
    if json_out:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    if not items:
        _Consoles.out.print("no deliveries")
        return
    zone = smscope.config.zone
    table = Table("id", "webhook", "event", "status", "state", "attempts", "last attempt",
                  "last error")
    for item in items:
        table.add_row(str(item["id"]), str(item["endpoint_id"]), item["event_id"],
                      item["to_status"] or "", item["state"], str(item["attempts"]),
                      local_time(item["last_attempt_at"], zone), item["last_error"] or "")
    _Consoles.out.print(table)
    if next_cursor:
        _Consoles.out.print(f"more: --cursor {next_cursor}")
