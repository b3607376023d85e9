"""The statistics of a campaign report as CSV (SPEC §5.1): one row per figure, with its
rate and the formula of the rate, so the file reads on its own in a spreadsheet.

Sections: ``category`` (the counts of CONTRACTS §5 and their rates), ``status`` (every
canonical status), ``figure`` (sent, unsubscribes, replies, clicks, cost), ``list:<name>``
(each list's categories) and ``delivery_time`` (the cumulative curve).

Also the periods of the statistics over a date range (``smscope stats --csv``, the
statistics page's CSV): one row per period.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from smscope.csvio import SafeCsvWriter
from smscope.output import credits_text
from smscope.reports.figures import FORMULAS, RATE_OF_CATEGORY

__all__ = ["PERIODS_COLUMNS", "STATISTICS_COLUMNS", "write_periods_csv",
           "write_statistics_csv"]

STATISTICS_COLUMNS = ("section", "name", "value", "rate", "formula")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _categories(section: str, figures: dict[str, Any]) -> Iterator[list[Any]]:
    recipients = figures["recipients"]
    yield [section, "recipients", recipients, "", ""]
    for category, count in figures["counts"].items():
        key = RATE_OF_CATEGORY.get(category)
        rate = figures["rates"][key] if key else _share(count, recipients)
        formula = FORMULAS[key] if key else f"{category.replace('_', ' ')} / recipients"
        yield [section, category, count, f"{rate:.4f}", formula]
    yield [section, "unsubscribes", figures["unsubscribes"],
           f"{figures['rates']['unsubscribe_rate']:.4f}", FORMULAS["unsubscribe_rate"]]


def _rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    yield from _categories("category", report)
    for status, count in report["statuses"].items():
        yield ["status", status, count, f"{_share(count, report['recipients']):.4f}",
               "messages in this status / recipients"]
    rates = report["rates"]
    yield ["figure", "sent", report["sent"], f"{rates['delivery_rate']:.4f}",
           FORMULAS["delivery_rate"]]
    yield ["figure", "replies", report["replies"], "", ""]
    yield ["figure", "stop_replies", report["stop_replies"], "", ""]
    yield ["figure", "clicks", report["clicks"], "", ""]
    yield ["figure", "unique_clicks", report["unique_clicks"],
           f"{rates['click_through_rate']:.4f}", FORMULAS["click_through_rate"]]
    yield ["figure", "cost_credits", report["cost_credits"], "", ""]
    for row in report.get("by_list", []):
        yield from _categories(f"list:{row['name']}", row)
    for point in report.get("delivery_times", []):
        bound = point["within_seconds"]
        yield ["delivery_time", f"within {bound} s" if bound is not None else "later",
               point["cumulative"], f"{point['share']:.4f}",
               "received within this time of the first submit / received"]


def write_statistics_csv(stream: IO[str], report: dict[str, Any]) -> int:
    """Write the statistics of ``report`` (a :func:`campaign_report`) as CSV; open the
    stream with :func:`smscope.csvio.open_export`. Returns the number of rows."""
    writer = SafeCsvWriter(stream, STATISTICS_COLUMNS)
    count = 0
    for row in _rows(report):
        writer.writerow(row)
        count += 1
    return count


#: the counts of a statistics row (:func:`smscope.reports.stats.stats_row`), in order
PERIOD_COUNTS = ("recipients", "sent", "received", "pending", "soft_bounce", "hard_bounce",
                 "errors", "not_sent", "blacklisted", "unsubscribes", "replies", "clicks",
                 "unique_clicks")
#: the rates of a statistics row (the campaign report's), in order
PERIOD_RATES = ("receipt_rate", "waiting_rate", "temporary_error_rate",
                "permanent_error_rate", "error_rate", "unsubscribe_rate", "delivery_rate",
                "click_through_rate")
PERIODS_COLUMNS = ("period", *PERIOD_COUNTS, "cost_credits", *PERIOD_RATES)


def write_periods_csv(stream: IO[str], document: dict[str, Any]) -> int:
    """Write the periods of a statistics document (:func:`smscope.reports.stats.
    statistics`) as CSV, one row per period with its counts, cost and rates (4 places);
    open the stream with :func:`smscope.csvio.open_export`. Returns the number of rows."""
    writer = SafeCsvWriter(stream, PERIODS_COLUMNS)
    for row in document["periods"]:
        writer.writerow([row["period"], *(row[name] for name in PERIOD_COUNTS),
                         credits_text(row["cost_credits"]),
                         *(f"{row['rates'][name]:.4f}" for name in PERIOD_RATES)])
    return len(document["periods"])
