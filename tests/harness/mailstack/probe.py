"""Readiness probes: a port is ready when its server greets as its protocol says.

IMAP answers `* OK`, POP3 `+OK`, SMTP and LMTP `220`, over TLS for the implicit
TLS ports; Redis answers PING with +PONG; a milter answers option negotiation.
"""

import socket
import ssl
import struct
import time

from .procs import HarnessError


def client_tls_context():
    """TLS context for the test clients: the stack's certificate is self-signed."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _recv_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def greeting(port, tls=False, timeout=2.0, host="127.0.0.1"):
    """The first line the server on port sends."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        if tls:
            with client_tls_context().wrap_socket(raw) as sock:
                return _recv_line(sock)
        return _recv_line(raw)


def redis_command(port, *args, timeout=2.0):
    """Send one command to Redis, return its first reply line."""
    cmd = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        cmd += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(cmd)
        return _recv_line(sock)


def milter_optneg(port, timeout=2.0):
    """Negotiate with the milter on port as an MTA would; return its reply command byte."""
    body = b"O" + struct.pack("!III", 6, 0x1ff, 0x1fffff)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!I", len(body)) + body)
        head = sock.recv(5)
        if len(head) < 5:
            raise OSError("milter closed the connection during negotiation")
        return chr(head[4])


def probe(kind, port):
    """One attempt: the server's answer, or raise OSError/ValueError."""
    if kind == "redis":
        reply = redis_command(port, "PING")
        expect = "+PONG"
    elif kind == "milter":
        reply = milter_optneg(port)
        expect = "O"
    else:
        expect, tls = {
            "imap": ("* OK", False), "imaps": ("* OK", True),
            "pop3": ("+OK", False), "pop3s": ("+OK", True),
            "smtp": ("220", False), "smtps": ("220", True),
        }[kind]
        reply = greeting(port, tls=tls)
    if not reply.startswith(expect):
        raise ValueError("expected %r, got %r" % (expect, reply))
    return reply


def wait_ready(checks, timeout, describe_failure=None):
    """Wait until every (label, kind, port) in checks answers; return {label: greeting}.
    On timeout raise HarnessError naming what did not answer, with
    describe_failure() (log tails) appended."""
    deadline = time.monotonic() + timeout
    pending = list(checks)
    answers = {}
    last_error = {}
    while pending:
        for check in list(pending):
            label, kind, port = check
            try:
                answers[label] = probe(kind, port)
                pending.remove(check)
            except (OSError, ValueError, ssl.SSLError) as e:
                last_error[label] = "%s port %d: %s" % (label, port, e)
        if not pending:
            break
        if time.monotonic() > deadline:
            msg = "not ready after %.0f s:\n  %s" % (
                timeout, "\n  ".join(last_error[c[0]] for c in pending))
            if describe_failure:
                msg += "\n" + describe_failure()
            raise HarnessError(msg)
        time.sleep(0.05)
    return answers
