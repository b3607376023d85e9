"""The report commands end to end: a campaign sent through the simulator, then its
statistics CSV, its recipients page by page and its streamed export."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pypdfium2

from tests.e2e.test_campaign_cli import Cli, setup_book
from tests.reports.test_share import smtp_server


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


def test_report_pdf_share_and_message_history_commands(
        smscope: Cli, tmp_path: Path, monkeypatch: Any) -> None:
    sent(smscope, tmp_path)
    made = smscope("campaign", "report", "1", "--pdf", "report.pdf")
    assert made.code == 0, made.err
    assert "report written to report.pdf" in made.out and made.err == ""
    document = pypdfium2.PdfDocument(str(tmp_path / "report.pdf"))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Soldes" in text and "+33612340001" in text
    with smtp_server() as (mailbox, port):
        monkeypatch.setenv("SMSCOPE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMSCOPE_SMTP_PORT", str(port))
        monkeypatch.setenv("SMSCOPE_SMTP_FROM", "reports@example.com")
        shared = smscope("campaign", "share", "1", "--to", "ana@example.com", "--to",
                         "nobody@example.com", "--json")
        assert shared.code == 0, shared.err
    result = shared.json()
    assert result["sent_to"] == ["ana@example.com"]
    assert list(result["refused"]) == ["nobody@example.com"]
    assert Path(tmp_path / result["pdf"]).exists() or Path(result["pdf"]).exists()
    (_, rcpt, message) = mailbox.received[0]
    assert rcpt == ["ana@example.com"] and "Soldes" in message["Subject"]
    status = smscope("campaign", "status", "1", "--json").json()
    assert any(e["kind"] == "shared" for e in status["timeline"])
    # the server is gone: one clear line, and the PDF kept
    down = smscope("campaign", "share", "1", "--to", "ana@example.com")
    assert down.code == 1 and "the report is saved in" in down.err
    assert len(down.err.strip().splitlines()) == 1
    bad = smscope("campaign", "share", "1", "--to", "not an address")
    assert bad.code == 2 and "not an email address" in bad.err

    shown = smscope("messages", "show", "1", "--json")
    assert shown.code == 0, shown.err
    history = shown.json()
    kinds = [e["kind"] for e in history["history"]]
    # the simulator may answer with the receipt before the submit is recorded
    assert kinds[0] == "created" and {"submit", "receipt", "status"} <= set(kinds)
    assert history["status"] == "received"
    table = smscope("messages", "show", "1")
    assert table.code == 0 and "received" in table.out
    missing = smscope("messages", "show", "999")
    assert missing.code == 1 and "no message 999" in missing.err
