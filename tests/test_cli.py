"""The command line: exact contracts (JSON on stdout, one-line errors, exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def contacts_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "first_name,last_name,phone,city\n"
        "Anne,Martin,06 12 34 56 78,Paris\n"
        "Bob,Durand,+33 6 12 34 56 79,Lyon\n"
        "Carl,Petit,06 12 34 56 78,Nice\n"
        "Dan,Roux,01 42 68 53 00,Lille\n"
        "Eve,Blanc,hello,Metz\n",
        encoding="utf-8",
    )
    return path


def test_import_json_is_exactly_the_contract(smscope, tmp_path: Path) -> None:
    run = smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
                  "--default-region", "FR", "--json")
    assert run.code == 0
    assert run.json() == {"list": "vip", "rows": 5, "imported": 2, "updated": 0,
                          "duplicates": 1, "invalid": 2}
    again = smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
                    "--default-region", "fr", "--json")
    assert again.json()["updated"] == 2 and again.json()["imported"] == 0


def test_import_writes_rejects_with_their_reason(smscope, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    run = smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
                  "--default-region", "FR", "--rejects", str(rejects))
    assert run.code == 0 and "invalid" in run.out
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "first_name,last_name,phone,city,reason"
    assert lines[1].startswith("Dan,Roux,01 42 68 53 00,Lille,") and "fixed line" in lines[1]
    assert lines[2].startswith("Eve,Blanc,hello,Metz,") and "not a phone number" in lines[2]


def test_national_numbers_without_a_region_are_invalid_with_the_fix(smscope, tmp_path) -> None:
    rejects = tmp_path / "r.csv"
    run = smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
                  "--rejects", str(rejects), "--json")
    assert run.json()["invalid"] == 4  # only the +33 number has its country
    assert "default_region" in rejects.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["contacts", "import", "missing.csv", "--list", "x"], 1, "missing.csv: no such file"),
        (["contacts", "import"], 2, "Missing argument 'FILE'"),
        (["contacts", "import", "x.csv"], 2, "Missing option '--list'"),
        (["contacts", "list", "--limit", "0"], 2, "--limit must be between 1 and 1000"),
        (["contacts", "list", "--cursor", "garbage"], 2, "invalid cursor"),
        (["contacts", "list", "--list", "nope"], 1, "no list named 'nope'"),
        (["contacts", "list", "--state", "sleepy"], 2, "unknown state 'sleepy'"),
        (["blacklist", "remove", "+33612345678"], 1, "+33612345678 is not on the blacklist"),
        (["blacklist", "add", "0612345678"], 1, "default_region"),
        (["blacklist", "add", "+33 1 42 68 53 00"], 1, "fixed line"),
        (["credits", "add", "lots"], 2, "'lots' is not an amount of credits"),
        (["nonsense"], 2, "No such command 'nonsense'"),
        (["contacts", "import", "x.csv", "--list", "x", "--default-region", "ZZ"], 2,
         "--default-region 'ZZ' is not a country"),
    ],
)
def test_errors_are_one_line_on_stderr_with_the_right_exit_code(
    smscope, args: list[str], code: int, message: str
) -> None:
    run = smscope(*args)
    assert run.code == code
    assert run.out == ""
    assert run.err.count("\n") == 1, run.err
    assert message in run.err
    assert "Traceback" not in run.err


def test_unreadable_file_errors(smscope, tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(200))
    run = smscope("contacts", "import", str(tmp_path / "book.xlsx"), "--list", "x")
    assert run.code == 1 and "Excel" in run.err and run.err.count("\n") == 1
    (tmp_path / "nophone.csv").write_text("name,city\nAnne,Paris\n")
    run = smscope("contacts", "import", str(tmp_path / "nophone.csv"), "--list", "x")
    assert run.code == 1 and "no phone column" in run.err and "--phone-column" in run.err


def test_contacts_list_pages_through_everything(smscope, tmp_path: Path) -> None:
    smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
            "--default-region", "FR")
    first = smscope("contacts", "list", "--limit", "1", "--json").json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = smscope("contacts", "list", "--limit", "1", "--cursor", first["next_cursor"],
                     "--json").json()
    assert second["next_cursor"] is None
    numbers = [first["items"][0]["number"], second["items"][0]["number"]]
    assert numbers == ["+33612345678", "+33612345679"]
    item = first["items"][0]
    assert item["lists"] == ["vip"] and item["fields"] == {"city": "Paris"}
    assert item["created_at"].endswith("Z")


def test_blacklist_round_trip(smscope, tmp_path: Path) -> None:
    smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
            "--default-region", "FR")
    added = smscope("blacklist", "add", "+33 6 12 34 56 78", "--reason", "=cmd|' /C calc'!A0",
                    "--json")
    assert added.code == 0 and added.json()["created"] is True
    again = smscope("blacklist", "add", "+33612345678", "--json")
    assert again.json()["created"] is False
    state = smscope("contacts", "list", "--state", "blacklisted", "--json").json()
    assert [c["number"] for c in state["items"]] == ["+33612345678"]
    check = smscope("blacklist", "check", "+33612345678", "--json").json()
    assert check["blacklisted"] is True
    export = tmp_path / "bl.csv"
    assert smscope("blacklist", "export", "--csv", str(export)).code == 0
    raw = export.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "number,reason,source,actor,created_at"
    assert lines[1].startswith("+33612345678,'=cmd")
    listed = smscope("blacklist", "list", "--json").json()
    assert listed["next_cursor"] is None and len(listed["items"]) == 1
    removed = smscope("blacklist", "remove", "+33612345678", "--reason", "asked again")
    assert removed.code == 0
    state = smscope("contacts", "list", "--state", "active", "--json").json()
    assert "+33612345678" in [c["number"] for c in state["items"]]


def test_credits_and_prices(smscope) -> None:
    assert smscope("credits", "balance", "--json").json() == {"balance": 0, "reserved": 0}
    assert smscope("credits", "add", "12.5", "--json").json() == {"balance": 12.5, "reserved": 0}
    assert smscope("prices", "set", "fr", "0.065").code == 0
    measured = smscope("measure", "x" * 161, "--to", "+33612345678", "--json").json()
    assert measured["segments"] == 2 and measured["encoding"] == "GSM-7"
    assert measured["cost"] == 0.13 and measured["region"] == "FR"
    prices = smscope("prices", "list", "--json").json()
    assert prices == {"default": 1, "countries": {"FR": 0.065}}


def test_measure_shows_encoding_and_segments(smscope) -> None:
    run = smscope("measure", "Prix: 10€ {promo}")
    assert run.code == 0 and "GSM-7" in run.out and "1 segment" in run.out
    ucs = smscope("measure", "Merci 😀", "--json").json()
    assert ucs["encoding"] == "UCS-2" and ucs["units"] == 8


def test_lists_json_is_a_page(smscope, tmp_path: Path) -> None:
    smscope("contacts", "import", str(contacts_file(tmp_path)), "--list", "vip",
            "--default-region", "FR")
    lists = smscope("lists", "--json").json()
    assert lists["next_cursor"] is None
    assert lists["items"][0]["name"] == "vip" and lists["items"][0]["contacts"] == 2


def test_db_upgrade_reports_the_revision(smscope) -> None:
    first = smscope("db", "upgrade", "--json").json()
    assert first["from"] is None and first["to"]
    second = smscope("db", "upgrade", "--json").json()
    assert second["from"] == second["to"]


def test_the_installed_command_runs_as_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCOPE_")}
    env["SMSCOPE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'p.db'}"
    done = subprocess.run([sys.executable, "-m", "smscope", "credits", "balance", "--json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"balance": 0, "reserved": 0}
    bad = subprocess.run([sys.executable, "-m", "smscope", "contacts", "import", "nope.csv",
                          "--list", "x"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=False, stdin=subprocess.DEVNULL)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["smscope: error: nope.csv: no such file"]


def test_a_bad_config_file_is_one_line(smscope, tmp_path: Path) -> None:
    (tmp_path / "smscope.toml").write_text("[smtp]\nport = 'x'\n")
    run = smscope("credits", "balance")
    assert run.code == 1 and run.err.count("\n") == 1 and "[smtp] port" in run.err


def test_demo_sends_a_campaign_with_exactly_n_recipients_in_a_new_database(
        smscope, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SMSCOPE_DATABASE_URL")
    first = smscope("demo", "--recipients", "300", "--profile", "instant", "--no-ui", "--json")
    assert first.code == 0, first.err
    report = first.json()
    assert "database: sqlite:///smscope-demo.db (new)" in first.err
    assert report["state"] == "completed"
    assert report["recipients"] == 300
    assert sum(report["statuses"].values()) == sum(report["counts"].values()) == 300
    assert report["statuses"]["blacklisted"] == 2
    assert 0 < report["statuses"]["invalid_number"] < 30
    assert report["statuses"]["received"] == 300 - 2 - report["statuses"]["invalid_number"]
    assert "campaign report 1" in first.err
    second = smscope("demo", "--recipients", "10", "--profile", "instant", "--no-ui",
                     "--json")
    assert second.code == 0, second.err
    assert "database: sqlite:///smscope-demo-2.db (new)" in second.err
    assert second.json()["recipients"] == 10
    assert (tmp_path / "smscope-demo.db").exists()


def test_demo_adds_a_list_and_a_campaign_to_the_database_named_by_the_environment(
        smscope, tmp_path: Path) -> None:
    first = smscope("demo", "--recipients", "20", "--seed", "1", "--profile", "instant",
                    "--no-ui", "--json")
    assert first.code == 0, first.err
    again = smscope("demo", "--recipients", "20", "--seed", "2", "--profile", "instant",
                    "--no-ui", "--json")
    assert again.code == 0, again.err
    assert f"database: sqlite:///{tmp_path / 'cli.db'}" in again.err
    assert again.json()["id"] == first.json()["id"] + 1
    lists = smscope("lists", "--json").json()
    assert len([row for row in lists["items"] if row["name"].startswith("demo ")]) == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["measure", "hi", "--to", "hello"], 1, "'hello' is not a phone number"),
        (["measure", "hi", "--to", "0612345678"], 1, "default_region"),
        (["prices", "set", "France", "1"], 2, "'France' is not a country"),
        (["prices", "set", "FR", "1e30"], 2, "more than the largest amount"),
        (["prices", "set", "FR", "--", "-2"], 2, "cannot be negative"),
        (["prices", "remove", "ZZ"], 1, "no price is set for 'ZZ'"),
        (["credits", "add", "1e30"], 2, "more than the largest amount"),
        (["credits", "add", "0"], 2, "adding 0 credits changes nothing"),
        (["contacts", "restore", "+33612345678"], 1, "no contact with the number +33612345678"),
        (["contacts", "restore", "nope"], 1, "not a phone number"),
        (["blacklist", "check", "12"], 1, "12"),
        (["blacklist", "export", "--csv", "/no/such/dir/x.csv"], 1, "cannot write"),
        (["contacts", "import", "c.csv", "--list", "x", "--delimiter", "ab"], 2,
         "--delimiter must be one character"),
        (["contacts", "import", "c.csv", "--list", "x", "--map", "phone"], 2, "COLUMN=FIELD"),
        (["contacts", "import", "c.csv", "--list", "x", "--phone-column", "fax"], 2,
         "column 'fax', which is not in the header"),
        (["contacts", "import", "c.csv", "--list", " "], 2, "--list needs a name"),
    ],
)
def test_more_bad_input_gets_one_clear_line(smscope, tmp_path: Path, args: list[str],
                                            code: int, message: str) -> None:
    (tmp_path / "c.csv").write_text("phone,name\n+33612345678,Ann\n")
    run = smscope(*args)
    assert (run.code, run.out) == (code, "")
    assert run.err.count("\n") == 1 and message in run.err, run.err
    assert "internal error" not in run.err


def test_a_bad_price_in_the_config_names_its_place(smscope, tmp_path: Path) -> None:
    (tmp_path / "smscope.toml").write_text("[prices]\nFR = 'abc'\n")
    run = smscope("prices", "list")
    assert run.code == 1 and "[prices] FR" in run.err and "not an amount" in run.err


def test_version(smscope) -> None:
    run = smscope("--version")
    assert run.code == 0 and run.out.startswith("smscope ")


def test_db_status_says_whether_an_upgrade_is_needed(smscope) -> None:
    before = smscope("db", "status", "--json").json()
    assert before["current"] is None and before["up_to_date"] is False
    smscope("db", "upgrade")
    after = smscope("db", "status", "--json").json()
    assert after["up_to_date"] is True and after["current"] == after["head"]


def test_prices_remove_goes_back_to_the_default(smscope) -> None:
    smscope("prices", "set", "BE", "0.2")
    run = smscope("prices", "remove", "be")
    assert run.code == 0 and "BE now costs the default price, 1 credits" in run.out
    assert smscope("prices", "list", "--json").json()["countries"] == {}


def test_rejects_header_is_neutralised_too(smscope, tmp_path: Path) -> None:
    (tmp_path / "evil.csv").write_text("phone,=cmd|' /C calc'!A0\nabc,x\n")
    smscope("contacts", "import", "evil.csv", "--list", "x", "--rejects", "r.csv")
    header = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("phone,'=cmd")


def test_control_characters_in_names_reach_the_terminal_as_visible_escapes(
        smscope, tmp_path: Path) -> None:
    """A name from a CSV file (or the web app) holding a terminal escape sequence is
    shown escaped: listing contacts must not retitle or clear the reader's terminal."""
    path = tmp_path / "evil.csv"
    path.write_text("phone,first_name\n+33612345678,\x1b]0;pwned\x07Ana\x1b[2J\n",
                    encoding="utf-8")
    assert smscope("contacts", "import", str(path), "--list", "l").code == 0
    listed = smscope("contacts", "list")
    assert listed.code == 0, listed.err
    assert "\x1b" not in listed.out and "\x07" not in listed.out
    assert "\\x1b]0;pwned\\x07Ana\\x1b[2J" in listed.out
    # the JSON keeps the name exactly, escaped the JSON way
    as_json = smscope("contacts", "list", "--json")
    assert as_json.json()["items"][0]["first_name"] == "\x1b]0;pwned\x07Ana\x1b[2J"
    assert "\x1b" not in as_json.out
