"""Stdlib mail clients logged in to a test stack, and a plain test message.

What tests and the demo use to talk to the servers the way a user's client
does: imaplib, poplib and smtplib, TLS without certificate checks (the stack's
certificate is self-signed).
"""

import email.message
import email.utils
import imaplib
import itertools
import poplib
import re
import smtplib
import socket

from .probe import client_tls_context
from .procs import HarnessError

HOST = "127.0.0.1"
TIMEOUT = 10
# Dovecot slows every login from an address that failed one (auth penalty: 2 s,
# growing to 15 s, also for SMTP AUTH through Postfix). Tests that fail a login
# on purpose connect from an address of their own, so no login waits.
_failing = itertools.count(2)


def failing_source():
    """A fresh loopback address (127.0.0.2, .3, ...) to fail a login from."""
    n = next(_failing)
    return "127.0.%d.%d" % (n // 250, n % 250 + 2)


def _connect(port, timeout, source):
    return socket.create_connection((HOST, port), timeout, (source, 0) if source else None)


class _IMAP4(imaplib.IMAP4):
    def __init__(self, port, source, timeout):
        self._source = source
        super().__init__(HOST, port, timeout)

    def _create_socket(self, timeout):
        return _connect(self.port, timeout, self._source)


class _IMAP4_SSL(imaplib.IMAP4_SSL):
    def __init__(self, port, source, timeout):
        self._source = source
        super().__init__(HOST, port, ssl_context=client_tls_context(), timeout=timeout)

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(_connect(self.port, timeout, self._source),
                                            server_hostname=self.host)


class _POP3(poplib.POP3):
    def __init__(self, port, source, timeout):
        self._source = source
        super().__init__(HOST, port, timeout)

    def _create_socket(self, timeout):
        return _connect(self.port, timeout, self._source)


class _POP3_SSL(poplib.POP3_SSL):
    def __init__(self, port, source, timeout):
        self._source = source
        super().__init__(HOST, port, timeout=timeout, context=client_tls_context())

    def _create_socket(self, timeout):
        return self.context.wrap_socket(_connect(self.port, timeout, self._source),
                                        server_hostname=self.host)


def message(sender, rcpt, subject="test", body="Hello.\n", size=None):
    """An RFC 5322 message as bytes; size pads the body to about that many bytes."""
    msg = email.message.EmailMessage()
    msg["From"] = sender
    msg["To"] = rcpt
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="test.example.net")
    if size:
        line = "x" * 76 + "\n"
        body = body + line * max(0, (size - len(body)) // len(line))
    msg.set_content(body)
    return msg.as_bytes()


def imap(stack, account=None, tls=False, starttls=False, login=True, source=None):
    """An IMAP4 connection (IMAPS if tls), logged in as account (an Account or address).
    source: the local address to connect from (see failing_source)."""
    if tls:
        conn = _IMAP4_SSL(stack.ports["imaps"], source, TIMEOUT)
    else:
        conn = _IMAP4(stack.ports["imap"], source, TIMEOUT)
        if starttls:
            conn.starttls(ssl_context=client_tls_context())
    if login and account is not None:
        a = stack.account(account)
        conn.login(a.address, a.password)
    return conn


def pop3(stack, account=None, tls=False, login=True, source=None):
    """A POP3 connection (POP3S if tls) in TRANSACTION state for account."""
    if tls:
        conn = _POP3_SSL(stack.ports["pop3s"], source, TIMEOUT)
    else:
        conn = _POP3(stack.ports["pop3"], source, TIMEOUT)
    if login and account is not None:
        a = stack.account(account)
        conn.user(a.address)
        conn.pass_(a.password)
    return conn


def smtp(stack, listener="mx", account=None, starttls=None, helo="client.example.net",
         source=None):
    """An SMTP session on listener (mx, submission, submission26, submissions).
    starttls defaults to on for the submission ports; account logs in after it."""
    port = stack.ports[listener]
    src = (source, 0) if source else None
    if listener == "submissions":
        conn = smtplib.SMTP_SSL(HOST, port, context=client_tls_context(), timeout=TIMEOUT,
                                local_hostname=helo, source_address=src)
    else:
        conn = smtplib.SMTP(HOST, port, timeout=TIMEOUT, local_hostname=helo,
                            source_address=src)
        if starttls if starttls is not None else listener.startswith("submission"):
            conn.starttls(context=client_tls_context())
    conn.ehlo()
    if account is not None:
        a = stack.account(account)
        conn.login(a.address, a.password)
    return conn


def lmtp(stack):
    """An LMTP session to the stack's Dovecot, after LHLO."""
    conn = smtplib.LMTP(HOST, stack.ports["lmtp"], timeout=TIMEOUT)
    conn.ehlo("harness.example.net")
    return conn


def lmtp_send(stack, rcpts, message, sender="sender@example.net"):
    """One LMTP transaction: {recipient: (code, text)}, the RCPT reply for a refused
    recipient, else the recipient's own reply after DATA (LMTP answers DATA once
    per accepted recipient; smtplib's sendmail reads only the first)."""
    rcpts = [rcpts] if isinstance(rcpts, str) else list(rcpts)
    conn = lmtp(stack)
    try:
        code, text = conn.mail(sender)
        if code != 250:
            raise HarnessError("LMTP MAIL FROM:<%s> answered %d %s" % (sender, code, text))
        result = {}
        accepted = []
        for rcpt in rcpts:
            code, text = conn.rcpt(rcpt)
            if code == 250:
                accepted.append(rcpt)
            else:
                result[rcpt] = (code, text)
        if accepted:
            code, text = conn.docmd("DATA")
            if code != 354:
                raise HarnessError("LMTP DATA answered %d %s" % (code, text))
            data = message if isinstance(message, bytes) else message.encode()
            data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
            data = re.sub(rb"(?m)^\.", b"..", data)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data + b".\r\n")
            for rcpt in accepted:
                result[rcpt] = conn.getreply()
        conn.quit()
        return result
    finally:
        conn.close()


def append(conn, mailbox, message, flags=None, date_time=None):
    """IMAP APPEND that raises unless the server answers OK; returns the tagged
    response text (with APPENDUID). For a NO ([OVERQUOTA] ...) the HarnessError
    carries it; use conn.append directly to assert on a refusal."""
    typ, data = conn.append(mailbox, flags, date_time, message)
    if typ != "OK":
        raise HarnessError("APPEND to %s answered %s %r" % (mailbox, typ, data))
    return data[0]
