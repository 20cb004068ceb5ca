"""Sending one message with a commit point.

SMTP has one irrevocable step: the "." that ends DATA. Until the server has
it, dropping the connection discards the message (RFC 5321 §4.1.1.4); once
the server answers 250 it is delivered. So the outbox records "handed over"
(`Reminder.send_started_at`) at the last moment, after the body went out and
before the final dot. A crash before that point leaves a row that is safe to
send again; a crash after it leaves a row whose fate is unknown, and only
that narrow window (dot → 250 → row marked sent) can cost a message.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import smtplib
import socket
import sys
from collections.abc import Callable
from email import generator
from email._policybase import Compat32
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

CRLF = b"\r\n"
DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"


class DeliveryUnconfirmed(smtplib.SMTPException):
    """The final dot was sent but no answer came back: the server may or may
    not have accepted the message."""


class CommitPointMixin:
    """smtplib.SMTP whose DATA calls `commit_point()` just before the dot.
    If the callback raises, the connection is dropped without the dot, so the
    server discards the message."""

    commit_point: Callable[[], None] | None = None
    # Seconds to wait for each answer once connected (None: the connect timeout).
    reply_timeout: float | None = None

    def connect(self, host="localhost", port=0, source_address=None):
        reply = super().connect(host, port, source_address)
        # EMAIL_TIMEOUT bounds the connect; a relay that then answers slowly
        # (greylisting, content scanning) is waited for, so a slow but
        # working relay delivers instead of leaving "unconfirmed" rows.
        wait = self.reply_timeout or settings.REMINDER_SMTP_REPLY_TIMEOUT
        if wait and self.sock is not None:
            self.sock.settimeout(max(wait, self.timeout or 0))
        return reply

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        # The final dot goes out in a write of its own; without NODELAY,
        # Nagle's algorithm holds it for the server's delayed ACK (~40 ms).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def data(self, msg):  # noqa: D102 - same contract as smtplib.SMTP.data
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = re.sub(r"(?:\r\n|\n|\r(?!\n))", "\r\n", msg).encode("ascii")
        body = re.sub(rb"(?m)^\.", b"..", msg)
        if not body.endswith(CRLF):
            body += CRLF
        self.send(body)
        if self.commit_point is not None:
            try:
                self.commit_point()
            except BaseException:
                self.close()
                raise
        try:
            self.send(b"." + CRLF)
            return self.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise DeliveryUnconfirmed(f"No answer from the mail server after the message: {exc}") from exc


class CommitPointSMTP(CommitPointMixin, smtplib.SMTP):
    pass


class CommitPointSMTP_SSL(CommitPointMixin, smtplib.SMTP_SSL):  # noqa: N801 - mirrors smtplib
    pass


# -- the message's bytes ------------------------------------------------------------
# Django writes a message with the standard library's generator, which for
# each multipart compiles a regular expression to check that its random
# boundary is not in the text, and folds every header through email.header
# even when it fits on its line: together about half the message's MIME
# cost. The same bytes, cheaper (tests compare both writers byte for byte).


class _Generator(generator.BytesGenerator):
    """BytesGenerator that writes a header fitting on its line as it is. Under
    the compat32 policy Django's messages use, folding such a header gives
    back the header unchanged; anything else is folded as before."""

    def _write_headers(self, msg):
        policy = self.policy
        if not isinstance(policy, Compat32):
            return super()._write_headers(msg)
        limit, nl = policy.max_line_length or sys.maxsize, self._NL
        for name, value in msg.raw_items():
            if (
                type(value) is str
                and len(name) + len(value) + 2 <= limit
                and value.isascii()
                and "\n" not in value
                and "\r" not in value
            ):
                self._fp.write(f"{name}: {value}{nl}".encode("ascii"))
            else:
                self._fp.write(policy.fold_binary(name, value))
        self.write(nl)
        return None


def _boundary() -> str:
    # The standard library's form; 63 random bits nobody can guess, so no
    # text contains it (the generator's check is for its guessable tokens).
    return "=" * 15 + f"{secrets.randbelow(sys.maxsize):019d}" + "=="


def message_bytes(email_message: EmailMessage) -> bytes:
    """What Django's SMTP backend sends for `email_message` (message() then
    as_bytes with CRLF), written by _Generator with the boundaries chosen
    up front."""
    message = email_message.message()
    for part in message.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(_boundary())
    out = BytesIO()
    _Generator(out, mangle_from_=False).flatten(message, linesep="\r\n")
    return out.getvalue()


# Every message of a sweep has the same sender: parse it once.
_sender = functools.lru_cache(maxsize=16)(sanitize_address)


class CommitPointSMTPBackend(EmailBackend):
    """Django's SMTP backend (same settings) on the commit-point connection,
    waiting REMINDER_SMTP_REPLY_TIMEOUT for each answer once connected, and
    writing each message's bytes with message_bytes."""

    @property
    def connection_class(self):
        return CommitPointSMTP_SSL if self.use_ssl else CommitPointSMTP

    def _send(self, email_message):
        """Django's _send, with the message's bytes from message_bytes."""
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = _sender(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        try:
            self.connection.sendmail(from_email, recipients, message_bytes(email_message))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


def open_backend():
    """The configured backend; plain SMTP gets the commit point."""
    backend = settings.EMAIL_BACKEND
    if backend == DJANGO_SMTP:
        backend = "appointments.reminders.mail.CommitPointSMTPBackend"
    return get_connection(backend=backend)


def send_one(backend, message: EmailMessage, commit_point: Callable[[], None]) -> None:
    """Send `message`, calling `commit_point` at the last moment it can still
    stop the message. Raises on any failure; the caller resets the backend."""
    if isinstance(backend, CommitPointSMTPBackend):
        handed_over = False

        def guarded() -> None:
            nonlocal handed_over
            handed_over = True
            commit_point()

        for attempt in (1, 2):
            reused = backend.connection is not None
            backend.open()
            backend.connection.commit_point = guarded
            try:
                sent = backend.send_messages([message])
                break
            except smtplib.SMTPServerDisconnected:
                # The server dropped an idle connection before this message
                # began: nothing was handed over, so reconnect once.
                if handed_over or not reused or attempt == 2:
                    raise
                reset_backend(backend)
            finally:
                if backend.connection is not None:
                    backend.connection.commit_point = None
    else:
        # File, console and in-memory backends write in one local step.
        commit_point()
        sent = backend.send_messages([message])
    if sent != 1:
        raise smtplib.SMTPException("The mail backend did not send the message.")


def reset_backend(backend) -> None:
    """After a failure the SMTP connection may be half-dead: drop it, the
    next message reconnects."""
    with contextlib.suppress(Exception):  # closing a broken connection may fail any way
        backend.close()
    if isinstance(backend, EmailBackend):
        backend.connection = None
