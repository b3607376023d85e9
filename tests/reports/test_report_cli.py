"""The report commands end to end: a campaign sent through the simulator, then its
statistics CSV, its recipients page by page and its streamed export."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.e2e.test_campaign_cli import Cli, setup_book


def sent(smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=12)
    assert smscope("connector", "add", "sim", "--simulator", "--profile", "instant").code == 0
    assert smscope("campaign", "create", "--name", "Soldes", "--sender", "SHOP", "--text",
                   "Bonjour {first_name}", "--list", "clients", "--type", "transactional",
                   "--json").code == 0
    assert smscope("campaign", "send", "1", "--wait", "--timeout", "60").code == 0


def test_report_export_and_recipients_commands(smscope: Cli, tmp_path: Path) -> None:
    sent(smscope, tmp_path)
    stats = smscope("campaign", "report", "1", "--csv", "stats.csv")
    assert stats.code == 0, stats.err
    text = (tmp_path / "stats.csv").read_text(encoding="utf-8-sig")
    rows = {(r["section"], r["name"]): r for r in csv.DictReader(text.splitlines())}
    assert rows[("category", "recipients")]["value"] == "12"
    assert rows[("category", "delivered")]["value"] == "12"
    report = smscope("campaign", "report", "1")
    assert report.code == 0 and "delivery times" in report.out and "clients" in report.out

    exported = smscope("campaign", "export", "1", "--csv", "all.csv", "--json")
    assert exported.code == 0, exported.err
    assert exported.json() == {"file": "all.csv", "rows": 12}
    raw = (tmp_path / "all.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM for spreadsheets
    lines = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(lines) == 12 and {line["status"] for line in lines} == {"received"}
    assert lines[0]["first_name"] == "P1"
    none = smscope("campaign", "export", "1", "--csv", "none.csv", "--status", "hard_bounce",
                   "--json")
    assert none.json()["rows"] == 0
    assert (tmp_path / "none.csv").read_text(encoding="utf-8-sig").startswith("number,")

    first = smscope("campaign", "recipients", "1", "--limit", "5", "--json").json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    numbers = [i["number"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        more = smscope("campaign", "recipients", "1", "--limit", "5", "--cursor", cursor,
                       "--json").json()
        numbers += [i["number"] for i in more["items"]]
        cursor = more["next_cursor"]
    assert len(numbers) == len(set(numbers)) == 12
    table = smscope("campaign", "recipients", "1", "--sort", "number", "--desc")
    assert table.code == 0 and "received" in table.out


def test_report_commands_refuse_bad_input_in_one_line(smscope: Cli, tmp_path: Path) -> None:
    sent(smscope, tmp_path)
    bad_status = smscope("campaign", "export", "1", "--csv", "x.csv", "--status", "gone")
    assert bad_status.code == 2 and "unknown status or category 'gone'" in bad_status.err
    assert not (tmp_path / "x.csv").exists()
    unwritable = smscope("campaign", "export", "1", "--csv", "missing/dir/x.csv")
    assert unwritable.code == 1 and "cannot write missing/dir/x.csv" in unwritable.err
    assert len(unwritable.err.strip().splitlines()) == 1
    unknown = smscope("campaign", "export", "99", "--csv", "y.csv")
    assert unknown.code == 1 and "99" in unknown.err
    bad_sort = smscope("campaign", "recipients", "1", "--sort", "colour")
    assert bad_sort.code == 2 and "cannot sort by 'colour'" in bad_sort.err
    stats_dir = smscope("campaign", "report", "1", "--csv", str(tmp_path))
    assert stats_dir.code == 1 and "cannot write" in stats_dir.err
