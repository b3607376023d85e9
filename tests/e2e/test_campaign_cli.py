"""The sending commands end to end: import → campaign → simulator → receipts → report,
and a clear one-line error for each mistake a user can make."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

Cli = Callable[..., Run]


def setup_book(smscope: Cli, tmp_path: Path, count: int = 40) -> None:
    rows = ["prenom,telephone,ville"] + [
        f"P{i},06 12 34 {i // 100:02d} {i % 100:02d},{'Lyon' if i % 2 else ''}"
        for i in range(1, count + 1)]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert smscope("contacts", "import", "c.csv", "--list", "clients",
                   "--default-region", "FR").code == 0
    assert smscope("credits", "add", "1000").code == 0


def test_campaign_sent_through_the_simulator_reports_every_recipient(
        smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path)
    (tmp_path / "extra.txt").write_text("+33698765432\nnot a number\n", encoding="utf-8")
    assert smscope("blacklist", "add", "+33612340001").code == 0
    # two receiver binds: receipts come in on both, and are all counted once
    added = smscope("connector", "add", "sim", "--simulator", "--profile", "instant",
                    "--receivers", "2", "--json")
    assert added.code == 0, added.err
    created = smscope("campaign", "create", "--name", "Soldes", "--sender", "SHOP",
                      "--text", "Bonjour {first_name}, -20 % à {ville|votre magasin}",
                      "--list", "clients", "--numbers", "extra.txt",
                      "--type", "transactional", "--connector", "sim", "--json")
    assert created.code == 0, created.err
    assert created.json() == {"id": 1}
    sent = smscope("campaign", "send", "1", "--wait", "--timeout", "60", "--json")
    assert sent.code == 0, sent.err
    report = smscope("campaign", "report", "1", "--json").json()
    assert report["state"] == "completed"
    assert report["recipients"] == 42
    assert sum(report["statuses"].values()) == sum(report["counts"].values()) == 42
    assert report["statuses"]["received"] == 40
    assert report["statuses"]["blacklisted"] == 1
    assert report["statuses"]["invalid_number"] == 1
    assert report["sent"] == 40
    assert report["rates"]["receipt_rate"] == pytest.approx(40 / 42)
    assert report["rates"]["delivery_rate"] == 1.0
    assert report["rates"]["unsubscribe_rate"] == pytest.approx(1 / 42)
    assert report["cost_credits"] == 40
    assert set(report["formulas"]) >= set(report["rates"])
    assert smscope("credits", "balance", "--json").json() == {"balance": 960, "reserved": 0}
    status = smscope("campaign", "status", "1", "--json").json()
    assert [e["kind"] for e in status["timeline"]] == ["created", "started", "completed"]
    readable = smscope("campaign", "report", "1")
    assert readable.code == 0 and "delivery rate 100.0%" in readable.out


def test_campaign_lifecycle_commands_and_their_refusals(smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=5)
    smscope("connector", "add", "sim", "--simulator", "--profile", "instant")
    created = smscope("campaign", "create", "--name", "Later", "--sender", "SHOP", "--text",
                      "Hi", "--list", "clients", "--schedule", "2099-01-01T09:00", "--json")
    campaign_id = created.json()["id"]
    sent = smscope("campaign", "send", str(campaign_id), "--json")
    assert sent.code == 0 and sent.json()["state"] == "scheduled"
    assert smscope("campaign", "pause", str(campaign_id), "--json").json()["state"] == "paused"
    assert smscope("campaign", "resume", str(campaign_id), "--json").json()["state"] == \
        "scheduled"
    again = smscope("campaign", "send", str(campaign_id))
    assert again.code == 2 and "only a draft can be sent" in again.err
    cancelled = smscope("campaign", "cancel", str(campaign_id), "--json")
    assert cancelled.json()["state"] == "cancelled"
    twice = smscope("campaign", "cancel", str(campaign_id))
    assert twice.code == 2 and "already cancelled" in twice.err
    listed = smscope("campaign", "list", "--json").json()
    assert [(c["id"], c["state"]) for c in listed["items"]] == [(campaign_id, "cancelled")]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--connector", "nope"], 1, "unknown connector 'nope' (known: sim)"),
        (["--list", "nope"], 1, "nope"),
        (["--text", "Hi {shoe_size}"], 1, "{shoe_size}"),
        (["--schedule", "2020-01-01T00:00"], 2, "is in the past"),
        (["--schedule", "tomorrow"], 2, "not an ISO 8601"),
        (["--sender", "A much too long sender"], 2, "sender"),
        (["--type", "spam"], 2, "marketing or transactional"),
        (["--numbers", "missing.txt"], 1, "missing.txt: no such file"),
        (["--validity", "soon"], 2, "--validity"),
    ],
)
def test_campaign_create_mistakes_are_one_line(smscope: Cli, tmp_path: Path,
                                               args: list[str], code: int, says: str) -> None:
    setup_book(smscope, tmp_path, count=3)
    smscope("connector", "add", "sim", "--simulator")
    base = {"--name": "N", "--sender": "SHOP", "--text": "Hi", "--list": "clients"}
    for flag in args[::2]:
        base.pop(flag, None)
    flat = [x for pair in base.items() for x in pair]
    run = smscope("campaign", "create", *flat, *args)
    assert run.code == code, run.err
    assert run.err.count("\n") == 1 and says in run.err, run.err


def test_sending_errors_are_one_line(smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=3)
    no_recipients = smscope("campaign", "create", "--name", "N", "--sender", "SHOP",
                            "--text", "Hi")
    assert no_recipients.code == 2 and "needs recipients" in no_recipients.err
    missing = smscope("campaign", "report", "99")
    assert missing.code == 1 and "campaign 99 does not exist" in missing.err
    created = smscope("campaign", "create", "--name", "N", "--sender", "SHOP", "--text", "Hi",
                      "--list", "clients", "--json").json()
    no_connector = smscope("campaign", "send", str(created["id"]))
    assert no_connector.code == 2 and "has no connector" in no_connector.err
    worker = smscope("worker")
    assert worker.code == 1 and "no connector to send through" in worker.err
    bad = smscope("connector", "add", "x", "--smpp", "nohost")
    assert bad.code == 2 and "HOST:PORT" in bad.err
    both = smscope("connector", "add", "x", "--simulator", "--smpp", "h:1")
    assert both.code == 2 and "either" in both.err
    profile = smscope("connector", "add", "x", "--simulator", "--profile", "nope")
    assert profile.code == 1 and "neither a built-in profile" in profile.err
    receivers = smscope("connector", "add", "x", "--simulator", "--receivers", "17")
    assert receivers.code != 0 and "receivers must be a whole number from 1 to 16" in receivers.err


def test_empty_list_campaign_is_refused_at_send_and_stays_a_draft(smscope: Cli,
                                                                  tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=2)
    (tmp_path / "empty.csv").write_text("phone\n", encoding="utf-8")
    smscope("contacts", "import", "empty.csv", "--list", "empty")
    smscope("connector", "add", "sim", "--simulator")
    created = smscope("campaign", "create", "--name", "N", "--sender", "SHOP", "--text", "Hi",
                      "--list", "empty", "--json").json()
    refused = smscope("campaign", "send", str(created["id"]))
    assert refused.code == 2 and "has no recipients" in refused.err
    status = smscope("campaign", "status", str(created["id"]), "--json").json()
    assert status["state"] == "draft"
    assert smscope("credits", "balance", "--json").json()["reserved"] == 0


def test_test_sends_go_before_the_campaign_and_stay_out_of_its_figures(
        smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=5)
    smscope("connector", "add", "sim", "--simulator", "--profile", "instant")
    created = smscope("campaign", "create", "--name", "N", "--sender", "SHOP", "--text",
                      "Hi {first_name}", "--list", "clients", "--type", "transactional",
                      "--json").json()
    campaign_id = str(created["id"])
    tested = smscope("campaign", "test", campaign_id, "--to", "+33 6 12 34 00 01",
                     "--to", "+33698765432", "--wait", "--json")
    assert tested.code == 0, tested.err
    assert [(t["number"], t["status"]) for t in tested.json()["items"]] == [
        ("+33612340001", "received"), ("+33698765432", "received")]
    assert smscope("credits", "balance", "--json").json()["balance"] == 998
    assert smscope("campaign", "status", campaign_id, "--json").json()["state"] == "draft"
    sent = smscope("campaign", "send", campaign_id, "--wait", "--json").json()
    assert sent["recipients"] == 5 and sum(sent["statuses"].values()) == 5
    assert sent["sent"] == 5 and sent["cost_credits"] == 5
    assert len(sent["tests"]) == 2
    blocked = smscope("blacklist", "add", "+33698765432")
    assert blocked.code == 0
    done = smscope("campaign", "test", campaign_id, "--to", "+33698765432")
    assert done.code == 2 and "is completed" in done.err
    other = smscope("campaign", "create", "--name", "M", "--sender", "SHOP", "--text", "Hi",
                    "--list", "clients", "--json").json()
    refused = smscope("campaign", "test", str(other["id"]), "--to", "+33698765432")
    assert refused.code == 2 and "on the blacklist" in refused.err


def test_a_draft_can_be_edited_a_started_campaign_cannot(smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=2)
    smscope("connector", "add", "sim", "--simulator", "--profile", "instant")
    campaign_id = str(smscope("campaign", "create", "--name", "N", "--sender", "SHOP",
                              "--text", "Hi", "--list", "clients", "--type",
                              "transactional", "--json").json()["id"])
    edited = smscope("campaign", "edit", campaign_id, "--text", "Hello {first_name}",
                     "--name", "Renamed", "--json")
    assert edited.code == 0 and edited.json()["state"] == "draft"
    bad = smscope("campaign", "edit", campaign_id, "--text", "Hi {nope}")
    assert bad.code == 1 and "{nope}" in bad.err
    nothing = smscope("campaign", "edit", campaign_id)
    assert nothing.code == 2 and "nothing to change" in nothing.err
    report = smscope("campaign", "send", campaign_id, "--wait", "--json").json()
    assert report["name"] == "Renamed" and report["text"] == "Hello {first_name}"
    late = smscope("campaign", "edit", campaign_id, "--name", "Late")
    assert late.code == 2 and "can be edited" in late.err
    kinds = [e["kind"] for e in
             smscope("campaign", "status", campaign_id, "--json").json()["timeline"]]
    assert kinds == ["created", "edited", "started", "completed"]


def test_stale_orphan_receipts_are_reported(smscope: Cli, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from smscope.db import Database
    from smscope.db.tables import Receipt

    empty = smscope("receipts", "orphans")
    assert empty.code == 0 and "no receipt has waited" in empty.out
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    old = datetime.now(UTC) - timedelta(hours=1)
    with db.transaction() as session:
        session.add(Receipt(raw="id:abc stat:DELIVRD", operator_id="abc", stat="DELIVRD",
                            state="orphan", received_at=old, dedup_key="k1"))
        session.add(Receipt(raw="id:new stat:DELIVRD", operator_id="new", stat="DELIVRD",
                            state="orphan", received_at=datetime.now(UTC), dedup_key="k2"))
    db.dispose()
    listed = smscope("receipts", "orphans", "--json").json()
    assert listed["count"] == 1 and listed["items"][0]["operator_id"] == "abc"
    readable = smscope("receipts", "orphans", "--older-than", "0s")
    assert "2 receipts have waited more than 0s" in readable.out
    one = smscope("receipts", "orphans", "--older-than", "30m")
    assert "1 receipt has waited more than 30m" in one.out
    bad = smscope("receipts", "orphans", "--older-than", "soon")
    assert bad.code == 2 and "--older-than" in bad.err


def test_every_distinct_bad_number_is_a_recipient_even_when_they_start_alike(
        smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=1)
    smscope("connector", "add", "sim", "--simulator", "--profile", "instant")
    (tmp_path / "bad.txt").write_text(
        "+33 6 12 34 56 78 90 (1)\n+33 6 12 34 56 78 90 (2)\n+33 6 12 34 56 78 90 (1)\n",
        encoding="utf-8")
    created = smscope("campaign", "create", "--name", "N", "--sender", "SHOP", "--text", "Hi",
                      "--list", "clients", "--numbers", "bad.txt", "--type", "transactional",
                      "--json").json()
    report = smscope("campaign", "send", str(created["id"]), "--wait", "--json").json()
    assert report["recipients"] == 3
    assert report["statuses"]["invalid_number"] == 2


def test_a_connector_of_the_configuration_file_can_be_named_at_create(
        smscope: Cli, tmp_path: Path) -> None:
    setup_book(smscope, tmp_path, count=2)
    (tmp_path / "smscope.toml").write_text(
        '[connectors.filed]\ntype = "simulator"\nprofile = "instant"\n', encoding="utf-8")
    created = smscope("campaign", "create", "--name", "N", "--sender", "SHOP", "--text", "Hi",
                      "--list", "clients", "--type", "transactional", "--connector", "filed",
                      "--json")
    assert created.code == 0, created.err
    report = smscope("campaign", "send", str(created.json()["id"]), "--wait", "--json").json()
    assert report["connector"] == "filed" and report["statuses"]["received"] == 2
    listed = smscope("connector", "list", "--json").json()
    assert [(c["name"], c["source"]) for c in listed["items"]] == [("filed", "config")]
