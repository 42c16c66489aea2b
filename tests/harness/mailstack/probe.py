"""Readiness probes: a port is ready when its server greets as its protocol says.

IMAP answers `* OK`, POP3 `+OK`, SMTP and LMTP `220`, over TLS for the implicit
TLS ports; Redis answers PING with +PONG; a milter answers option negotiation.
"""

import os
import re
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


def _resp(f):
    """One RESP reply from the file f: str, int, None, list; an error raises."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2].decode(errors="replace")
    if kind == b"+":
        return rest
    if kind == b"-":
        raise ValueError("Redis answered -%s" % rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp(f) for _ in range(n)]
    raise ValueError("not a Redis reply: %r" % line)


def redis_value(port, *args, timeout=2.0):
    """Send one command to Redis, return its reply parsed (str, int, None, list)."""
    cmd = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else (b"%d" % a if isinstance(a, int) else a)
        cmd += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(cmd)
        with sock.makefile("rb") as f:
            return _resp(f)


def milter_optneg(port, timeout=2.0):
    """Negotiate with the milter on port (a TCP port on 127.0.0.1, or the host path
    of a unix socket) as an MTA would; return its reply command byte."""
    body = b"O" + struct.pack("!III", 6, 0x1ff, 0x1fffff)
    if isinstance(port, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            if len(port) < 100:
                sock.connect(port)
            else:
                # Inside a chroot tree deep in a build directory the host path
                # can pass AF_UNIX's 108 bytes: connect relative to its directory.
                cwd = os.open(".", os.O_RDONLY)
                try:
                    os.chdir(os.path.dirname(port))
                    sock.connect(os.path.basename(port))
                finally:
                    os.fchdir(cwd)
                    os.close(cwd)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    with sock:
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
        # Postfix greets with 554 when a dead milter's default action is reject:
        # still a server answering on its port.
        if expect == "220" and re.match(r"^554 ", reply):
            return reply
    if not reply.startswith(expect):
        raise ValueError("expected %r, got %r" % (expect, reply))
    return reply


def wait_ready(checks, timeout, describe_failure=None, dead=None):
    """Wait until every (label, kind, port) in checks answers; return {label: greeting}.
    dead(): the labels of servers that died meanwhile; one that died fails at
    once instead of at the timeout. On timeout or death raise HarnessError naming
    what did not answer, with describe_failure() (log tails) appended."""
    deadline = time.monotonic() + timeout
    pending = list(checks)
    answers = {}
    last_error = {}
    while pending:
        gone = dead() if dead else []
        if gone:
            msg = "%s exited while starting (before it answered)" % ", ".join(gone)
            if describe_failure:
                msg += "\n" + describe_failure()
            raise HarnessError(msg)
        for check in list(pending):
            label, kind, port = check
            try:
                answers[label] = probe(kind, port)
                pending.remove(check)
            except (OSError, ValueError, ssl.SSLError) as e:
                last_error[label] = "%s %s: %s" % (label, port, e)
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
