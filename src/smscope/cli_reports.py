"""The reporting commands of the CLI: ``stats``, and the campaign report and exports.

A thin shell over :mod:`smscope.reports`; the renderings (JSON, terminal, CSV) are the
same figures the web UI and the PDF show.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from smscope.app import Smscope
from smscope.csvio import create_export
from smscope.output import credits_text, print_json
from smscope.reports.days import parse_day
from smscope.reports.exports import write_periods_csv
from smscope.reports.figures import FORMULAS
from smscope.reports.stats import GROUPINGS, ensure_days, statistics

__all__ = ["print_statistics", "register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


class _Consoles:
    out = Console(highlight=False, markup=False)
    err = Console(stderr=True, highlight=False, markup=False)


def register(app: typer.Typer, out: Console, err: Console) -> None:
    """Add the reporting commands to the main application."""
    _Consoles.out, _Consoles.err = out, err
    app.command("stats")(stats_command)


def stats_command(
    date_from: Annotated[str | None, typer.Option(
        "--from", help="First day, YYYY-MM-DD in the account's zone (default: 29 days "
                       "before --to).")] = None,
    date_to: Annotated[str | None, typer.Option(
        "--to", help="Last day, included (default: today).")] = None,
    by: Annotated[str, typer.Option(help=f"Group by {' | '.join(GROUPINGS)}.")] = "day",
    json_out: JsonOpt = False,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write the periods (counts, cost, rates) to this CSV file.",
        dir_okay=False)] = None,
    pdf_file: Annotated[Path | None, typer.Option(
        "--pdf", help="Write the statistics (totals, periods with their chart, per "
                      "country, sender and connector) as PDF.", dir_okay=False)] = None,
) -> None:
    """Statistics over a date range: per period, country, sender and connector."""
    smscope = Smscope()
    zone = smscope.config.zone
    last = parse_day(date_to, "--to") if date_to else datetime.now(zone).date()
    first = parse_day(date_from, "--from") if date_from else last - timedelta(days=29)
    if ensure_days(smscope.db, zone):
        _Consoles.err.print(f"statistics: figures now kept by day of {zone.key} "
                            "(made from the quarter-hour figures)")
    with smscope.db.session() as session:
        document = statistics(session, date_from=first, date_to=last, by=by, zone=zone)
    written: dict[str, dict[str, Any]] = {}
    if csv_file is not None:
        with create_export(csv_file) as stream:
            count = write_periods_csv(stream, document)
        written["csv"] = {"file": str(csv_file), "rows": count}
        if not json_out:
            _Consoles.out.print(f"{count:,} periods written to {csv_file}")
    if pdf_file is not None:
        from smscope.reports.pdf import pdf_from_stats  # WeasyPrint loads slowly

        pdf = pdf_from_stats(document, zone=zone).save(pdf_file)
        written["pdf"] = {"file": str(pdf_file), "pages": pdf.pages}
        if not json_out:
            _Consoles.out.print(f"statistics written to {pdf_file} ({pdf.pages} pages)")
    if written:
        if json_out:
            # one file: its object, as before; both: one object keyed by format
            print_json(next(iter(written.values())) if len(written) == 1 else written)
        return
    if json_out:
        print_json(document)
        return
    print_statistics(document, _Consoles.out)


_COLUMNS = (("recipients", "recipients"), ("sent", "sent"), ("received", "received"),
            ("pending", "pending"), ("soft_bounce", "soft b."), ("hard_bounce", "hard b."),
            ("errors", "errors"), ("not_sent", "not sent"), ("unsubscribes", "unsubs."),
            ("replies", "replies"), ("clicks", "clicks"))


def _table(title: str, key: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(key, *(label for _, label in _COLUMNS), "received %", title=title)
    for row in rows:
        table.add_row(str(row[key] if row[key] is not None else "—"),
                      *(f"{row[name]:,}" for name, _ in _COLUMNS),
                      f"{row['rates']['receipt_rate']:.1%}")
    return table


def print_statistics(document: dict[str, Any], out: Console) -> None:
    """The statistics document as terminal tables."""
    totals = document["totals"]
    first: date = document["from"]
    last: date = document["to"]
    out.print(f"statistics {first} to {last} ({document['timezone']}), by {document['by']}")
    if not totals["recipients"]:
        out.print("no messages were created in this range; widen it with --from/--to")
        return
    out.print(f"{totals['recipients']:,} recipients, {totals['sent']:,} sent, "
              f"{totals['received']:,} received ({totals['rates']['receipt_rate']:.1%}), "
              f"{totals['soft_bounce']:,} soft bounces, {totals['hard_bounce']:,} hard "
              f"bounces, {totals['replies']:,} replies, "
              f"{credits_text(totals['cost_credits'])} credits")
    out.print(_table("per period", "period", document["periods"]))
    for title, key, name in (("per country", "country", "by_country"),
                             ("per sender", "sender", "by_sender"),
                             ("per connector", "connector", "by_connector")):
        if document[name]:
            out.print(_table(title, key, document[name]))
    out.print(f"received % = {FORMULAS['receipt_rate']}")
