"""``smscope connector add NAME --provider ...``: the options each provider needs, one
clear line for what is missing or does not fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "private.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def test_each_provider_is_added_with_its_options_and_secrets_are_never_shown(
        smscope, key_file: Path) -> None:
    runs = [
        smscope("connector", "add", "tw", "--provider", "twilio", "--account-sid", "AC1",
                "--auth-token", "T0K3N-xyz", "--json"),
        smscope("connector", "add", "vg", "--provider", "vonage", "--api-key", "k",
                "--api-secret", "sec", "--signature-secret", "sig", "--signature-method",
                "sha256", "--json"),
        smscope("connector", "add", "vm", "--provider", "vonage-messages", "--application-id",
                "app", "--private-key", str(key_file), "--signature-secret", "sig", "--json"),
        smscope("connector", "add", "gen", "--provider", "generic", "--api-url",
                "https://sms.example.net/send", "--secret", "shh", "--rate", "50", "--json"),
    ]
    assert [r.code for r in runs] == [0, 0, 0, 0], [r.err for r in runs]
    shown = [r.json() for r in runs]
    assert [s["settings"]["provider"] for s in shown] == ["twilio", "vonage",
                                                          "vonage-messages", "generic"]
    assert shown[0]["settings"]["auth_token"] == "***"
    assert shown[2]["settings"]["private_key"] == "***"
    listed = smscope("connector", "list", "--json")
    assert "T0K3N-xyz" not in listed.out and "BEGIN" not in listed.out and "shh" not in listed.out
    text = smscope("connector", "add", "tw2", "--provider", "twilio", "--account-sid", "AC1",
                   "--auth-token", "tok")
    assert "/hooks/tw2/twilio" in text.out


@pytest.mark.parametrize(("args", "message"), [
    (["--provider", "twilio", "--account-sid", "AC1"], "needs --auth-token"),
    (["--provider", "twilio", "--auth-token", "t"], "needs --account-sid"),
    (["--provider", "vonage", "--api-key", "k"], "needs --api-secret"),
    (["--provider", "vonage-messages", "--application-id", "a", "--signature-secret", "s"],
     "needs --private-key"),
    (["--provider", "generic", "--secret", "s"], "needs --api-url"),
    (["--provider", "generic", "--api-url", "https://x.example"], "needs --secret"),
    (["--provider", "nexmo"], "--provider must be one of"),
    (["--provider", "twilio", "--account-sid", "A", "--auth-token", "t", "--api-key", "k"],
     "--api-key is not an option of twilio"),
    (["--provider", "vonage", "--api-key", "k", "--api-secret", "s",
      "--signature-method", "sha256"], "needs --signature-secret"),
    (["--provider", "vonage", "--api-key", "k", "--api-secret", "s", "--signature-secret",
      "x", "--signature-method", "crc32"], "--signature-method must be one of"),
    (["--provider", "generic", "--api-url", "ftp://x", "--secret", "s"], "not an http(s) URL"),
    (["--provider", "twilio", "--account-sid", "A", "--auth-token", "t", "--system-id", "x"],
     "--system-id is not an option of HTTP providers"),
    (["--provider", "twilio", "--simulator"], "give either"),
    (["--simulator", "--auth-token", "t"], "add --provider"),
])
def test_missing_or_contradictory_options_are_one_clear_line(smscope, args, message) -> None:
    run = smscope("connector", "add", "c", *args)
    assert run.code != 0
    assert message in run.err, run.err
    assert len(run.err.strip().splitlines()) == 1
    assert smscope("connector", "list", "--json").json()["items"] == []


def test_a_private_key_that_is_not_one_is_refused(smscope, tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    run = smscope("connector", "add", "vm", "--provider", "vonage-messages",
                  "--application-id", "a", "--private-key", str(bad), "--signature-secret", "s")
    assert run.code != 0 and "PEM private key" in run.err
    missing = smscope("connector", "add", "vm", "--provider", "vonage-messages",
                      "--application-id", "a", "--private-key", str(tmp_path / "none.key"),
                      "--signature-secret", "s")
    assert missing.code != 0 and "cannot read it" in missing.err


def test_receipts_orphans_lists_connector_and_provider_id(smscope) -> None:
    run = smscope("receipts", "orphans", "--json")
    assert run.code == 0 and run.json()["items"] == []
