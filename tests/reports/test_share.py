"""Sharing a report by email, against a real SMTP server on this machine (aiosmtpd):
plain, STARTTLS and implicit TLS with a certificate made for the test, a login, a
refused recipient, a server that is down — and the PDF kept whatever happens."""

from __future__ import annotations

import email
import email.policy
import io
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pypdf
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from smscope.campaigns.timeline import timeline
from smscope.config import Config, SMTPConfig, load_config
from smscope.db import Database
from smscope.errors import ConfigError, MailError, UsageError
from smscope.reports.share import check_addresses, share_report
from tests.reports.sample import NAME, PARIS, sent_campaign

LOCALHOST = "127.0.0.1"


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses ``nobody@…``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(LOCALHOST, "localhost").configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname=LOCALHOST, port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def config_for(port: int, **smtp: Any) -> Config:
    return Config(timezone="Europe/Paris",
                  smtp=SMTPConfig(host=LOCALHOST, port=port,
                                  **{"from": "reports@example.com", **smtp}))


def share(db: Database, campaign_id: int, config: Config, tmp_path: Path,
          to: list[str] | None = None, **kwargs: Any) -> Any:
    with db.transaction() as session:
        return share_report(session, campaign_id, to or ["ana@example.com"],
                            config=config, zone=PARIS, actor="ana",
                            directory=tmp_path / "shared", timeout=10, **kwargs)


def shared_events(db: Database, campaign_id: int) -> list[Any]:
    with db.session() as session:
        return [(e.actor, e.message, e.data) for e in timeline(session, campaign_id)
                if e.kind == "shared"]


def test_the_report_is_mailed_with_its_pdf_and_recorded(sqlite_db: Database,
                                                        tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db, name="Soldes <b>d'hiver</b> — Noël")
    with smtp_server() as (mailbox, port):
        result = share(sqlite_db, campaign_id, config_for(port), tmp_path,
                       to=[" ana@example.com", "Bob@Example.com", "ana@example.com"])
    assert result.sent_to == ("ana@example.com", "Bob@example.com") and not result.refused
    [(sender, rcpts, message)] = mailbox.received
    assert (sender, rcpts) == ("reports@example.com", ["ana@example.com", "Bob@example.com"])
    assert message["Subject"] == "SMS campaign report: Soldes <b>d'hiver</b> — Noël"
    assert message["To"] == "ana@example.com, Bob@example.com"
    assert message["From"] == "reports@example.com"
    assert message["Message-ID"].strip() == result.message_id  # folded: too long for a line
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "4 recipients, 4 accepted by an operator" in text.get_content()
    assert "Delivered: 1 (25.0%)" in text.get_content()
    assert "Soldes &lt;b&gt;d&#39;hiver&lt;/b&gt;" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"campaign-{campaign_id}-report.pdf"
    data = attachment.get_content()
    assert data.startswith(b"%PDF-") and data == result.pdf.read_bytes()
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == result.pages
    assert result.pdf.parent == tmp_path / "shared" and result.pdf.name.startswith(
        f"campaign-{campaign_id}-report-")
    [(actor, note, data_)] = shared_events(sqlite_db, campaign_id)
    assert actor == "ana" and note == (
        "report shared by email with ana@example.com, Bob@example.com")
    assert data_["to"] == ["ana@example.com", "Bob@example.com"]
    assert data_["file"] == str(result.pdf)


def test_starttls_and_login_with_a_trusted_certificate(sqlite_db: Database, tmp_path: Path,
                                                       ca: trustme.CA) -> None:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"ana"
              and auth_data.password == b"s3cret")
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535

    campaign_id = sent_campaign(sqlite_db)
    with smtp_server(tls_context=server_context(ca), require_starttls=True,
                     authenticator=authenticator, auth_required=True) as (mailbox, port):
        config = config_for(port, tls="starttls", user="ana", password="s3cret")
        result = share(sqlite_db, campaign_id, config, tmp_path,
                       ssl_context=client_context(ca))
        assert result.sent_to == ("ana@example.com",) and len(mailbox.received) == 1

        wrong = config_for(port, tls="starttls", user="ana", password="guess")
        with pytest.raises(MailError) as refused:
            share(sqlite_db, campaign_id, wrong, tmp_path, ssl_context=client_context(ca))
        no_tls = config_for(port, tls="none", user="ana", password="s3cret")
        with pytest.raises(MailError) as plain:
            share(sqlite_db, campaign_id, no_tls, tmp_path)
    assert str(refused.value).startswith(
        f"the SMTP server {LOCALHOST}:{port} refused the login of 'ana' (535 ")
    assert "check [smtp] user and password; the report is saved in " in str(refused.value)
    assert Path(refused.value.saved or "").is_file()
    assert "[smtp] tls" in str(plain.value) and len(mailbox.received) == 1
    assert len(shared_events(sqlite_db, campaign_id)) == 1


def test_implicit_tls(sqlite_db: Database, tmp_path: Path, ca: trustme.CA) -> None:
    campaign_id = sent_campaign(sqlite_db)
    with smtp_server(ssl_context=server_context(ca)) as (mailbox, port):
        result = share(sqlite_db, campaign_id, config_for(port, tls="tls"), tmp_path,
                       ssl_context=client_context(ca))
    assert result.sent_to == ("ana@example.com",) and len(mailbox.received) == 1


def test_an_untrusted_certificate_fails_the_tls_handshake(
        sqlite_db: Database, tmp_path: Path, ca: trustme.CA) -> None:
    campaign_id = sent_campaign(sqlite_db)
    with smtp_server(ssl_context=server_context(ca)) as (mailbox, port), pytest.raises(
            MailError, match=r"^the TLS handshake with the SMTP server .* failed \(unable "
                             r"to get local issuer certificate\); check \[smtp\] tls and "
                             r"that the server's certificate is trusted here") as failed:
        share(sqlite_db, campaign_id, config_for(port, tls="tls"), tmp_path)
    assert not mailbox.received and Path(failed.value.saved or "").is_file()


def test_refused_recipients(sqlite_db: Database, tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db)
    with smtp_server() as (mailbox, port):
        some = share(sqlite_db, campaign_id, config_for(port), tmp_path,
                     to=["ana@example.com", "nobody@example.com"])
        with pytest.raises(MailError) as every:
            share(sqlite_db, campaign_id, config_for(port), tmp_path,
                  to=["nobody@example.com"])
    assert some.sent_to == ("ana@example.com",)
    assert some.refused == {"nobody@example.com": "550 5.1.1 no such mailbox here"}
    assert mailbox.received[0][1] == ["ana@example.com"] and len(mailbox.received) == 1
    assert str(every.value).startswith(
        f"the SMTP server {LOCALHOST}:{port} refused every recipient "
        "(nobody@example.com: 550 5.1.1 no such mailbox here); check the addresses; "
        f"the report is saved in {tmp_path / 'shared'}")
    assert [e[2]["to"] for e in shared_events(sqlite_db, campaign_id)] == [
        ["ana@example.com"]]


def test_a_server_that_is_down_loses_nothing(sqlite_db: Database, tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db)
    port = free_port()  # nothing listens there
    with pytest.raises(MailError) as down:
        share(sqlite_db, campaign_id, config_for(port), tmp_path)
    message = str(down.value)
    assert message.startswith(f"cannot connect to the SMTP server {LOCALHOST}:{port} "
                              "(Connection refused); check [smtp] host and port and that "
                              "the server is running; the report is saved in ")
    saved = Path(down.value.saved or "")
    assert saved.parent == tmp_path / "shared" and saved.read_bytes().startswith(b"%PDF-")
    assert message.endswith(str(saved)) and "\n" not in message
    assert shared_events(sqlite_db, campaign_id) == []


def test_bad_addresses_and_a_missing_server_are_refused_before_any_work(
        sqlite_db: Database, tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db)
    attempts: list[Callable[[], Any]] = [
        lambda: share(sqlite_db, campaign_id, config_for(25), tmp_path, to=["ana"]),
        lambda: share(sqlite_db, campaign_id, config_for(25), tmp_path, to=["  "]),
        lambda: share(sqlite_db, campaign_id, Config(), tmp_path),
    ]
    errors = []
    for attempt in attempts:
        with pytest.raises((UsageError, ConfigError)) as refused:
            attempt()
        errors.append(str(refused.value))
    assert errors[0] == ("'ana' is not an email address (An email address must have an "
                         "@-sign.); give addresses like name@example.com")
    assert errors[1].startswith("'' is not an email address")
    assert errors[2].startswith("no SMTP server is configured; set host in the [smtp] "
                                "section of smscope.toml (or SMSCOPE_SMTP_HOST)")
    assert not (tmp_path / "shared").exists()
    assert check_addresses(["Zoë@Exämple.fr"]) == ["Zoë@exämple.fr"]


def test_smtp_settings_come_from_the_environment(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no smscope.toml here
    config = load_config(environ={
        "SMSCOPE_SMTP_HOST": "mail.example.com", "SMSCOPE_SMTP_PORT": "2525",
        "SMSCOPE_SMTP_USER": "ana", "SMSCOPE_SMTP_PASSWORD": "s3cret",
        "SMSCOPE_SMTP_TLS": "starttls", "SMSCOPE_SMTP_FROM": "Reports <r@example.com>"})
    smtp = config.smtp
    assert (smtp.host, smtp.port, smtp.effective_port, smtp.user, smtp.password, smtp.tls,
            smtp.from_) == ("mail.example.com", 2525, 2525, "ana", "s3cret", "starttls",
                            "Reports <r@example.com>")
    assert load_config(environ={"SMSCOPE_SMTP_TLS": "tls"}).smtp.effective_port == 465
    with pytest.raises(ConfigError, match=r"\[smtp\] tls"):
        load_config(environ={"SMSCOPE_SMTP_TLS": "ssl"})


def test_the_campaign_name_cannot_add_a_header(sqlite_db: Database, tmp_path: Path) -> None:
    campaign_id = sent_campaign(sqlite_db, name=f"{NAME}\r\nBcc: spy@example.com")
    with smtp_server() as (mailbox, port):
        share(sqlite_db, campaign_id, config_for(port), tmp_path)
    [(_, rcpts, message)] = mailbox.received
    assert rcpts == ["ana@example.com"] and message["Bcc"] is None
    assert message["Subject"] == f"SMS campaign report: {NAME} Bcc: spy@example.com"
