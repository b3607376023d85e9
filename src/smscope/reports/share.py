"""Share a campaign report by email (SPEC §5.1): the PDF attached to one message sent
through the configured SMTP server (``[smtp]``, CONTRACTS §3), with the key figures in
its body, and a ``shared`` event on the campaign's timeline.

The PDF is saved to a file *before* anything is sent, so that a server that is down or
refuses the message loses nothing: every error names the file. Addresses are checked
with ``email-validator`` (syntax only, no DNS: the machine may have no resolver for the
outside world) before the report is even made.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from smscope.campaigns.timeline import record
from smscope.config import Config, SMTPConfig
from smscope.db.types import utcnow
from smscope.errors import ConfigError, MailError, UsageError
from smscope.reports.campaign import campaign_report
from smscope.reports.html import ROW_LIMIT, environment
from smscope.reports.pdf import ReportPdf, pdf_from_report, pdf_from_stats
from smscope.reports.recipients import iter_recipients

__all__ = ["DEFAULT_DIRECTORY", "ShareResult", "check_addresses", "send_test_email",
           "share_report", "share_statistics"]

#: where shared PDFs are kept when the caller names no folder (relative to the working
#: directory)
DEFAULT_DIRECTORY = Path("reports")


@dataclass(frozen=True)
class ShareResult:
    """What :func:`share_report` did."""

    #: the PDF, saved before sending
    pdf: Path
    pages: int
    #: the addresses the server accepted, and those it refused with its answer
    sent_to: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)
    message_id: str = ""


def check_addresses(addresses: Iterable[str]) -> list[str]:
    """The addresses to send to, checked and normalised, duplicates dropped; raises
    :class:`~smscope.errors.UsageError` naming the first bad one."""
    checked: list[str] = []
    for raw in addresses:
        address = raw.strip()
        try:
            valid = validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise UsageError(f"{address!r} is not an email address ({exc}); "
                             "give addresses like name@example.com") from None
        normalised = valid.ascii_email or valid.normalized
        if normalised not in checked:
            checked.append(normalised)
    if not checked:
        raise UsageError("give at least one email address to send the report to")
    return checked


def share_report(session: Session, campaign_id: int, recipients: Sequence[str], *,
                 config: Config, zone: ZoneInfo | None = None, actor: str = "system",
                 directory: str | Path | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0,
                 now: datetime | None = None) -> ShareResult:
    """Email the PDF report of a campaign to ``recipients`` through ``config.smtp``.

    The PDF is first saved in ``directory`` (default :data:`DEFAULT_DIRECTORY`) as
    ``campaign-<id>-report-<local time>.pdf``; then one message goes to every address,
    and a ``shared`` event is added to the campaign's timeline in the caller's
    transaction (commit it). ``ssl_context`` verifies the server's certificate (default:
    the system's CAs, which ``SSL_CERT_FILE`` can extend).

    Raises :class:`~smscope.errors.UsageError` for a bad address,
    :class:`~smscope.errors.ConfigError` when no SMTP server is configured, and
    :class:`~smscope.errors.MailError` (one sentence naming the saved PDF) when the
    server cannot be reached, the TLS handshake or the login fails, or every recipient
    is refused. Recipients refused among others are returned in ``refused``.
    """
    addresses = check_addresses(recipients)
    smtp = _smtp_of(config)
    zone = zone or config.zone
    now = now or utcnow()
    report = campaign_report(session, campaign_id)
    rows = list(islice(iter_recipients(session, campaign_id), ROW_LIMIT))
    name = f"campaign-{campaign_id}-report-{now.astimezone(zone):%Y%m%d-%H%M%S}.pdf"
    pdf = pdf_from_report(report, rows, zone=zone, generated_at=now).save(
        Path(directory if directory is not None else DEFAULT_DIRECTORY) / name)
    subject = f"SMS campaign report: {report['name']}"
    context = {"report": report, "zone": zone, "pages": pdf.pages, "listed": pdf.listed}
    result = _deliver(pdf, addresses, smtp, subject=subject, template="share_email",
                      context=context, attachment=f"campaign-{report['id']}-report.pdf",
                      now=now, ssl_context=ssl_context, timeout=timeout)
    record(session, campaign_id, "shared",
           f"report shared by email with {', '.join(result.sent_to)}", actor=actor,
           to=list(result.sent_to), file=str(result.pdf), pages=pdf.pages)
    return result


def share_statistics(stats: Mapping[str, Any], recipients: Sequence[str], *,
                     config: Config, zone: ZoneInfo | None = None,
                     directory: str | Path | None = None,
                     ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0,
                     now: datetime | None = None) -> ShareResult:
    """Email statistics over a date range (a :func:`smscope.reports.stats.statistics`
    document) as a PDF to ``recipients``, as :func:`share_report` does a campaign's:
    the PDF is saved first (``stats-<from>-<to>-by-<period>-<local time>.pdf``), the
    same errors are raised. No timeline records it: it belongs to no campaign."""
    addresses = check_addresses(recipients)
    smtp = _smtp_of(config)
    zone = zone or config.zone
    now = now or utcnow()
    label = f"stats-{stats['from']}-{stats['to']}-by-{stats['by']}"
    pdf = pdf_from_stats(stats, zone=zone, generated_at=now).save(
        Path(directory if directory is not None else DEFAULT_DIRECTORY)
        / f"{label}-{now.astimezone(zone):%Y%m%d-%H%M%S}.pdf")
    subject = f"SMS statistics, {stats['from']} to {stats['to']}"
    return _deliver(pdf, addresses, smtp, subject=subject, template="stats_email",
                    context={"stats": stats, "zone": zone, "pages": pdf.pages},
                    attachment=f"{label}.pdf", now=now, ssl_context=ssl_context,
                    timeout=timeout)


def _smtp_of(config: Config) -> SMTPConfig:
    if not config.smtp.host:
        raise ConfigError("no SMTP server is configured; set host in the [smtp] section "
                          "of smscope.toml (or SMSCOPE_SMTP_HOST) to share reports by email")
    return config.smtp


def _deliver(pdf: ReportPdf, addresses: list[str], smtp: SMTPConfig, *, subject: str,
             template: str, context: dict[str, Any], attachment: str, now: datetime,
             ssl_context: ssl.SSLContext | None, timeout: float) -> ShareResult:
    """Send one message to ``addresses``: ``template``'s ``.txt`` and ``.html`` bodies
    rendered with ``context``, the saved ``pdf`` attached as ``attachment``."""
    assert pdf.path is not None
    env = environment()
    message = EmailMessage()
    # a campaign's name is user input: no line break may reach a header
    message["Subject"] = " ".join(subject.split())
    message["From"] = smtp.from_
    message["To"] = ", ".join(addresses)
    message["Date"] = format_datetime(now)
    domain = parseaddr(smtp.from_)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("smscope-report", domain=domain)
    message.set_content(env.get_template(f"{template}.txt").render(**context))
    message.add_alternative(env.get_template(f"{template}.html").render(**context),
                            subtype="html")
    message.add_attachment(pdf.data, maintype="application", subtype="pdf",
                           filename=attachment)
    refused = _send(message, addresses, smtp, saved=pdf.path, context=ssl_context,
                    timeout=timeout)
    return ShareResult(pdf=pdf.path, pages=pdf.pages,
                       sent_to=tuple(a for a in addresses if a not in refused),
                       refused=refused, message_id=str(message["Message-ID"]))


def send_test_email(config: Config, to: str, *, ssl_context: ssl.SSLContext | None = None,
                    timeout: float = 15.0) -> str:
    """Send a short message through ``config.smtp`` to check the settings (the
    settings page's button); returns the address it went to. Raises
    :class:`~smscope.errors.MailError` with what went wrong, as :func:`share_report`."""
    [address] = check_addresses([to])
    smtp = _smtp_of(config)
    message = EmailMessage()
    message["Subject"] = "smscope: test e-mail"
    message["From"] = smtp.from_
    message["To"] = address
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(smtp.from_)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("smscope-test", domain=domain)
    message.set_content("This message checks smscope's e-mail settings: reports shared "
                        "by e-mail leave the same way.\n")
    _send(message, [address], smtp, saved=None, context=ssl_context, timeout=timeout)
    return address


def _send(message: EmailMessage, addresses: list[str], smtp: SMTPConfig, *,
          saved: Path | None, context: ssl.SSLContext | None, timeout: float
          ) -> dict[str, str]:
    """Send ``message``; returns the recipients the server refused (others accepted).
    Every failure becomes one :class:`MailError` sentence that names ``saved`` (the
    report's PDF kept), when there is one."""
    host, port = smtp.host or "", smtp.effective_port
    server = f"the SMTP server {host}:{port}"
    kept = f"the report is saved in {saved}"
    context = context or ssl.create_default_context()

    def fail(what: str) -> MailError:
        if saved is None:
            return MailError(what)
        return MailError(f"{what}; {kept}", saved=str(saved))

    stage = "connect"  # how far it got, for the error that stops it
    try:
        client = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
                  if smtp.tls == "tls" else smtplib.SMTP(host, port, timeout=timeout))
        with client:
            client.ehlo()
            if smtp.tls == "starttls":
                if not client.has_extn("starttls"):
                    raise fail(f"{server} does not offer STARTTLS; set [smtp] tls to "
                               "\"tls\" or \"none\" as the server expects")
                client.starttls(context=context)
                client.ehlo()
            if smtp.user:
                stage = "login"
                client.login(smtp.user, smtp.password or "")
            stage = "send"
            envelope_from = parseaddr(smtp.from_)[1] or smtp.from_
            refused = client.send_message(message, from_addr=envelope_from,
                                          to_addrs=addresses)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise fail(f"{server} refused the login of {smtp.user!r} ({_answer(exc)}); "
                   "check [smtp] user and password") from None
    except smtplib.SMTPNotSupportedError as exc:
        if stage == "login":
            raise fail(f"{server} offers no login (AUTH) on this connection; set [smtp] "
                       "tls to \"starttls\" or \"tls\", or remove [smtp] user") from None
        raise fail(f"{server} cannot take this message ({exc}); use ASCII addresses "
                   "or a server that supports SMTPUTF8") from None
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(f"{who}: {_answer(why)}" for who, why in exc.recipients.items())
        raise fail(f"{server} refused every recipient ({answers}); "
                   "check the addresses") from None
    except smtplib.SMTPSenderRefused as exc:
        raise fail(f"{server} refused the sender {exc.sender!r} ({_answer(exc)}); "
                   "set [smtp] from to an address the server accepts") from None
    except smtplib.SMTPResponseException as exc:
        raise fail(f"{server} refused the message ({_answer(exc)})") from None
    except smtplib.SMTPServerDisconnected:
        raise fail(f"{server} closed the connection; check [smtp] port and tls "
                   "(none, starttls or tls) against the server's settings") from None
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or exc
        raise fail(f"the TLS handshake with {server} failed ({reason}); check "
                   "[smtp] tls and that the server's certificate is trusted here "
                   "(SSL_CERT_FILE can name its CA)") from None
    except TimeoutError:
        raise fail(f"{server} did not answer within {timeout:g} s; check [smtp] host "
                   "and port") from None
    except socket.gaierror as exc:
        raise fail(f"cannot find the SMTP server {host!r} ({exc.strerror}); "
                   "check [smtp] host") from None
    except OSError as exc:
        raise fail(f"cannot connect to {server} ({exc.strerror or exc}); check [smtp] "
                   "host and port and that the server is running") from None
    return {who: _answer(why) for who, why in refused.items()}


def _answer(reply: Any) -> str:
    """An SMTP reply as ``550 no such user``: from an exception or a (code, text)."""
    if isinstance(reply, smtplib.SMTPResponseException):
        code, text = reply.smtp_code, reply.smtp_error
    else:
        code, text = reply
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"
