"""Every exception smscope raises on purpose lives here.

One module, so that the CLI, the web app and the tests can tell a user's mistake (a
:class:`SmscopeError`, shown as one clear line) from a bug (anything else). Messages say
what is wrong *and* how to fix it, because they are read by people, not parsed.
"""

from __future__ import annotations


class SmscopeError(Exception):
    """Base of every error that is the user's or the environment's, not a bug."""

    #: process exit status the CLI uses for this error (2 is reserved for usage errors)
    exit_code = 1


class ConfigError(SmscopeError):
    """The configuration file, an ``SMSCOPE_*`` variable or a setting edited in smscope
    is wrong. ``loc`` is the place of the wrong value (``("smtp", "port")``), when
    known, so a form can show the error next to its field."""

    def __init__(self, message: str, *, loc: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class UsageError(SmscopeError):
    """A command was called with arguments that cannot work together."""

    exit_code = 2


class DatabaseError(SmscopeError):
    """The database cannot be reached or its schema is not the one this code needs."""


class SchemaOutdatedError(DatabaseError):
    """The database was made by an older smscope; ``smscope db upgrade`` fixes it."""


class NotFoundError(SmscopeError):
    """A named thing (list, contact, campaign, connector…) does not exist."""


class InvalidNumberError(SmscopeError, ValueError):
    """A phone number cannot be used: not a number, invalid, or cannot receive SMS.

    ``reason`` is a short machine-friendly code (``not_a_number``, ``invalid``,
    ``no_region``, ``line_type``…) so that reports can group rejections; ``str(err)``
    is the sentence for people.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class TemplateError(SmscopeError, ValueError):
    """A message template is malformed or names a placeholder that has no value."""


class ImportFileError(SmscopeError):
    """A contact file cannot be imported at all (missing, unreadable, no phone column).

    Bad *rows* never raise this: they are reported one by one and the import goes on.
    """


class ImportOptionError(ImportFileError, UsageError):
    """An import option that cannot work with this file (``--map``, ``--delimiter``…)."""


class ImportStoppedError(SmscopeError):
    """An import stopped before its end (the web server stopped): the chunks committed
    so far are kept, and the message says how to finish it."""


class OutputFileError(SmscopeError):
    """A file smscope was asked to write cannot be written."""


class InsufficientCreditError(SmscopeError):
    """A reservation or charge would take the credit balance below zero."""


class PDUError(SmscopeError, ValueError):
    """Bytes that are not a valid SMPP PDU (raised by the codec, never anything else)."""


class ReceiptFormatError(SmscopeError, ValueError):
    """A text that is not a delivery receipt (no ``id`` or no ``stat``)."""


class MailError(SmscopeError):
    """An email could not be sent: the SMTP server is unreachable, refused the login,
    the TLS handshake or the recipients. ``saved`` is the file that was kept, so that
    nothing is lost (None when nothing was made yet)."""

    def __init__(self, message: str, *, saved: str | None = None) -> None:
        super().__init__(message)
        self.saved = saved


class ConflictError(SmscopeError):
    """The thing to create already exists (a user's e-mail address…)."""


class AuthenticationError(SmscopeError):
    """Wrong credentials: an unknown account, a wrong password, a missing, wrong or
    revoked API token. The message never says which, so it tells an attacker nothing."""


class PermissionDeniedError(SmscopeError):
    """The user is known but their role does not allow this (a read-only user writing,
    a member on an admin page)."""


class ThrottledError(SmscopeError):
    """Too many wrong passwords lately: every login for that account or address is
    refused until ``retry_after`` seconds have passed."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignatureError(SmscopeError):
    """A signed request whose signature is missing, wrong or too old.

    ``missing`` tells the two apart: a request that carries no signature at all is
    unauthenticated (HTTP 401), one whose signature does not verify is forbidden (403).
    """

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class CallbackError(SmscopeError, ValueError):
    """An authenticated provider callback that is not a usable receipt (HTTP 422)."""


class ProviderError(SmscopeError):
    """An HTTP provider's configuration cannot work (a missing credential, a bad key)."""
