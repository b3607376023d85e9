"""Benchmark of the streamed CSV exports: rows per second and peak memory, for a small
export and a large one of the same kind (memory must not grow with the rows).

Run from the repository root (it reuses the databases of ``bench/reports.py``, making
them if needed)::

    .venv/bin/python bench/export.py                      # on 10,000,000 messages
    .venv/bin/python bench/export.py --messages 1000000   # quicker

* **Recipients** (``smscope campaign export``): the largest campaign of the small
  database against the largest of the large one.
* **Search** (``smscope messages search --csv``): the messages of the first two days
  against the first 6 days of the large database (about 1,000,000 rows at 10,000,000
  messages), so the large export holds at least a million rows there.

Memory is Python's own (``tracemalloc`` peak during the export), which is what an
export that kept its rows would grow. The table prints each export's figures and the
ratio of the peaks; target: the same peak (ratio near 1) whatever the number of rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reports import ZONE, Dataset, open_dataset
from smscope.csvio import create_export
from smscope.reports.recipients import iter_recipients, write_recipients_csv
from smscope.reports.search import MessageFilters, export_csv


@dataclass
class Export:
    rows: int
    seconds: float
    peak_bytes: int


def _largest(data: Dataset) -> int:
    return data.campaign(lambda campaigns: max(campaigns, key=lambda c: c["size"]))


def recipients_export(data: Dataset, path: Path) -> int:
    campaign_id = _largest(data)
    with data.database.session() as session, create_export(path) as stream:
        return write_recipients_csv(stream, iter_recipients(session, campaign_id), ZONE)


def search_export(days: int) -> Callable[[Dataset, Path], int]:
    def run(data: Dataset, path: Path) -> int:
        first = data.day(59)
        filters = MessageFilters(date_from=first, date_to=data.day(60 - days))
        with data.database.session() as session:
            return int(export_csv(session, filters, path, zone=ZONE))
    return run


def measure(run: Callable[[Dataset, Path], int], data: Dataset, folder: Path) -> Export:
    path = folder / "export.csv"
    tracemalloc.start()
    begun = time.perf_counter()
    rows = run(data, path)
    seconds = time.perf_counter() - begun
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    path.unlink(missing_ok=True)
    return Export(rows, seconds, peak)


def _shown(e: Export) -> str:
    return (f"{e.rows:,} rows, {e.seconds:.1f} s ({e.rows / e.seconds:,.0f} rows/s), "
            f"peak {e.peak_bytes / 2**20:.1f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--dir", help="folder of the cached databases (system temp folder)")
    args = parser.parse_args(argv)
    folder = Path(args.dir or tempfile.gettempdir())
    small = Dataset(*open_dataset(folder, args.baseline, False))
    large = Dataset(*open_dataset(folder, args.messages, False))
    out: list[tuple[str, Export, Export]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, small_run, large_run in (
                ("recipients CSV (largest campaign)", recipients_export, recipients_export),
                ("search CSV (2 days vs 6 days)", search_export(2), search_export(6))):
            print(f"  {name}", file=sys.stderr, flush=True)
            out.append((name, measure(small_run, small, Path(scratch)),
                        measure(large_run, large, Path(scratch))))
    print("| export | small | large | peak ratio |")
    print("|---|---|---|---:|")
    for name, a, b in out:
        print(f"| {name} | {_shown(a)} | {_shown(b)} | "
              f"{b.peak_bytes / max(a.peak_bytes, 1):.2f} |")
    small.database.dispose()
    large.database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
